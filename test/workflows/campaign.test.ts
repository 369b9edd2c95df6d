import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { type CampaignChangeKind, campaignWorkflowId } from '@nova/domain';
import {
  CAMPAIGN_CONTRACT_ERRORS,
  ContractError,
  contractRefusal,
  StellarUnavailableError,
  toActivityFailure,
  type CampaignChainLedgerActivities,
  type CampaignChange,
  type CampaignChangeApplied,
  type CampaignChangeOutcome,
  type CampaignContractActivities,
} from '@nova/activities';
import {
  campaignChangeSignal,
  campaignSyncQuery,
  type CampaignSyncOutcome,
  type CampaignWorkflowInput,
} from '@nova/workflows/definitions';
import { eventually, quietTemporalRuntime, uniqueTaskQueue } from '../support/environment';
import { createTimeSkippingEnvironment } from '../support/time-skipping';

quietTemporalRuntime();

type Activities = CampaignChainLedgerActivities & CampaignContractActivities;
type QueuedChange = CampaignChange & { status: 'pending' | 'synced' | 'failed'; outcome?: CampaignChangeOutcome };

/**
 * The API's side in memory: the queue of changes (campaign_chain_changes), and activities
 * typed as the real ones that read and settle it. Every call is logged, in order.
 */
function campaignFixture(apply?: (change: CampaignChange, attempt: number) => Promise<CampaignChangeApplied>) {
  const campaignId = randomUUID();
  const merchantId = randomUUID();
  const queue: QueuedChange[] = [];
  const log: string[] = [];
  const attempts = new Map<number, number>();
  let inFlight = 0;
  let maxInFlight = 0;

  const activities: Activities = {
    async pendingCampaignChanges(input) {
      assert.equal(input.campaignId, campaignId);
      log.push(`load:${input.afterSeq}..${input.upToSeq}`);
      return queue
        .filter((c) => c.status === 'pending' && c.seq > input.afterSeq && c.seq <= input.upToSeq)
        .map(({ status: _status, outcome: _outcome, ...change }) => change);
    },
    async settleCampaignChange(input) {
      const change = queue.find((c) => c.seq === input.seq);
      assert.ok(change, `settle of an unknown change ${input.seq}`);
      if (change.status === 'pending') Object.assign(change, { status: input.outcome.status, outcome: input.outcome });
      log.push(`settle:${input.seq}:${input.outcome.status}`);
      return { status: queue.some((c) => c.status === 'pending') ? 'pending' : input.outcome.status };
    },
    async applyCampaignChange(change) {
      const attempt = (attempts.get(change.seq) ?? 0) + 1;
      attempts.set(change.seq, attempt);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      log.push(`apply:${change.seq}:${change.kind}`);
      try {
        if (apply) return await apply(change, attempt);
        return { txHash: change.seq.toString(16).padStart(64, '0'), ledger: 100 + change.seq, alreadyApplied: false };
      } finally {
        inFlight -= 1;
      }
    },
  };

  return {
    campaignId,
    merchantId,
    queue,
    log,
    activities,
    attempts,
    maxInFlight: () => maxInFlight,
    /** What the API does in its transaction: the change gets the next sequence number. */
    add(kind: CampaignChangeKind, fields: Partial<CampaignChange> = {}): number {
      const seq = queue.length + 1;
      queue.push({ campaignId, merchantId, seq, kind, ...fields, status: 'pending' });
      return seq;
    },
    applied: () => log.filter((line) => line.startsWith('apply:')),
  };
}

describe('campaignWorkflow (time-skipping server, mocked activities)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  async function withWorker<T>(fixture: ReturnType<typeof campaignFixture>, body: (taskQueue: string) => Promise<T>) {
    const taskQueue = uniqueTaskQueue('campaign-wf');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('@nova/workflows'),
      activities: fixture.activities,
    });
    return await worker.runUntil(body(taskQueue));
  }

  /** What the API does after its transaction commits. */
  function signal(
    fixture: ReturnType<typeof campaignFixture>,
    taskQueue: string,
    seq: number,
    input: Partial<CampaignWorkflowInput> = {},
  ) {
    return env.client.workflow.signalWithStart('campaignWorkflow', {
      workflowId: campaignWorkflowId(fixture.campaignId),
      taskQueue,
      args: [{ campaignId: fixture.campaignId, merchantId: fixture.merchantId, ...input }],
      signal: campaignChangeSignal,
      signalArgs: [{ seq }],
    });
  }

  it('applies changes one at a time, in sequence order, even when signals arrive out of order', async () => {
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const fixture = campaignFixture(async (change) => {
      if (change.seq === 1) await firstHeld;
      return { txHash: 'ab'.repeat(32), ledger: 100 + change.seq, alreadyApplied: false };
    });
    fixture.add('register', {
      budgetStroops: '10000000000',
      startsAt: '2026-03-01T00:00:00.000Z',
      endsAt: '2026-06-01T00:00:00.000Z',
    });

    const outcome = await withWorker(fixture, async (taskQueue) => {
      const handle = await signal(fixture, taskQueue, 1);
      await eventually(async () => (fixture.applied().length === 1 ? true : undefined), { what: 'change 1 running' });
      // While change 1 is being written: three more changes, their signals in the wrong order.
      fixture.add('update', { budgetStroops: '20000000000', endsAt: '2026-07-01T00:00:00.000Z' });
      fixture.add('pause');
      fixture.add('resume');
      await signal(fixture, taskQueue, 4);
      await signal(fixture, taskQueue, 2);
      await signal(fixture, taskQueue, 3);
      const during = await handle.query(campaignSyncQuery);
      assert.deepEqual(during.current, { seq: 1, kind: 'register' });
      assert.equal(during.requestedSeq, 4);
      assert.equal(during.settledSeq, 0);
      releaseFirst();
      return (await handle.result()) as CampaignSyncOutcome;
    });

    assert.deepEqual(fixture.log, [
      'load:0..1',
      'apply:1:register',
      'settle:1:synced',
      'load:1..4',
      'apply:2:update',
      'settle:2:synced',
      'apply:3:pause',
      'settle:3:synced',
      'apply:4:resume',
      'settle:4:synced',
    ]);
    assert.equal(fixture.maxInFlight(), 1, 'never two changes in flight');
    assert.deepEqual(outcome, { settledSeq: 4, synced: 4, failed: 0 });
    assert.ok(fixture.queue.every((c) => c.status === 'synced'));
    const update = fixture.queue[1]!;
    assert.deepEqual(update.outcome, { status: 'synced', txHash: 'ab'.repeat(32), ledger: 102 });
  });

  it('a contract refusal fails that change once (final) and the later changes still go ahead', async () => {
    const fixture = campaignFixture(async (change) => {
      if (change.seq === 2) {
        throw contractRefusal(
          new ContractError('contract error #6', 'CCONTRACT', 6),
          'update',
          CAMPAIGN_CONTRACT_ERRORS,
        );
      }
      return { txHash: 'cd'.repeat(32), ledger: 200 + change.seq, alreadyApplied: false };
    });
    fixture.add('register', { budgetStroops: '1', startsAt: '2026-03-01T00:00:00Z', endsAt: '2026-06-01T00:00:00Z' });
    fixture.add('update', { budgetStroops: '2', endsAt: '2026-02-01T00:00:00Z' });
    fixture.add('pause');

    const outcome = await withWorker(fixture, async (taskQueue) => {
      const handle = await signal(fixture, taskQueue, 3);
      return (await handle.result()) as CampaignSyncOutcome;
    });

    assert.deepEqual(fixture.applied(), ['apply:1:register', 'apply:2:update', 'apply:3:pause']);
    assert.equal(fixture.attempts.get(2), 1, 'a refusal is not retried');
    assert.deepEqual(fixture.queue[1]!.outcome, {
      status: 'failed',
      failureType: 'InvalidSchedule',
      failureCode: 6,
      message: 'update refused by contract CCONTRACT: InvalidSchedule (#6)',
    });
    assert.equal(fixture.queue[2]!.status, 'synced');
    assert.deepEqual(outcome, { settledSeq: 3, synced: 2, failed: 1 });
  });

  it('transient Stellar errors are retried until the change lands; nothing is settled failed', async () => {
    const fixture = campaignFixture(async (change, attempt) => {
      if (attempt <= 2) throw toActivityFailure(new StellarUnavailableError('Soroban RPC: server error 503'));
      return { txHash: 'ef'.repeat(32), ledger: 300 + change.seq, alreadyApplied: attempt > 1 };
    });
    fixture.add('register', { budgetStroops: '5', startsAt: '2026-03-01T00:00:00Z', endsAt: '2026-06-01T00:00:00Z' });

    const outcome = await withWorker(fixture, async (taskQueue) => {
      const handle = await signal(fixture, taskQueue, 1);
      return (await handle.result()) as CampaignSyncOutcome;
    });

    assert.equal(fixture.attempts.get(1), 3, 'two retryable failures, then success');
    assert.deepEqual(fixture.log, [
      'load:0..1',
      'apply:1:register',
      'apply:1:register',
      'apply:1:register',
      'settle:1:synced',
    ]);
    assert.deepEqual(outcome, { settledSeq: 1, synced: 1, failed: 0 });
  });

  it('an idle run completes; the next change starts a new run that picks up only what is pending', async () => {
    const fixture = campaignFixture();
    fixture.add('register', { budgetStroops: '5', startsAt: '2026-03-01T00:00:00Z', endsAt: '2026-06-01T00:00:00Z' });

    await withWorker(fixture, async (taskQueue) => {
      const first = await signal(fixture, taskQueue, 1);
      assert.deepEqual(await first.result(), { settledSeq: 1, synced: 1, failed: 0 });
      const firstRun = await first.describe();
      assert.equal(firstRun.status.name, 'COMPLETED');

      fixture.add('pause');
      const second = await signal(fixture, taskQueue, 2);
      assert.notEqual(second.signaledRunId, first.signaledRunId, 'a new run of the same workflow id');
      assert.deepEqual(await second.result(), { settledSeq: 2, synced: 1, failed: 0 });
    });
    assert.deepEqual(fixture.applied(), ['apply:1:register', 'apply:2:pause']);
  });

  it('continues as new when its history grows long, without losing or repeating a change', async () => {
    const fixture = campaignFixture();
    fixture.add('register', { budgetStroops: '5', startsAt: '2026-03-01T00:00:00Z', endsAt: '2026-06-01T00:00:00Z' });
    for (let i = 0; i < 9; i += 1) fixture.add(i % 2 === 0 ? 'pause' : 'resume');

    const { outcome, firstRunStatus } = await withWorker(fixture, async (taskQueue) => {
      const handle = await signal(fixture, taskQueue, 10, { maxHistoryEvents: 30 });
      const result = (await handle.result()) as CampaignSyncOutcome;
      const firstRun = env.client.workflow.getHandle(campaignWorkflowId(fixture.campaignId), handle.signaledRunId);
      return { outcome: result, firstRunStatus: (await firstRun.describe()).status.name };
    });

    assert.equal(firstRunStatus, 'CONTINUED_AS_NEW');
    assert.deepEqual(
      fixture.applied().map((line) => Number(line.split(':')[1])),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      'each change exactly once, in order, across runs',
    );
    assert.ok(fixture.queue.every((c) => c.status === 'synced'));
    assert.equal(outcome.settledSeq, 10);
    assert.ok(outcome.synced < 10, `the last run settled only the rest (${outcome.synced})`);
  });

  it('a non-retryable failure that is not a contract error is settled with its type', async () => {
    const fixture = campaignFixture(async () => {
      throw ApplicationFailure.nonRetryable('no campaign contract configured', 'CampaignSyncDisabled');
    });
    fixture.add('register', { budgetStroops: '5', startsAt: '2026-03-01T00:00:00Z', endsAt: '2026-06-01T00:00:00Z' });
    await withWorker(fixture, async (taskQueue) => (await signal(fixture, taskQueue, 1)).result());
    assert.deepEqual(fixture.queue[0]!.outcome, {
      status: 'failed',
      failureType: 'CampaignSyncDisabled',
      failureCode: null,
      message: 'no campaign contract configured',
    });
  });
});
