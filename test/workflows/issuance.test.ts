import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { issuanceWorkflowId } from '@nova/domain';
import { issuanceMemo } from '@nova/domain/memos';
import type { IssuanceLedgerActivities, PaymentActivities } from '@nova/activities';
import { type IssuanceWorkflowInput } from '@nova/workflows/definitions';
import { quietTemporalRuntime, uniqueTaskQueue } from '../support/environment';
import { createTimeSkippingEnvironment } from '../support/time-skipping';

quietTemporalRuntime();

type Activities = IssuanceLedgerActivities & PaymentActivities;

/** Activities typed as the real ones; each records its calls and can be overridden per test. */
function mockActivities(overrides: Partial<Activities> = {}) {
  const calls: { name: string; input: unknown }[] = [];
  const record = <K extends keyof Activities>(name: K, fallback: Activities[K]): Activities[K] =>
    (async (input: unknown) => {
      calls.push({ name, input });
      const implementation = (overrides[name] ?? fallback) as (input: unknown) => Promise<unknown>;
      return await implementation(input);
    }) as Activities[K];
  const activities: Activities = {
    reserveBudget: record('reserveBudget', async () => ({ reserved: true })),
    markIssuanceSubmitted: record('markIssuanceSubmitted', async () => undefined),
    confirmIssuance: record('confirmIssuance', async () => undefined),
    failIssuance: record('failIssuance', async () => undefined),
    checkTrustline: record('checkTrustline', async () => ({ status: 'ok' })),
    submitPayment: record('submitPayment', async () => ({
      txHash: 'ab'.repeat(32),
      ledger: 42,
      attempt: 1,
      alreadyPaid: false,
    })),
    resolvePayment: record('resolvePayment', async () => ({ paid: false })),
    submitHolderPayment: record('submitHolderPayment', async () => {
      throw new Error('an issuance never submits a holder-signed envelope');
    }),
  };
  return { activities, calls, names: () => calls.map((c) => c.name) };
}

describe('issuanceWorkflow (time-skipping server, mocked activities)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  function input(overrides: Partial<IssuanceWorkflowInput> = {}): IssuanceWorkflowInput {
    const issuanceId = randomUUID();
    return {
      issuanceId,
      merchantId: randomUUID(),
      campaignId: randomUUID(),
      walletAddress: 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H',
      amount: '12.5',
      amountStroops: '125000000',
      memo: issuanceMemo(issuanceId),
      run: 1,
      paymentBudgetSeconds: 3600,
      ...overrides,
    };
  }

  async function run(mock: ReturnType<typeof mockActivities>, workflowInput = input()) {
    const taskQueue = uniqueTaskQueue('issuance-wf');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('@nova/workflows'),
      activities: mock.activities,
    });
    return await worker.runUntil(
      env.client.workflow.execute('issuanceWorkflow', {
        workflowId: issuanceWorkflowId(workflowInput.issuanceId),
        taskQueue,
        args: [workflowInput],
      }),
    );
  }

  async function failureType(promise: Promise<unknown>): Promise<string | undefined> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof WorkflowFailedError, String(error));
      assert.ok(error.cause instanceof ApplicationFailure);
      return error.cause.type ?? undefined;
    }
    assert.fail('expected the workflow to fail');
  }

  it('happy path: reserve, check, pay, confirm', async () => {
    const mock = mockActivities();
    const workflowInput = input();
    const outcome = await run(mock, workflowInput);
    assert.deepEqual(outcome, { status: 'confirmed', txHash: 'ab'.repeat(32), ledger: 42, alreadyPaid: false });
    assert.deepEqual(mock.names(), [
      'reserveBudget',
      'checkTrustline',
      'markIssuanceSubmitted',
      'submitPayment',
      'confirmIssuance',
    ]);
    // The run begins with the reservation, in one transaction.
    assert.deepEqual(mock.calls[0]?.input, { issuanceId: workflowInput.issuanceId, run: 1 });
    assert.deepEqual(mock.calls.find((c) => c.name === 'submitPayment')?.input, {
      businessKey: `issuance/${workflowInput.issuanceId}`,
      walletAddress: workflowInput.walletAddress,
      amountStroops: '125000000',
      memo: workflowInput.memo,
    });
    assert.deepEqual(mock.calls.at(-1)?.input, {
      issuanceId: workflowInput.issuanceId,
      txHash: 'ab'.repeat(32),
      ledger: 42,
    });
  });

  it('budget exhausted: fails with the reservation type, pays nothing, compensates', async () => {
    const mock = mockActivities({
      reserveBudget: async () => {
        throw ApplicationFailure.nonRetryable('no budget left', 'CampaignBudgetExhausted');
      },
    });
    assert.equal(await failureType(run(mock)), 'CampaignBudgetExhausted');
    assert.deepEqual(mock.names(), ['reserveBudget', 'failIssuance']);
    assert.equal((mock.calls.at(-1)?.input as { failureType: string }).failureType, 'CampaignBudgetExhausted');
  });

  for (const [status, type] of [
    ['trustline-missing', 'TrustlineMissing'],
    ['account-missing', 'AccountNotFound'],
    ['not-authorized', 'TrustlineNotAuthorized'],
  ] as const) {
    it(`${status}: fails ${type} before any payment and releases the reservation`, async () => {
      const mock = mockActivities({ checkTrustline: async () => ({ status }) });
      assert.equal(await failureType(run(mock)), type);
      assert.deepEqual(mock.names(), ['reserveBudget', 'checkTrustline', 'failIssuance']);
    });
  }

  it('a final payment rejection: settles the payment first, then fails with its type', async () => {
    const mock = mockActivities({
      submitPayment: async () => {
        throw ApplicationFailure.nonRetryable('op_no_trust', 'TrustlineMissing');
      },
    });
    assert.equal(await failureType(run(mock)), 'TrustlineMissing');
    assert.deepEqual(mock.names().slice(-2), ['resolvePayment', 'failIssuance']);
  });

  it('retryable errors past the payment budget: RetriesExhausted, reservation released', async () => {
    let attempts = 0;
    const mock = mockActivities({
      submitPayment: async () => {
        attempts += 1;
        throw ApplicationFailure.retryable('Horizon 503', 'StellarUnavailable');
      },
    });
    assert.equal(await failureType(run(mock, input({ paymentBudgetSeconds: 120 }))), 'RetriesExhausted');
    assert.ok(attempts > 1, `retried (${attempts} attempts)`);
    assert.deepEqual(mock.names().slice(-2), ['resolvePayment', 'failIssuance']);
  });

  it('retries exhausted but the payment landed after all: confirmed, not failed', async () => {
    const mock = mockActivities({
      submitPayment: async () => {
        throw ApplicationFailure.retryable('504', 'SubmissionIndeterminate');
      },
      resolvePayment: async () => ({ paid: true, txHash: 'cd'.repeat(32), ledger: 7, attempt: 1, alreadyPaid: true }),
    });
    const outcome = await run(mock, input({ paymentBudgetSeconds: 60 }));
    assert.deepEqual(outcome, { status: 'confirmed', txHash: 'cd'.repeat(32), ledger: 7, alreadyPaid: true });
    assert.equal(mock.names().at(-1), 'confirmIssuance');
    assert.ok(!mock.names().includes('failIssuance'));
  });
});

describe('issuance memo', () => {
  it('fits Stellar text memos and is distinct per issuance', () => {
    const a = issuanceMemo('00000000-0000-4000-8000-000000000001');
    const b = issuanceMemo('00000000-0000-4000-8000-000000000002');
    assert.notEqual(a, b);
    assert.ok(Buffer.byteLength(a) <= 28);
    assert.equal(a, `nv:${Buffer.from('00000000000040008000000000000001', 'hex').toString('base64url')}`);
  });
});
