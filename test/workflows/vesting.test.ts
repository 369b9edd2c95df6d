import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import {
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { vestedAt, vestingKeys, vestingReleases, vestingTermsOf, vestingWorkflowId } from '@nova/domain';
import { vestingMemoStem } from '@nova/domain/memos';
import type { PaymentActivities } from '@nova/activities';
import {
  revokeVestingUpdate,
  VESTING_ENDED,
  VESTING_NOT_REVOCABLE,
  vestingProgressQuery,
  type VestingContractActivities,
  type VestingLedgerActivities,
  type VestingOutcome,
  type VestingProgress,
  type VestingWorkflowInput,
} from '@nova/workflows/definitions';
import { eventually, quietTemporalRuntime, uniqueTaskQueue } from '../support/environment';
import { createTimeSkippingEnvironment } from '../support/time-skipping';

quietTemporalRuntime();

type Activities = VestingLedgerActivities & VestingContractActivities & Pick<PaymentActivities, 'submitPayment'>;
type PaymentCall = Parameters<Activities['submitPayment']>[0];

const BENEFICIARY = 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H';
const DAY = 86_400_000;
const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Activities typed as the workflow needs them; each records its calls. A payment lands unless
 * `refuse` says otherwise (a refusal for good, as the journal reports a removed trustline); a
 * landed key pays again only if the workflow asks twice, which the tests assert it never does.
 */
function mockActivities(
  options: { refuse?: (call: PaymentCall) => boolean; onPayment?: (call: PaymentCall) => Promise<void> } = {},
) {
  const calls: { name: string; input: unknown }[] = [];
  const landed: PaymentCall[] = [];
  const refused: PaymentCall[] = [];
  const record =
    <I, O>(name: string, implementation: (input: I) => Promise<O>) =>
    async (input: I): Promise<O> => {
      calls.push({ name, input });
      return await implementation(input);
    };
  const none = async () => undefined;
  const chainCall = async (input: unknown) => ({ txHash: hashOf(JSON.stringify(input)), ledger: 7 });
  const activities: Activities = {
    markVestingRegistered: record('markVestingRegistered', none),
    recordVestingRelease: record('recordVestingRelease', none),
    markVestingStalled: record('markVestingStalled', none),
    completeVesting: record('completeVesting', none),
    revokeVesting: record('revokeVesting', none),
    registerVestingOnChain: record('registerVestingOnChain', chainCall),
    recordVestingReleaseOnChain: record('recordVestingReleaseOnChain', chainCall),
    revokeVestingOnChain: record('revokeVestingOnChain', chainCall),
    submitPayment: record('submitPayment', async (call: PaymentCall) => {
      await options.onPayment?.(call);
      if (options.refuse?.(call)) {
        refused.push(call);
        throw ApplicationFailure.nonRetryable('the beneficiary removed the NOVA trustline', 'TrustlineMissing');
      }
      landed.push(call);
      return { txHash: hashOf(call.businessKey), ledger: 9, attempt: 1, alreadyPaid: false };
    }),
  };
  const inputsOf = <T>(name: string) => calls.filter((c) => c.name === name).map((c) => c.input as T);
  return { activities, calls, landed, refused, inputsOf, names: () => calls.map((c) => c.name) };
}

const sumOf = (calls: { amountStroops: string }[]) => calls.reduce((total, c) => total + BigInt(c.amountStroops), 0n);

describe('vestingWorkflow (time-skipping server, mocked activities)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  /** Terms relative to the test server's clock (whole seconds), starting a day from now. */
  async function input(
    overrides: Partial<VestingWorkflowInput> & { years?: number } = {},
  ): Promise<VestingWorkflowInput> {
    const { years = 4, ...rest } = overrides;
    const now = Math.ceil((await env.currentTimeMs()) / 1000) * 1000;
    const start = new Date(now + DAY);
    const shifted = (y: number) =>
      new Date(
        Date.UTC(
          start.getUTCFullYear() + y,
          start.getUTCMonth(),
          start.getUTCDate(),
          start.getUTCHours(),
          start.getUTCMinutes(),
          start.getUTCSeconds(),
        ),
      );
    const scheduleId = randomUUID();
    return {
      scheduleId,
      merchantId: randomUUID(),
      campaignId: randomUUID(),
      beneficiary: BENEFICIARY,
      totalStroops: '10000000000001',
      startAt: start.toISOString(),
      cliffAt: shifted(1).toISOString(),
      endAt: shifted(years).toISOString(),
      interval: 'P1M',
      revocable: true,
      memoStem: vestingMemoStem(scheduleId),
      ...rest,
    };
  }

  /** Runs a schedule to its end on its own task queue; `during` gets its handle while it runs. */
  async function run(
    mock: ReturnType<typeof mockActivities>,
    workflowInput: VestingWorkflowInput,
    during?: (handle: WorkflowHandle) => Promise<void>,
  ): Promise<{ outcome: VestingOutcome; handle: WorkflowHandleWithFirstExecutionRunId; final: VestingProgress }> {
    const taskQueue = uniqueTaskQueue('vesting-wf');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('@nova/workflows'),
      activities: mock.activities,
    });
    return await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('vestingWorkflow', {
        workflowId: vestingWorkflowId(workflowInput.scheduleId),
        taskQueue,
        args: [workflowInput],
      });
      if (during) await during(handle);
      const outcome = (await handle.result()) as VestingOutcome;
      // Queried while the worker still runs: a closed workflow answers by replay.
      return { outcome, handle, final: await handle.query(vestingProgressQuery) };
    });
  }

  /** Every run of the workflow, first to last, with its history length. */
  async function runsOf(handle: WorkflowHandleWithFirstExecutionRunId): Promise<number[]> {
    const lengths: number[] = [];
    // From the first run: each continue-as-new names the next.
    let runId: string | undefined = handle.firstExecutionRunId;
    while (runId) {
      const events: temporal.api.history.v1.IHistoryEvent[] =
        (await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory()).events ?? [];
      lengths.push(events.length);
      const next: string | null | undefined =
        events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      runId = next ?? undefined;
    }
    return lengths;
  }

  async function refusalType(promise: Promise<unknown>): Promise<string | undefined> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof WorkflowUpdateFailedError, String(error));
      assert.ok(error.cause instanceof ApplicationFailure);
      return error.cause.type ?? undefined;
    }
    assert.fail('expected the update to be refused');
  }

  it('four years, a one-year cliff, monthly: 37 releases, none before the cliff, the total to the stroop, exactly once each; the history continues as new and every run stays under 200 + 60 events', async () => {
    const mock = mockActivities();
    const workflowInput = await input({ maxHistoryEvents: 200 });
    const expected = vestingReleases(vestingTermsOf(workflowInput));
    assert.equal(expected.length, 37);

    const { outcome, handle, final } = await run(mock, workflowInput);

    assert.deepEqual(outcome, {
      status: 'completed',
      releasedStroops: workflowInput.totalStroops,
      returnedStroops: '0',
    });
    assert.deepEqual(
      mock.landed.map((p) => [p.businessKey, p.amountStroops]),
      expected.map((r) => [vestingKeys.release(workflowInput.scheduleId, r.number), r.amountStroops.toString()]),
    );
    assert.equal(sumOf(mock.landed), BigInt(workflowInput.totalStroops));
    assert.equal(new Set(mock.landed.map((p) => p.memo)).size, 37, 'a memo per release');
    assert.equal(mock.inputsOf('registerVestingOnChain').length, 1, 'registered once, across every run');
    const recorded = mock.inputsOf<{ releaseNumber: number; paymentTxHash: string }>('recordVestingReleaseOnChain');
    assert.deepEqual(
      recorded.map((r) => [r.releaseNumber, r.paymentTxHash]),
      mock.landed.map((p, i) => [i + 1, hashOf(p.businessKey)]),
      'each payment recorded on chain with its hash',
    );
    assert.equal(mock.inputsOf('completeVesting').length, 1);
    assert.equal(mock.inputsOf('markVestingStalled').length, 0);

    const runs = await runsOf(handle);
    assert.ok(runs.length >= 3, `continued as new: runs of ${runs.join(', ')} events`);
    assert.ok(
      runs.every((length) => length < 260),
      `every run under 260 events: ${runs.join(', ')}`,
    );
    assert.equal(final.status, 'completed');
    assert.equal(final.nextReleaseAt, null);
  });

  it('answers vested, released and the next release while it runs', async () => {
    const mock = mockActivities();
    const workflowInput = await input({ years: 2 });
    const releases = vestingReleases(vestingTermsOf(workflowInput));
    await run(mock, workflowInput, async (handle) => {
      const before = await eventually(() => handle.query(vestingProgressQuery), {
        what: 'the schedule answering its query',
      });
      assert.deepEqual(
        { ...before, vestedStroops: undefined },
        {
          status: 'active',
          totalStroops: workflowInput.totalStroops,
          vestedStroops: undefined,
          releasedStroops: '0',
          paidThrough: 0,
          releaseCount: releases.length,
          nextReleaseAt: workflowInput.cliffAt,
        },
      );
      assert.equal(before.vestedStroops, '0', 'nothing vests before the cliff');
    });
  });

  it('revoked before the cliff: nothing paid, all of it back to the budget', async () => {
    const mock = mockActivities();
    const workflowInput = await input();
    let revoked: VestingProgress | undefined;
    const { outcome } = await run(mock, workflowInput, async (handle) => {
      await env.sleep(200 * DAY);
      revoked = await handle.executeUpdate(revokeVestingUpdate);
    });
    assert.deepEqual(outcome, { status: 'revoked', releasedStroops: '0', returnedStroops: workflowInput.totalStroops });
    assert.equal(revoked?.status, 'revoked');
    assert.equal(revoked?.returnedStroops, workflowInput.totalStroops);
    assert.equal(mock.landed.length, 0);
    assert.deepEqual(
      mock.names().filter((n) => n !== 'markVestingRegistered' && n !== 'registerVestingOnChain'),
      ['revokeVestingOnChain', 'revokeVesting'],
    );
  });

  it('revoked mid-way: the releases so far, then what vested by the revocation, the rest back to the budget', async () => {
    const mock = mockActivities();
    const workflowInput = await input();
    const terms = vestingTermsOf(workflowInput);
    const { outcome } = await run(mock, workflowInput, async (handle) => {
      // Two years and a half month in: the cliff release and 12 monthly ones are due.
      await env.sleep(Date.parse(workflowInput.startAt) + 2 * 365 * DAY + 15 * DAY - (await env.currentTimeMs()));
      await handle.executeUpdate(revokeVestingUpdate);
    });
    const [revocation] = mock.inputsOf<{
      revokedAt: string;
      releasedStroops: string;
      returnedStroops: string;
      finalTxHash?: string;
    }>('revokeVesting');
    assert.ok(revocation);
    const vested = vestedAt(terms, new Date(revocation.revokedAt));
    const releases = mock.landed.filter((p) => p.businessKey !== vestingKeys.revocation(workflowInput.scheduleId));
    assert.equal(releases.length, 13);
    const final = mock.landed.find((p) => p.businessKey === vestingKeys.revocation(workflowInput.scheduleId));
    assert.ok(final, 'the vested but unreleased part is paid');
    assert.equal(BigInt(final.amountStroops), vested - sumOf(releases));
    assert.equal(sumOf(mock.landed), vested);
    assert.equal(BigInt(revocation.returnedStroops), terms.totalStroops - vested);
    assert.deepEqual(outcome, {
      status: 'revoked',
      releasedStroops: vested.toString(),
      returnedStroops: (terms.totalStroops - vested).toString(),
    });
    // Frozen on chain before the final payment, which is recorded like every release.
    const order = mock.names();
    assert.ok(order.lastIndexOf('revokeVestingOnChain') < order.lastIndexOf('submitPayment'));
    assert.equal(mock.inputsOf('recordVestingReleaseOnChain').length, 14);
  });

  it('revoked during a release: the payment in flight completes once, then the revocation pays the rest that vested', async () => {
    let handle: WorkflowHandle | undefined;
    let update: Promise<VestingProgress> | undefined;
    const workflowInput = await input();
    const mock = mockActivities({
      onPayment: async (call) => {
        // Release 3 is being paid: the revocation arrives now, and is accepted at once.
        if (call.businessKey === vestingKeys.release(workflowInput.scheduleId, 3) && !update) {
          const started = await handle!.startUpdate(revokeVestingUpdate, {
            waitForStage: WorkflowUpdateStage.ACCEPTED,
          });
          update = started.result();
        }
      },
    });
    const { outcome } = await run(mock, workflowInput, async (started) => {
      handle = started;
    });
    const progress = await update;
    assert.equal(progress?.status, 'revoked');
    const keys = mock.landed.map((p) => p.businessKey);
    assert.deepEqual(keys, [
      vestingKeys.release(workflowInput.scheduleId, 1),
      vestingKeys.release(workflowInput.scheduleId, 2),
      vestingKeys.release(workflowInput.scheduleId, 3),
      ...(BigInt(progress!.vestedStroops) > sumOf(mock.landed.slice(0, 3))
        ? [vestingKeys.revocation(workflowInput.scheduleId)]
        : []),
    ]);
    assert.equal(sumOf(mock.landed).toString(), progress?.vestedStroops);
    assert.equal(outcome.status, 'revoked');
    assert.equal(BigInt(outcome.releasedStroops) + BigInt(outcome.returnedStroops), BigInt(workflowInput.totalStroops));
  });

  it('refuses to revoke a schedule that is not revocable, and goes on to the end', async () => {
    const mock = mockActivities();
    const workflowInput = await input({ years: 2, revocable: false });
    const { outcome } = await run(mock, workflowInput, async (handle) => {
      assert.equal(await refusalType(handle.executeUpdate(revokeVestingUpdate)), VESTING_NOT_REVOCABLE);
    });
    assert.equal(outcome.status, 'completed');
    assert.equal(sumOf(mock.landed), BigInt(workflowInput.totalStroops));
    assert.equal(mock.inputsOf('revokeVestingOnChain').length, 0);
  });

  it('refuses to revoke twice', async () => {
    const mock = mockActivities();
    // The first revocation is held on chain until the second has been refused: otherwise the
    // run could end first, and the second would find no workflow rather than its refusal.
    let secondRefused!: () => void;
    const refusedSecond = new Promise<void>((resolve) => (secondRefused = resolve));
    mock.activities.revokeVestingOnChain = async (call) => {
      mock.calls.push({ name: 'revokeVestingOnChain', input: call });
      await refusedSecond;
      return { txHash: hashOf('revoke'), ledger: 8 };
    };
    const workflowInput = await input({ years: 2 });
    await run(mock, workflowInput, async (handle) => {
      const first = await handle.startUpdate(revokeVestingUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED });
      try {
        // Refused by the validator, so it never reaches ACCEPTED: the answer to the ACCEPTED wait
        // carries the rejection. (A loaded CI run saw the COMPLETED wait of executeUpdate end in
        // the time-skipping server's "update not found" instead; a rejection is never stored.)
        const second = handle
          .startUpdate(revokeVestingUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED })
          .then((update) => update.result());
        assert.equal(await refusalType(second), VESTING_ENDED);
      } finally {
        secondRefused();
      }
      await first.result();
    });
    assert.equal(mock.inputsOf('revokeVestingOnChain').length, 1);
  });

  /** Ten releases 10 s apart from a start a day away, with short waits after a refusal. */
  async function shortSchedule(): Promise<VestingWorkflowInput> {
    const base = await input();
    return {
      ...base,
      cliffAt: base.startAt,
      endAt: new Date(Date.parse(base.startAt) + 100_000).toISOString(),
      interval: 'PT10S',
      retryDelaysSeconds: [1, 2, 3],
      stalledRetrySeconds: 30,
    };
  }

  it('registration refused (no vesting contract on the worker): retried, stalled and flagged, then registered once and vested to the end', async () => {
    const workflowInput = await shortSchedule();
    const mock = mockActivities();
    let refusals = 0;
    mock.activities.registerVestingOnChain = async (call) => {
      mock.calls.push({ name: 'registerVestingOnChain', input: call });
      if (refusals++ < 5) throw ApplicationFailure.nonRetryable('no vesting contract configured', 'VestingDisabled');
      return { txHash: hashOf('registered'), ledger: 3 };
    };
    const { outcome } = await run(mock, workflowInput);
    assert.equal(outcome.status, 'completed');
    assert.equal(mock.inputsOf('registerVestingOnChain').length, 6, 'tried until it went through');
    assert.deepEqual(mock.inputsOf('markVestingStalled'), [
      {
        scheduleId: workflowInput.scheduleId,
        fromNumber: 1,
        failureType: 'VestingDisabled',
        message: 'no vesting contract configured',
      },
    ]);
    assert.deepEqual(mock.inputsOf('markVestingRegistered'), [
      { scheduleId: workflowInput.scheduleId, txHash: hashOf('registered') },
    ]);
    assert.equal(sumOf(mock.landed), BigInt(workflowInput.totalStroops), 'every release paid, once');
    const order = mock.names();
    assert.ok(order.indexOf('markVestingRegistered') < order.indexOf('submitPayment'), 'nothing paid unregistered');
  });

  it('revoked: what vested by the time the contract froze it is paid (nothing left releasable on chain), the read model before the chain', async () => {
    const workflowInput = await shortSchedule();
    const terms = vestingTermsOf(workflowInput);
    const start = Date.parse(workflowInput.startAt);
    const frozenAt = new Date(start + 47_000).toISOString();
    const mock = mockActivities();
    mock.activities.revokeVestingOnChain = async (call) => {
      mock.calls.push({ name: 'revokeVestingOnChain', input: call });
      // The revoke transaction closed 7 s after the update was taken.
      return { txHash: hashOf('revoke'), ledger: 12, revokedAt: frozenAt };
    };
    const { outcome } = await run(mock, workflowInput, async (handle) => {
      await env.sleep(start + 40_500 - (await env.currentTimeMs()));
      await handle.executeUpdate(revokeVestingUpdate);
    });
    const [revocation] = mock.inputsOf<{ revokedAt: string; releasedStroops: string; finalTxHash?: string }>(
      'revokeVesting',
    );
    assert.equal(revocation?.revokedAt, frozenAt);
    const vested = vestedAt(terms, new Date(frozenAt));
    assert.equal(sumOf(mock.landed), vested, 'paid: what the contract sees vested');
    assert.equal(outcome.releasedStroops, vested.toString());
    assert.equal(outcome.returnedStroops, (terms.totalStroops - vested).toString());
    const order = mock.names();
    assert.ok(
      order.lastIndexOf('revokeVesting') < order.lastIndexOf('recordVestingReleaseOnChain'),
      'the final payment is in the read model before it is recorded on chain',
    );
    assert.ok(order.indexOf('recordVestingRelease') < order.indexOf('recordVestingReleaseOnChain'));
  });

  it('a release refused for 3 periods: retried with backoff, stalled once, then the missed amounts paid together, once', async () => {
    const base = await input();
    const start = Date.parse(base.startAt);
    const workflowInput: VestingWorkflowInput = {
      ...base,
      cliffAt: base.startAt,
      endAt: new Date(start + 100_000).toISOString(),
      interval: 'PT10S',
      retryDelaysSeconds: [1, 2, 3],
      stalledRetrySeconds: 30,
    };
    const releases = vestingReleases(vestingTermsOf(workflowInput));
    assert.equal(releases.length, 10);
    const number = (key: string) => Number(key.split('/').pop());
    // The trustline is gone from release 3's time until release 6's.
    const mock = mockActivities({ refuse: (call) => number(call.businessKey) >= 3 && number(call.businessKey) < 6 });

    const { outcome } = await run(mock, workflowInput);

    assert.equal(outcome.status, 'completed');
    assert.deepEqual(
      mock.landed.map((p) => number(p.businessKey)),
      [1, 2, 6, 7, 8, 9, 10],
    );
    const caughtUp = mock.landed[2]!;
    assert.equal(
      BigInt(caughtUp.amountStroops),
      releases.slice(2, 6).reduce((total, r) => total + r.amountStroops, 0n),
      'releases 3 to 6 paid together',
    );
    assert.equal(sumOf(mock.landed), BigInt(workflowInput.totalStroops), 'nothing skipped, nothing twice');
    // Release 3 and its three retries, then release 4 and 5 at their times.
    assert.deepEqual(
      mock.refused.map((p) => number(p.businessKey)),
      [3, 3, 3, 3, 4, 5],
    );
    assert.deepEqual(mock.inputsOf('markVestingStalled'), [
      {
        scheduleId: workflowInput.scheduleId,
        fromNumber: 3,
        failureType: 'TrustlineMissing',
        message: 'the beneficiary removed the NOVA trustline',
      },
    ]);
    const caughtUpRecord = mock
      .inputsOf<{ fromNumber: number; toNumber: number }>('recordVestingRelease')
      .find((r) => r.toNumber === 6);
    assert.equal(caughtUpRecord?.fromNumber, 3);
  });
});
