import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { redemptionWorkflowId } from '@nova/domain';
import { redemptionRefundMemo } from '@nova/domain/memos';
import type { PaymentActivities, RedemptionContractActivities, RedemptionLedgerActivities } from '@nova/activities';
import {
  fulfilRedemptionUpdate,
  NOT_AWAITING_FULFILMENT,
  redemptionProgressQuery,
  rejectRedemptionUpdate,
  type RedemptionWorkflowInput,
} from '@nova/workflows/definitions';
import { eventually, quietTemporalRuntime, uniqueTaskQueue } from '../support/environment';
import { createTimeSkippingEnvironment } from '../support/time-skipping';

quietTemporalRuntime();

type Activities = RedemptionLedgerActivities & RedemptionContractActivities & PaymentActivities;

const PAYMENT_HASH = 'aa'.repeat(32);

/** An activity still in flight until its cancellation reaches it, through its heartbeats (as the journal's do). */
async function inFlightUntilCancelled(): Promise<never> {
  const context = Context.current();
  const beat = setInterval(() => context.heartbeat('in flight'), 100);
  try {
    await context.cancelled;
  } finally {
    clearInterval(beat);
  }
  throw new Error('unreachable: cancelled rejects');
}
const REFUND_HASH = 'bb'.repeat(32);

/** The workflow's local activities (its read model). */
const READ_MODEL_ACTIVITIES = new Set([
  'holdRedemptionStock',
  'releaseRedemptionStock',
  'recordRedemptionChainState',
  'markRedemptionPaid',
  'fulfilRedemption',
  'refundRedemption',
  'failRedemption',
]);

/** Activities typed as the real ones; each records its calls and can be overridden per test. */
function mockActivities(overrides: Partial<Activities> = {}) {
  const calls: { name: string; input: unknown }[] = [];
  const record = <K extends keyof Activities>(name: K, fallback: Activities[K]): Activities[K] =>
    (async (input: unknown) => {
      calls.push({ name, input });
      const implementation = (overrides[name] ?? fallback) as (input: unknown) => Promise<unknown>;
      return await implementation(input);
    }) as Activities[K];
  const none = async () => undefined;
  const activities: Activities = {
    holdRedemptionStock: record('holdRedemptionStock', async () => ({ held: true })),
    releaseRedemptionStock: record('releaseRedemptionStock', none),
    recordRedemptionChainState: record('recordRedemptionChainState', none),
    markRedemptionPaid: record('markRedemptionPaid', async () => ({})),
    fulfilRedemption: record('fulfilRedemption', none),
    refundRedemption: record('refundRedemption', none),
    failRedemption: record('failRedemption', none),
    openRedemptionOnChain: record('openRedemptionOnChain', async () => ({ txHash: 'c1'.repeat(32), ledger: 5 })),
    confirmRedemptionOnChain: record('confirmRedemptionOnChain', async () => ({ txHash: 'c2'.repeat(32), ledger: 9 })),
    cancelRedemptionOnChain: record('cancelRedemptionOnChain', async () => ({ txHash: 'c3'.repeat(32), ledger: 9 })),
    submitHolderPayment: record('submitHolderPayment', async () => ({
      txHash: PAYMENT_HASH,
      ledger: 7,
      attempt: 1,
      alreadyPaid: false,
    })),
    submitPayment: record('submitPayment', async () => ({
      txHash: REFUND_HASH,
      ledger: 11,
      attempt: 1,
      alreadyPaid: false,
    })),
    checkTrustline: record('checkTrustline', async () => {
      throw new Error('a redemption checks no trustline');
    }),
    resolvePayment: record('resolvePayment', async () => ({ paid: false })),
  };
  return {
    activities,
    calls,
    names: () => calls.map((c) => c.name),
    /**
     * The calls in order, a read-model call (a local activity) counted once per input: local
     * activities run at least once, and a workflow task that times out (a loaded machine) runs
     * again those made since the last task completed. Payments and contract calls all count.
     */
    steps: () => {
      const seen = new Set<string>();
      return calls
        .filter((c) => {
          if (!READ_MODEL_ACTIVITIES.has(c.name)) return true;
          const key = `${c.name} ${JSON.stringify(c.input)}`;
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        })
        .map((c) => c.name);
    },
    inputOf: (name: keyof Activities) => calls.find((c) => c.name === name)?.input,
  };
}

describe('redemptionWorkflow (time-skipping server, mocked activities)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  function input(overrides: Partial<RedemptionWorkflowInput> = {}): RedemptionWorkflowInput {
    const redemptionId = randomUUID();
    return {
      redemptionId,
      merchantId: randomUUID(),
      itemId: randomUUID(),
      walletAddress: 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H',
      price: '25.0000000',
      priceStroops: '250000000',
      fulfilment: 'automatic',
      signedEnvelopeXdr: 'AAAA-signed-by-the-holder',
      fulfilmentDeadlineSeconds: 72 * 3600,
      refundMemo: redemptionRefundMemo(redemptionId),
      ...overrides,
    };
  }

  /** Runs the workflow to its end; `during` gets its handle while it runs (for updates). */
  async function run(
    mock: ReturnType<typeof mockActivities>,
    workflowInput: RedemptionWorkflowInput,
    during?: (handle: WorkflowHandle) => Promise<void>,
  ): Promise<unknown> {
    const taskQueue = uniqueTaskQueue('redemption-wf');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('@nova/workflows'),
      activities: mock.activities,
    });
    return await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('redemptionWorkflow', {
        workflowId: redemptionWorkflowId(workflowInput.redemptionId),
        taskQueue,
        args: [workflowInput],
      });
      if (during) await during(handle);
      return await handle.result();
    });
  }

  async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof WorkflowFailedError, String(error));
      assert.ok(error.cause instanceof ApplicationFailure);
      return error.cause;
    }
    assert.fail('expected the workflow to fail');
  }

  /** Waits (by the workflow's own query) until a manual item is waiting for the merchant. */
  async function awaitingFulfilment(handle: WorkflowHandle): Promise<void> {
    await eventually(
      async () => {
        const progress = await handle.query(redemptionProgressQuery);
        assert.equal(progress.step, 'awaiting-fulfilment');
        return progress;
      },
      { what: 'the redemption waiting for fulfilment' },
    );
  }

  it('automatic item: reserve, open on chain, pay exactly as signed, paid, confirm on chain, fulfilled', async () => {
    const mock = mockActivities();
    const workflowInput = input();
    const outcome = await run(mock, workflowInput);
    assert.deepEqual(outcome, { status: 'fulfilled', paymentTxHash: PAYMENT_HASH });
    assert.deepEqual(mock.names(), [
      'holdRedemptionStock',
      'openRedemptionOnChain',
      'recordRedemptionChainState',
      'submitHolderPayment',
      'markRedemptionPaid',
      'confirmRedemptionOnChain',
      'fulfilRedemption',
    ]);
    assert.deepEqual(mock.inputOf('submitHolderPayment'), {
      redemptionId: workflowInput.redemptionId,
      envelopeXdr: workflowInput.signedEnvelopeXdr,
    });
    assert.deepEqual(mock.inputOf('openRedemptionOnChain'), {
      redemptionId: workflowInput.redemptionId,
      merchantId: workflowInput.merchantId,
      walletAddress: workflowInput.walletAddress,
      priceStroops: '250000000',
    });
    // An automatic item has no fulfilment deadline.
    assert.deepEqual(mock.inputOf('markRedemptionPaid'), {
      redemptionId: workflowInput.redemptionId,
      txHash: PAYMENT_HASH,
    });
  });

  it('the holder’s payment refused for good: cancel on chain, then release the unit (reverse order), failed with its type, no refund', async () => {
    const mock = mockActivities({
      submitHolderPayment: async () => {
        throw ApplicationFailure.nonRetryable('op_underfunded', 'HolderUnderfunded');
      },
    });
    const workflowInput = input();
    const failure = await failureOf(run(mock, workflowInput));
    assert.equal(failure.type, 'HolderUnderfunded');
    assert.deepEqual(mock.names(), [
      'holdRedemptionStock',
      'openRedemptionOnChain',
      'recordRedemptionChainState',
      'submitHolderPayment',
      'cancelRedemptionOnChain',
      'recordRedemptionChainState',
      'releaseRedemptionStock',
      'failRedemption',
    ]);
    assert.deepEqual(mock.inputOf('cancelRedemptionOnChain'), {
      redemptionId: workflowInput.redemptionId,
      reason: 'payment_failed',
    });
    assert.deepEqual(mock.calls.at(-1)?.input, {
      redemptionId: workflowInput.redemptionId,
      failureType: 'HolderUnderfunded',
      message: 'op_underfunded',
    });
    assert.ok(!mock.names().includes('submitPayment'), 'nothing was paid, so nothing is refunded');
  });

  it('the envelope expired before it landed: QuoteExpired, compensated', async () => {
    const mock = mockActivities({
      submitHolderPayment: async () => {
        throw ApplicationFailure.nonRetryable('did not land before its time bound', 'QuoteExpired');
      },
    });
    const failure = await failureOf(run(mock, input()));
    assert.equal(failure.type, 'QuoteExpired');
    assert.deepEqual(mock.steps().slice(-3), [
      'recordRedemptionChainState',
      'releaseRedemptionStock',
      'failRedemption',
    ]);
  });

  it('the contract refuses open: the cancel finds no record (none recorded as cancelled), the unit released, failed RedemptionFailed naming the cause', async () => {
    const mock = mockActivities({
      openRedemptionOnChain: async () => {
        throw ApplicationFailure.nonRetryable('open refused by contract: InvalidAmount (#5)', 'InvalidAmount');
      },
      cancelRedemptionOnChain: async () => ({ found: 'missing' }),
    });
    const failure = await failureOf(run(mock, input()));
    assert.equal(failure.type, 'RedemptionFailed');
    assert.match(failure.message, /^InvalidAmount: open refused/);
    assert.deepEqual(mock.names(), [
      'holdRedemptionStock',
      'openRedemptionOnChain',
      'cancelRedemptionOnChain',
      'releaseRedemptionStock',
      'failRedemption',
    ]);
    assert.ok(!mock.names().includes('resolvePayment'), 'no payment was started: nothing to settle');
  });

  it('a compensation that cannot succeed: the others still run, and it fails CompensationFailed with an alert', async () => {
    const mock = mockActivities({
      submitHolderPayment: async () => {
        throw ApplicationFailure.nonRetryable('tx_bad_seq', 'SequenceMismatch');
      },
      cancelRedemptionOnChain: async () => {
        throw ApplicationFailure.nonRetryable('cancel refused by contract: NotOpen (#6)', 'NotOpen');
      },
    });
    const workflowInput = input();
    const failure = await failureOf(run(mock, workflowInput));
    assert.equal(failure.type, 'CompensationFailed');
    assert.ok(mock.names().includes('releaseRedemptionStock'), 'the unit is released all the same');
    const failed = mock.inputOf('failRedemption') as { failureType: string; message: string; alert?: string };
    assert.equal(failed.failureType, 'CompensationFailed');
    assert.equal(failed.message, 'SequenceMismatch: tx_bad_seq', 'the original failure is kept in the message');
    assert.match(failed.alert ?? '', /could not cancel the on-chain record: NotOpen: cancel refused/);
  });

  it('retries a compensation until it succeeds', async () => {
    let releases = 0;
    const mock = mockActivities({
      submitHolderPayment: async () => {
        throw ApplicationFailure.nonRetryable('op_src_no_trust', 'HolderTrustlineMissing');
      },
      releaseRedemptionStock: async () => {
        releases += 1;
        if (releases < 3) throw new Error('database unreachable');
      },
    });
    const failure = await failureOf(run(mock, input()));
    assert.equal(failure.type, 'HolderTrustlineMissing');
    assert.equal(releases, 3);
    assert.equal((mock.inputOf('failRedemption') as { alert?: string }).alert, undefined);
  });

  it('manual item fulfilled by the merchant’s update: paid with a deadline, then confirmed on chain', async () => {
    const mock = mockActivities();
    const workflowInput = input({ fulfilment: 'manual' });
    const outcome = await run(mock, workflowInput, async (handle) => {
      await awaitingFulfilment(handle);
      const progress = await handle.executeUpdate(fulfilRedemptionUpdate);
      assert.equal(progress.status, 'paid');
    });
    assert.deepEqual(outcome, { status: 'fulfilled', paymentTxHash: PAYMENT_HASH });
    assert.deepEqual(mock.inputOf('markRedemptionPaid'), {
      redemptionId: workflowInput.redemptionId,
      txHash: PAYMENT_HASH,
      fulfilmentDeadlineSeconds: 72 * 3600,
    });
    assert.deepEqual(mock.steps().slice(-2), ['confirmRedemptionOnChain', 'fulfilRedemption']);
  });

  it('a decision is refused while the redemption is not waiting: before payment, and a second one after the first', async () => {
    let releaseConfirm!: () => void;
    const confirmHeld = new Promise<void>((resolve) => (releaseConfirm = resolve));
    let paymentSeen!: () => void;
    const paymentStarted = new Promise<void>((resolve) => (paymentSeen = resolve));
    let releasePayment!: () => void;
    const paymentHeld = new Promise<void>((resolve) => (releasePayment = resolve));
    const mock = mockActivities({
      submitHolderPayment: async () => {
        paymentSeen();
        await paymentHeld;
        return { txHash: PAYMENT_HASH, ledger: 7, attempt: 1, alreadyPaid: false };
      },
      confirmRedemptionOnChain: async () => {
        await confirmHeld;
        return { txHash: 'c2'.repeat(32), ledger: 9 };
      },
    });
    const refusal = async (update: Promise<unknown>) => {
      const error = await update.then(
        () => assert.fail('the update must be refused'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowUpdateFailedError, String(error));
      assert.ok(error.cause instanceof ApplicationFailure);
      return error.cause;
    };
    const outcome = await run(mock, input({ fulfilment: 'manual' }), async (handle) => {
      await paymentStarted;
      const early = await refusal(handle.executeUpdate(fulfilRedemptionUpdate));
      assert.equal(early.type, NOT_AWAITING_FULFILMENT);
      assert.match(early.message, /is pending, paying/);
      releasePayment();
      await awaitingFulfilment(handle);
      await handle.executeUpdate(fulfilRedemptionUpdate);
      // The first decision was taken; the workflow is confirming it on chain now.
      const second = await refusal(
        handle.executeUpdate(rejectRedemptionUpdate, { args: [{ reason: 'changed my mind' }] }),
      );
      assert.equal(second.type, NOT_AWAITING_FULFILMENT);
      releaseConfirm();
    });
    assert.deepEqual(outcome, { status: 'fulfilled', paymentTxHash: PAYMENT_HASH });
    assert.ok(!mock.names().includes('submitPayment'), 'the refused rejection refunded nothing');
  });

  it('a rejection needs a reason', async () => {
    const mock = mockActivities();
    await run(mock, input({ fulfilment: 'manual' }), async (handle) => {
      await awaitingFulfilment(handle);
      const error = await handle.executeUpdate(rejectRedemptionUpdate, { args: [{ reason: '  ' }] }).then(
        () => assert.fail('refused'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowUpdateFailedError);
      assert.equal((error.cause as ApplicationFailure).type, 'InvalidRejection');
      await handle.executeUpdate(fulfilRedemptionUpdate);
    });
  });

  it('manual item rejected: refund through the journal, then cancel on chain (merchant_declined), then refunded', async () => {
    const mock = mockActivities();
    const workflowInput = input({ fulfilment: 'manual' });
    const outcome = await run(mock, workflowInput, async (handle) => {
      await awaitingFulfilment(handle);
      await handle.executeUpdate(rejectRedemptionUpdate, { args: [{ reason: 'out of this colour' }] });
    });
    assert.deepEqual(outcome, { status: 'refunded', paymentTxHash: PAYMENT_HASH, refundTxHash: REFUND_HASH });
    assert.deepEqual(mock.steps().slice(-5), [
      'submitPayment',
      'cancelRedemptionOnChain',
      'recordRedemptionChainState',
      'releaseRedemptionStock',
      'refundRedemption',
    ]);
    assert.deepEqual(mock.inputOf('submitPayment'), {
      businessKey: `redemption/${workflowInput.redemptionId}/refund`,
      walletAddress: workflowInput.walletAddress,
      amountStroops: '250000000',
      memo: workflowInput.refundMemo,
    });
    assert.deepEqual(mock.inputOf('cancelRedemptionOnChain'), {
      redemptionId: workflowInput.redemptionId,
      reason: 'merchant_declined',
    });
    assert.deepEqual(mock.calls.at(-1)?.input, {
      redemptionId: workflowInput.redemptionId,
      refundTxHash: REFUND_HASH,
      reason: 'RejectedByMerchant',
      message: 'out of this colour',
    });
  });

  it('manual item left alone: refunded when the deadline passes (a durable timer, skipped here)', async () => {
    const mock = mockActivities();
    const workflowInput = input({ fulfilment: 'manual', fulfilmentDeadlineSeconds: 72 * 3600 });
    const outcome = await run(mock, workflowInput);
    assert.deepEqual(outcome, { status: 'refunded', paymentTxHash: PAYMENT_HASH, refundTxHash: REFUND_HASH });
    assert.deepEqual(mock.inputOf('cancelRedemptionOnChain'), {
      redemptionId: workflowInput.redemptionId,
      reason: 'expired',
    });
    const refunded = mock.calls.at(-1)?.input as { reason: string };
    assert.equal(refunded.reason, 'FulfilmentDeadlinePassed');
  });

  it('a refund that cannot be paid: the unit released, the record left open, failed CompensationFailed with an alert', async () => {
    const mock = mockActivities({
      submitPayment: async () => {
        throw ApplicationFailure.nonRetryable('op_no_trust', 'TrustlineMissing');
      },
    });
    const workflowInput = input({ fulfilment: 'manual' });
    const failure = await failureOf(
      run(mock, workflowInput, async (handle) => {
        await awaitingFulfilment(handle);
        await handle.executeUpdate(rejectRedemptionUpdate, { args: [{ reason: 'sold out' }] });
      }),
    );
    assert.equal(failure.type, 'CompensationFailed');
    assert.deepEqual(mock.steps().slice(-3), ['submitPayment', 'releaseRedemptionStock', 'failRedemption']);
    assert.ok(
      !mock.names().includes('cancelRedemptionOnChain'),
      'the holder paid and was not refunded: the record stays open',
    );
    const failed = mock.inputOf('failRedemption') as { failureType: string; alert: string };
    assert.equal(failed.failureType, 'CompensationFailed');
    assert.match(failed.alert, /could not refund 25.0000000 to G[A-Z2-7]{55}: TrustlineMissing/);
  });

  it('a confirmation the contract refuses for good: fulfilled all the same (the holder paid), with an alert', async () => {
    const mock = mockActivities({
      confirmRedemptionOnChain: async () => {
        throw ApplicationFailure.nonRetryable('confirm refused by contract: NotOpen (#6)', 'NotOpen');
      },
    });
    const workflowInput = input();
    const outcome = await run(mock, workflowInput);
    assert.deepEqual(outcome, { status: 'fulfilled', paymentTxHash: PAYMENT_HASH });
    const fulfilled = mock.inputOf('fulfilRedemption') as { confirmedOnChain: boolean; alert?: string };
    assert.equal(fulfilled.confirmedOnChain, false);
    assert.match(fulfilled.alert ?? '', /could not confirm the on-chain record: NotOpen: confirm refused/);
  });

  it('refund landed but the cancel is refused for good: the unit is still released, failed with the refund and an alert', async () => {
    const mock = mockActivities({
      cancelRedemptionOnChain: async () => {
        throw ApplicationFailure.nonRetryable('cancel refused by contract: NotOpen (#6)', 'NotOpen');
      },
    });
    const workflowInput = input({ fulfilment: 'manual' });
    const failure = await failureOf(
      run(mock, workflowInput, async (handle) => {
        await awaitingFulfilment(handle);
        await handle.executeUpdate(rejectRedemptionUpdate, { args: [{ reason: 'no' }] });
      }),
    );
    assert.equal(failure.type, 'CompensationFailed');
    assert.deepEqual(mock.steps().slice(-4), [
      'submitPayment',
      'cancelRedemptionOnChain',
      'releaseRedemptionStock',
      'failRedemption',
    ]);
    const failed = mock.inputOf('failRedemption') as { refundTxHash?: string; alert?: string };
    assert.equal(failed.refundTxHash, REFUND_HASH);
    assert.match(failed.alert ?? '', /could not cancel the on-chain record/);
    assert.ok(!mock.names().includes('refundRedemption'));
  });

  it('cancelled by an operator while the payment is in flight: the envelope is settled first; it landed, so the price is refunded', async () => {
    let paymentSeen!: () => void;
    const paymentStarted = new Promise<void>((resolve) => (paymentSeen = resolve));
    const mock = mockActivities({
      submitHolderPayment: async () => {
        paymentSeen();
        return await inFlightUntilCancelled();
      },
      resolvePayment: async () => ({ paid: true, txHash: PAYMENT_HASH, ledger: 7, attempt: 1, alreadyPaid: true }),
    });
    const workflowInput = input();
    const outcome = await run(mock, workflowInput, async (handle) => {
      await paymentStarted;
      await handle.cancel();
    });
    assert.deepEqual(outcome, { status: 'refunded', paymentTxHash: PAYMENT_HASH, refundTxHash: REFUND_HASH });
    assert.deepEqual(mock.inputOf('resolvePayment'), {
      businessKey: `redemption/${workflowInput.redemptionId}/payment`,
    });
    assert.equal((mock.calls.at(-1)?.input as { reason: string }).reason, 'CancelledByOperator');
    assert.deepEqual(mock.inputOf('cancelRedemptionOnChain'), {
      redemptionId: workflowInput.redemptionId,
      reason: 'cancelled',
    });
  });

  it('cancelled by an operator while the payment is in flight, and it never landed: compensated, failed Cancelled', async () => {
    let paymentSeen!: () => void;
    const paymentStarted = new Promise<void>((resolve) => (paymentSeen = resolve));
    const mock = mockActivities({
      submitHolderPayment: async () => {
        paymentSeen();
        return await inFlightUntilCancelled();
      },
    });
    const failure = await failureOf(
      run(mock, input(), async (handle) => {
        await paymentStarted;
        await handle.cancel();
      }),
    );
    assert.equal(failure.type, 'Cancelled');
    assert.deepEqual(mock.steps().slice(-5), [
      'resolvePayment',
      'cancelRedemptionOnChain',
      'recordRedemptionChainState',
      'releaseRedemptionStock',
      'failRedemption',
    ]);
  });

  it('cancelled by an operator while a manual item waits: refunded (CancelledByOperator)', async () => {
    const mock = mockActivities();
    const outcome = await run(mock, input({ fulfilment: 'manual' }), async (handle) => {
      await awaitingFulfilment(handle);
      await handle.cancel();
    });
    assert.deepEqual(outcome, { status: 'refunded', paymentTxHash: PAYMENT_HASH, refundTxHash: REFUND_HASH });
    assert.equal((mock.calls.at(-1)?.input as { reason: string }).reason, 'CancelledByOperator');
  });
});
