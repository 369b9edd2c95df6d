import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { CONTRACT_EVENTS_OUTSIDE_RETENTION, contractIndexerWorkflowId } from '@nova/domain';
import type { ContractIndexerActivities, ContractIndexerPageOutcome } from '@nova/activities';
import { contractIndexerProgressQuery, searchAttributes, type ContractIndexerInput } from '@nova/workflows/definitions';
import { eventually, quietTemporalRuntime, uniqueTaskQueue } from '../support/environment';
import { createTimeSkippingEnvironment } from '../support/time-skipping';

quietTemporalRuntime();

/**
 * The chain and the database in memory: `events` per ledger, and the stored position (the
 * first ledger not read in full) that the real activity keeps in contract_event_cursors.
 * `indexContractEventsPage` is typed as the real activity and behaves as it does: a page of at
 * most pageSize events from the position, stored with the new position, caught up when short.
 */
function chainFixture(options: { pageSize: number; failFirst?: number; gapAt?: { below: number } }) {
  const ledgers = new Map<number, string[]>();
  let latestLedger = 10;
  let nextLedger = 1;
  let offsetInLedger = 0;
  const stored: string[] = [];
  const calls: string[] = [];
  let failures = options.failFirst ?? 0;
  let oldestRetained = 1;

  const activities: ContractIndexerActivities = {
    async indexContractEventsPage(input): Promise<ContractIndexerPageOutcome> {
      assert.equal(input.pageSize, options.pageSize);
      if (failures > 0) {
        failures -= 1;
        calls.push('unavailable');
        throw ApplicationFailure.retryable('Soroban RPC: 503', 'StellarUnavailable');
      }
      let gap: { fromLedger: number; toLedger: number } | undefined;
      if (nextLedger < oldestRetained) {
        // As the real activity: the gap is recorded with the first page read after it.
        gap = { fromLedger: nextLedger, toLedger: oldestRetained - 1 };
        nextLedger = oldestRetained;
        offsetInLedger = 0;
        calls.push(`gap:${gap.fromLedger}-${gap.toLedger}`);
      }
      const page: string[] = [];
      let ledger = nextLedger;
      let offset = offsetInLedger;
      while (ledger <= latestLedger && page.length < input.pageSize) {
        const events = ledgers.get(ledger) ?? [];
        while (offset < events.length && page.length < input.pageSize) page.push(events[offset++]!);
        if (offset >= events.length) {
          ledger += 1;
          offset = 0;
        }
      }
      const full = page.length >= input.pageSize;
      nextLedger = ledger;
      offsetInLedger = offset;
      stored.push(...page);
      calls.push(`page:${page.length}`);
      return {
        read: page.length,
        stored: page.length,
        caughtUp: !full,
        latestLedger,
        nextLedger,
        ...(gap ? { gap: { failureType: CONTRACT_EVENTS_OUTSIDE_RETENTION, ...gap } } : {}),
      };
    },
  };

  return {
    activities,
    stored,
    calls,
    /** New ledgers closing with these events, one ledger each. */
    close(...eventsPerLedger: number[]) {
      for (const count of eventsPerLedger) {
        latestLedger += 1;
        ledgers.set(
          latestLedger,
          Array.from({ length: count }, (_, i) => `${latestLedger}-${i}`),
        );
      }
    },
    /** The RPC prunes: ledgers below this are no longer served. */
    prune(below: number) {
      oldestRetained = below;
      latestLedger = Math.max(latestLedger, below);
    },
    expected(): string[] {
      return [...ledgers.entries()]
        .filter(([ledger]) => ledger <= latestLedger)
        .sort(([a], [b]) => a - b)
        .flatMap(([, events]) => events);
    },
  };
}

describe('contractIndexerWorkflow (time-skipping server, mocked activities)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  async function withWorker<T>(
    fixture: ReturnType<typeof chainFixture>,
    body: (taskQueue: string) => Promise<T>,
  ): Promise<T> {
    const taskQueue = uniqueTaskQueue('contract-indexer-wf');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('@nova/workflows'),
      activities: fixture.activities,
    });
    return await worker.runUntil(body(taskQueue));
  }

  function start(taskQueue: string, input: Partial<ContractIndexerInput> & { pageSize: number }) {
    return env.client.workflow.start('contractIndexerWorkflow', {
      workflowId: contractIndexerWorkflowId('campaign', taskQueue),
      taskQueue,
      args: [{ contract: 'campaign', contractId: 'C'.padEnd(56, 'A'), pollSeconds: 5, ...input }],
    });
  }

  async function timers(handle: WorkflowHandle): Promise<string[]> {
    const history = await handle.fetchHistory();
    return (history.events ?? [])
      .filter((event) => event.timerStartedEventAttributes)
      .map((event) => `${Number(event.timerStartedEventAttributes!.startToFireTimeout!.seconds)}s`);
  }

  it('pages until caught up, sleeps a ledger between reads, and stores each event once, in order', async () => {
    const fixture = chainFixture({ pageSize: 3 });
    fixture.close(2, 0, 5, 1);
    await withWorker(fixture, async (taskQueue) => {
      const handle = await start(taskQueue, { pageSize: 3 });
      await eventually(async () => ((await handle.query(contractIndexerProgressQuery)).caughtUp ? true : undefined), {
        what: 'caught up',
      });
      assert.deepEqual(fixture.stored, fixture.expected());
      // Two full pages (one ends inside ledger 13, the next page goes on inside it) and the short one that caught up.
      assert.deepEqual(fixture.calls, ['page:3', 'page:3', 'page:2']);
      fixture.close(4);
      await env.sleep('5 seconds');
      await eventually(async () => (fixture.stored.length === 12 ? true : undefined), { what: 'the new ledger' });
      assert.deepEqual(fixture.stored, fixture.expected(), 'nothing lost, nothing twice');
      assert.ok(
        (await timers(handle)).every((timer) => timer === '5s'),
        'only pollSeconds timers',
      );
      const progress = await handle.query(contractIndexerProgressQuery);
      assert.equal(progress.totals.stored, 12);
      await handle.terminate('test over');
    });
  });

  it('retries a page the RPC could not serve, losing nothing', async () => {
    const fixture = chainFixture({ pageSize: 10, failFirst: 2 });
    fixture.close(3);
    await withWorker(fixture, async (taskQueue) => {
      const handle = await start(taskQueue, { pageSize: 10 });
      await eventually(async () => (fixture.stored.length === 3 ? true : undefined), { what: 'the page' });
      assert.deepEqual(fixture.calls.slice(0, 3), ['unavailable', 'unavailable', 'page:3']);
      assert.deepEqual(fixture.stored, fixture.expected());
      await handle.terminate('test over');
    });
  });

  it('continues as new when its history grows, carrying its totals, and goes on from the stored cursor', async () => {
    const fixture = chainFixture({ pageSize: 1 });
    fixture.close(...Array.from({ length: 30 }, () => 1));
    await withWorker(fixture, async (taskQueue) => {
      const handle = await start(taskQueue, { pageSize: 1, maxHistoryEvents: 40 });
      await eventually(async () => (fixture.stored.length === 30 ? true : undefined), { what: 'all 30 events' });
      const progress = await handle.query(contractIndexerProgressQuery);
      assert.ok(progress.totals.runs >= 2, `continued as new (${progress.totals.runs} earlier runs)`);
      assert.equal(progress.totals.stored, 30, 'carried across runs');
      assert.deepEqual(fixture.stored, fixture.expected(), 'no event lost or repeated across runs');
      const first = await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
      const events = first.events ?? [];
      assert.ok(events.length <= 50, `the first run's history stayed small (${events.length} events)`);
      assert.ok(events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes, 'the first run continued as new');
      await handle.terminate('test over');
    });
  });

  it('a cursor outside the retention window: the gap is marked on the run and the indexer resumes after it', async () => {
    const fixture = chainFixture({ pageSize: 10 });
    fixture.close(1, 1);
    await withWorker(fixture, async (taskQueue) => {
      const handle = await start(taskQueue, { pageSize: 10 });
      await eventually(async () => (fixture.stored.length === 2 ? true : undefined), { what: 'the first events' });
      // The RPC prunes past the cursor while the indexer sleeps, and new events land after.
      fixture.prune(20);
      fixture.close(2);
      await env.sleep('5 seconds');
      await eventually(
        async () => ((await handle.query(contractIndexerProgressQuery)).totals.gaps === 1 ? true : undefined),
        { what: 'the gap' },
      );
      const progress = await handle.query(contractIndexerProgressQuery);
      assert.deepEqual(progress.lastGap, { fromLedger: 13, toLedger: 19 });
      await eventually(async () => (fixture.stored.length === 4 ? true : undefined), { what: 'events after the gap' });
      assert.deepEqual(fixture.stored.slice(2), ['21-0', '21-1']);
      assert.deepEqual(fixture.calls.slice(-2), ['gap:13-19', 'page:2'], 'the gap and the page after it, together');
      const description = await handle.describe();
      assert.deepEqual(description.typedSearchAttributes.get(searchAttributes.contractIndexerFailure), [
        CONTRACT_EVENTS_OUTSIDE_RETENTION,
      ]);
      await handle.terminate('test over');
    });
  });
});
