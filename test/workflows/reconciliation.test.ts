import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ReconciliationActivities, ReconciliationBatch } from '@nova/activities';
import {
  chainReconciliationWorkflowType,
  type ChainReconciliationInput,
  type ChainReconciliationOutcome,
} from '@nova/workflows/definitions';
import { quietTemporalRuntime, uniqueTaskQueue } from '../support/environment';
import { createTimeSkippingEnvironment } from '../support/time-skipping';

quietTemporalRuntime();

type Name = keyof ReconciliationActivities;
type Call = { name: Name; input: Record<string, unknown> };

const ID = '00000000-0000-4000-8000-00000000ac01';
const WINDOW = { from: '2026-12-01T00:00:00.000Z', to: '2026-12-02T00:00:00.000Z' };

/**
 * Activities typed as the real ones, answering from a script: the staging of each account pages
 * through `pages` cursors, the payment comparison through `paymentBatches`, and each kind of
 * record through one full batch then a short one.
 */
function mockActivities(options: { accounts: string[]; pages: number; paymentBatches: number; fail?: Name }) {
  const calls: Call[] = [];
  const note = (name: Name, input: object) => {
    calls.push({ name, input: input as Record<string, unknown> });
    if (options.fail === name) throw ApplicationFailure.nonRetryable('Horizon refused the page', 'StellarUnavailable');
  };
  const batch = (checked: Record<string, number>, mismatches: number, next?: string): ReconciliationBatch => ({
    checked,
    mismatches,
    ...(next ? { next } : {}),
  });
  const activities: ReconciliationActivities = {
    async openReconciliation(input) {
      note('openReconciliation', input);
      if (input.from && input.to) return { from: input.from, to: input.to };
      const to = new Date(input.endsAtMs!);
      return {
        from: new Date(to.getTime() - input.windowSeconds! * 1000).toISOString(),
        to: to.toISOString(),
      };
    },
    async platformAccounts() {
      note('platformAccounts', {});
      return options.accounts;
    },
    async stageChainPayments(input) {
      note('stageChainPayments', input);
      const page = input.cursor ? Number(input.cursor.split('-')[1]) : 0;
      return page + 1 < options.pages ? { staged: 200, next: `${input.account}-${page + 1}` } : { staged: 17 };
    },
    async comparePaymentBatch(input) {
      note('comparePaymentBatch', input);
      const at = Number(input.cursor ?? 0);
      return at + 1 < options.paymentBatches
        ? batch({ chainPayments: 500 }, 1, String(at + 1))
        : batch({ chainPayments: 3 }, 0);
    },
    async checkPaidRecords(input) {
      note('checkPaidRecords', input);
      return input.cursor ? batch({ [input.kind]: 2 }, 1) : batch({ [input.kind]: 500 }, 0, `${input.kind}|next`);
    },
    async checkContractRecords(input) {
      note('checkContractRecords', input);
      return batch({ [input.kind]: 4 }, 0);
    },
    async completeReconciliation(input) {
      note('completeReconciliation', input);
      return { mismatches: 7, events: 5 };
    },
    async failReconciliation(input) {
      note('failReconciliation', input);
    },
  };
  return { activities, calls };
}

describe('chainReconciliationWorkflow (time-skipping server, mocked activities)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  async function run(activities: ReconciliationActivities, input: ChainReconciliationInput, workflowId?: string) {
    const taskQueue = uniqueTaskQueue('reconciliation-wf');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('@nova/workflows'),
      activities,
    });
    const handle = await env.client.workflow.start(chainReconciliationWorkflowType, {
      workflowId: workflowId ?? `reconciliation/${ID}`,
      taskQueue,
      args: [input],
    });
    return await worker.runUntil(async () => {
      const outcome = await handle.result().then(
        (value: ChainReconciliationOutcome) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      const history = await handle.fetchHistory();
      const { startTime } = await handle.describe();
      return { outcome, events: history.events?.length ?? 0, startTime };
    });
  }

  it("an admin's window: every account staged page by page, every batch taken from the cursor before, the counts summed", async () => {
    const mock = mockActivities({ accounts: ['GDIST', 'GCHAN1'], pages: 3, paymentBatches: 3 });
    const { outcome } = await run(mock.activities, { trigger: 'admin', reconciliationId: ID, ...WINDOW });
    assert.ok(outcome.ok, String(!outcome.ok && outcome.error));
    assert.deepEqual(outcome.value, {
      reconciliationId: ID,
      ...WINDOW,
      checked: {
        chainPayments: 1003,
        issuance: 502,
        redemption_refund: 502,
        vesting_release: 502,
        campaign: 4,
        redemption: 4,
      },
      mismatches: 7,
    });
    const base = { reconciliationId: ID, ...WINDOW };
    assert.deepEqual(
      mock.calls.map((call) => [call.name, call.input.account ?? call.input.kind ?? '', call.input.cursor ?? '']),
      [
        ['openReconciliation', '', ''],
        ['platformAccounts', '', ''],
        ['stageChainPayments', 'GDIST', ''],
        ['stageChainPayments', 'GDIST', 'GDIST-1'],
        ['stageChainPayments', 'GDIST', 'GDIST-2'],
        ['stageChainPayments', 'GCHAN1', ''],
        ['stageChainPayments', 'GCHAN1', 'GCHAN1-1'],
        ['stageChainPayments', 'GCHAN1', 'GCHAN1-2'],
        ['comparePaymentBatch', '', ''],
        ['comparePaymentBatch', '', '1'],
        ['comparePaymentBatch', '', '2'],
        ['checkPaidRecords', 'issuance', ''],
        ['checkPaidRecords', 'issuance', 'issuance|next'],
        ['checkPaidRecords', 'redemption_refund', ''],
        ['checkPaidRecords', 'redemption_refund', 'redemption_refund|next'],
        ['checkPaidRecords', 'vesting_release', ''],
        ['checkPaidRecords', 'vesting_release', 'vesting_release|next'],
        ['checkContractRecords', 'campaign', ''],
        ['checkContractRecords', 'redemption', ''],
        ['completeReconciliation', '', ''],
      ],
    );
    assert.deepEqual(mock.calls[0]!.input, {
      reconciliationId: ID,
      trigger: 'admin',
      workflowId: `reconciliation/${ID}`,
      ...WINDOW,
    });
    assert.deepEqual(mock.calls[2]!.input, { ...base, account: 'GDIST' });
    assert.deepEqual(mock.calls.at(-1)!.input, {
      reconciliationId: ID,
      checked: outcome.value.checked,
    });
  });

  it('a scheduled run reconciles the window that ended lagSeconds before it started, under an id of its own', async () => {
    const mock = mockActivities({ accounts: ['GDIST'], pages: 1, paymentBatches: 1 });
    const { outcome, startTime } = await run(
      mock.activities,
      { trigger: 'schedule', windowSeconds: 3_600, lagSeconds: 600 },
      'nova-reconciliation/q-2026-12-01T03:00:00Z',
    );
    assert.ok(outcome.ok, String(!outcome.ok && outcome.error));
    const open = mock.calls[0]!.input as { reconciliationId: string; endsAtMs: number; windowSeconds: number };
    assert.match(open.reconciliationId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(mock.calls[0]!.input.workflowId, 'nova-reconciliation/q-2026-12-01T03:00:00Z');
    assert.equal(mock.calls[0]!.input.trigger, 'schedule');
    assert.equal(open.windowSeconds, 3_600);
    // The run's start time as the workflow sees it is its first task's (a few milliseconds after the start request).
    const lagged = open.endsAtMs - (startTime.getTime() - 600_000);
    assert.ok(lagged >= 0 && lagged < 5_000, `${lagged} ms`);
    assert.equal(outcome.value.reconciliationId, open.reconciliationId);
    assert.equal(Date.parse(outcome.value.to) - Date.parse(outcome.value.from), 3_600_000);
    // Every later step works on the window the report recorded.
    for (const call of mock.calls.filter((c) => c.name === 'stageChainPayments' || c.name === 'checkPaidRecords')) {
      assert.equal(call.input.from, outcome.value.from);
      assert.equal(call.input.to, outcome.value.to);
    }
  });

  it('a window of thousands of payments keeps a small history: only counts and cursors pass through it', async () => {
    // 8 accounts x 5 pages of 200, and 20 comparison batches of 500: about 10,000 payments.
    const mock = mockActivities({
      accounts: Array.from({ length: 8 }, (_, i) => `GCHAN${i}`),
      pages: 5,
      paymentBatches: 20,
    });
    const { outcome, events } = await run(mock.activities, { trigger: 'admin', reconciliationId: ID, ...WINDOW });
    assert.ok(outcome.ok, String(!outcome.ok && outcome.error));
    assert.equal(outcome.value.checked.chainPayments, 19 * 500 + 3);
    const activityCalls = mock.calls.length;
    assert.equal(activityCalls, 2 + 8 * 5 + 20 + 6 + 2 + 1);
    // Three events per activity and a few per workflow task: far below Temporal's 50,000-event limit.
    assert.ok(events < activityCalls * 6 + 20, `${events} events for ${activityCalls} activities`);
  });

  it('a batch that fails for good fails the report with the reason, and the run names it', async () => {
    const mock = mockActivities({ accounts: ['GDIST'], pages: 2, paymentBatches: 2, fail: 'comparePaymentBatch' });
    const { outcome } = await run(mock.activities, { trigger: 'admin', reconciliationId: ID, ...WINDOW });
    assert.ok(!outcome.ok);
    assert.ok(outcome.error instanceof WorkflowFailedError, String(outcome.error));
    assert.ok(outcome.error.cause instanceof ApplicationFailure);
    assert.equal(outcome.error.cause.type, 'ReconciliationFailed');
    assert.match(outcome.error.cause.message, /Horizon refused the page/);
    const names = mock.calls.map((call) => call.name);
    assert.equal(names.at(-1), 'failReconciliation');
    assert.ok(!names.includes('completeReconciliation'));
    assert.equal(mock.calls.at(-1)!.input.reconciliationId, ID);
    assert.match(String(mock.calls.at(-1)!.input.message), /Horizon refused the page/);
  });
});
