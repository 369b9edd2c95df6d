/**
 * Records the histories that replay.test.ts replays. Run after adding a workflow or a
 * branch worth pinning; existing files are kept (never re-record to "fix" a failing replay:
 * that failure is the point):
 *
 *   TEMPORAL_TEST_SERVER_PATH=.tools/venv/bin/temporal-test-server \
 *     node test/dist/replay/record-histories.js
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  CONTRACT_EVENTS_OUTSIDE_RETENTION,
  campaignWorkflowId,
  contractIndexerWorkflowId,
  issuanceWorkflowId,
  reconciliationWorkflowId,
  redemptionWorkflowId,
  selfCheckWorkflowId,
  vestingWorkflowId,
  webhookDeliveryWorkflowId,
} from '@nova/domain';
import { issuanceMemo, redemptionRefundMemo, vestingMemoStem } from '@nova/domain/memos';
import {
  CAMPAIGN_CONTRACT_ERRORS,
  ContractError,
  contractRefusal,
  type CampaignChainLedgerActivities,
  type CampaignChange,
  type CampaignContractActivities,
  type ContractIndexerActivities,
  type IssuanceLedgerActivities,
  type PaymentActivities,
  type ReconcilerActivities,
  type ReconciliationActivities,
  type RedemptionContractActivities,
  type RedemptionLedgerActivities,
  type SelfCheckActivities,
  type WebhookDeliveryActivities,
} from '@nova/activities';
import {
  campaignChangeSignal,
  redemptionProgressQuery,
  rejectRedemptionUpdate,
  revokeVestingUpdate,
  type CampaignWorkflowInput,
  type VestingContractActivities,
  type VestingLedgerActivities,
  type VestingWorkflowInput,
  type RedemptionWorkflowInput,
  type IssuanceWorkflowInput,
  type WebhookDeliveryWorkflowInput,
} from '@nova/workflows/definitions';
import { historiesDir } from './histories';
import { createTimeSkippingEnvironment } from '../support/time-skipping';

type Activities = SelfCheckActivities &
  IssuanceLedgerActivities &
  PaymentActivities &
  CampaignChainLedgerActivities &
  CampaignContractActivities &
  ReconcilerActivities &
  WebhookDeliveryActivities &
  RedemptionLedgerActivities &
  RedemptionContractActivities &
  VestingLedgerActivities &
  VestingContractActivities &
  ContractIndexerActivities &
  ReconciliationActivities;

const RECONCILIATION_ID = '00000000-0000-4000-8000-0000000000d1';
const RECONCILIATION_WINDOW = { from: '2026-12-01T00:00:00.000Z', to: '2026-12-02T00:00:00.000Z' };

const CAMPAIGN_ID = '00000000-0000-4000-8000-0000000000cc';
const MERCHANT_ID = '00000000-0000-4000-8000-0000000000aa';

/** A campaign's queue of changes: register, an update the contract refuses, pause, resume. */
const campaignChanges: CampaignChange[] = [
  {
    campaignId: CAMPAIGN_ID,
    merchantId: MERCHANT_ID,
    seq: 1,
    kind: 'register',
    budgetStroops: '10000000000',
    startsAt: '2026-03-01T00:00:00.000Z',
    endsAt: '2026-06-01T00:00:00.000Z',
  },
  {
    campaignId: CAMPAIGN_ID,
    merchantId: MERCHANT_ID,
    seq: 2,
    kind: 'update',
    budgetStroops: '20000000000',
    endsAt: '2026-02-01T00:00:00.000Z',
  },
  { campaignId: CAMPAIGN_ID, merchantId: MERCHANT_ID, seq: 3, kind: 'pause' },
  { campaignId: CAMPAIGN_ID, merchantId: MERCHANT_ID, seq: 4, kind: 'resume' },
];

function activities(overrides: Partial<Activities> = {}): Activities {
  let selfCheckFailures = 0;
  let indexerPages = 0;
  let reconciliationFailures = 0;
  return {
    // A chain with a backlog: full pages of 2, every third page short (caught up: the workflow
    // sleeps), and on page 7 the cursor found outside the RPC's retention window (a gap).
    async indexContractEventsPage() {
      indexerPages += 1;
      const caughtUp = indexerPages % 3 === 0;
      const nextLedger = 100 + indexerPages * 3;
      return {
        read: caughtUp ? 1 : 2,
        stored: caughtUp ? 1 : 2,
        caughtUp,
        latestLedger: nextLedger - 1 + (caughtUp ? 0 : 5),
        nextLedger,
        ...(indexerPages === 7
          ? { gap: { failureType: CONTRACT_EVENTS_OUTSIDE_RETENTION, fromLedger: 80, toLedger: nextLedger - 4 } }
          : {}),
      };
    },
    async completeSelfCheck(input) {
      // One transient failure, so the history pins the retry path too.
      if (selfCheckFailures++ === 0) throw new Error('transient database error');
      return {
        selfCheckId: input.selfCheckId,
        status: 'completed',
        workerIdentity: 'recorder',
        completedAt: '2026-11-21T00:00:00.000Z',
      };
    },
    reserveBudget: async () => ({ reserved: true }),
    markIssuanceSubmitted: async () => undefined,
    confirmIssuance: async () => undefined,
    failIssuance: async () => undefined,
    checkTrustline: async () => ({ status: 'ok' }),
    submitPayment: async () => ({ txHash: 'ab'.repeat(32), ledger: 42, attempt: 1, alreadyPaid: false }),
    resolvePayment: async () => ({ paid: false }),
    submitHolderPayment: async () => ({ txHash: 'aa'.repeat(32), ledger: 7, attempt: 1, alreadyPaid: false }),
    holdRedemptionStock: async () => ({ held: true }),
    releaseRedemptionStock: async () => undefined,
    recordRedemptionChainState: async () => undefined,
    markRedemptionPaid: async () => ({}),
    fulfilRedemption: async () => undefined,
    refundRedemption: async () => undefined,
    failRedemption: async () => undefined,
    openRedemptionOnChain: async () => ({ txHash: 'c1'.repeat(32), ledger: 5 }),
    confirmRedemptionOnChain: async () => ({ txHash: 'c2'.repeat(32), ledger: 9 }),
    cancelRedemptionOnChain: async () => ({ txHash: 'c3'.repeat(32), ledger: 9 }),
    markVestingRegistered: async () => undefined,
    recordVestingRelease: async () => undefined,
    markVestingStalled: async () => undefined,
    completeVesting: async () => undefined,
    revokeVesting: async () => undefined,
    registerVestingOnChain: async () => ({ txHash: 'd1'.repeat(32), ledger: 5 }),
    recordVestingReleaseOnChain: async () => ({ txHash: 'd2'.repeat(32), ledger: 9 }),
    revokeVestingOnChain: async () => ({ txHash: 'd3'.repeat(32), ledger: 9 }),
    pendingCampaignChanges: async (input) =>
      campaignChanges.filter((c) => c.seq > input.afterSeq && c.seq <= input.upToSeq),
    settleCampaignChange: async () => ({ status: 'synced' }),
    applyCampaignChange: async (change) => {
      if (change.seq === 2) {
        throw contractRefusal(
          new ContractError('contract error #6', 'CBINQWUJC6J3VHLG2CCD5E5TYZWNBLGC52HLUE6JBHE5TKHBGLTDXRI6', 6),
          'update',
          CAMPAIGN_CONTRACT_ERRORS,
        );
      }
      return { txHash: change.seq.toString(16).padStart(64, '0'), ledger: 40 + change.seq, alreadyApplied: false };
    },
    // Two batches of starts (the first full, so the run asks for the next), one of campaign changes.
    reconcileIssuanceStarts: async (input) =>
      input.cursor
        ? { seen: 1, redriven: 0, alreadyTaken: 1, failed: 0 }
        : {
            seen: 2,
            redriven: 1,
            alreadyTaken: 0,
            failed: 1,
            next: '2026-12-01T00:00:00.000Z|00000000-0000-4000-8000-000000000005',
          },
    reconcileCampaignChanges: async () => ({ seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 }),
    relayOutboxEvents: async () => ({ seen: 3, redriven: 2, alreadyTaken: 0, failed: 1 }),
    reconcileWebhookDeliveryStarts: async () => ({ seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 }),
    reconcileRedemptionStarts: async () => ({ seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 }),
    reconcileVestingStarts: async () => ({ seen: 2, redriven: 1, alreadyTaken: 1, failed: 0 }),
    reconcileReconciliationStarts: async () => ({ seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 }),
    // A reconciliation: two accounts, the first over two pages; payments compared in two batches
    // (a mismatch in the first); issuances paid in the window over two batches; one transient failure.
    openReconciliation: async (input) =>
      input.from && input.to
        ? { from: input.from, to: input.to }
        : {
            from: new Date(input.endsAtMs! - input.windowSeconds! * 1000).toISOString(),
            to: new Date(input.endsAtMs!).toISOString(),
          },
    platformAccounts: async () => ['GDISTRIBUTION', 'GCHANNEL'],
    stageChainPayments: async (input) =>
      input.account === 'GDISTRIBUTION' && !input.cursor ? { staged: 200, next: '8589934593' } : { staged: 3 },
    comparePaymentBatch: async (input) => {
      if (reconciliationFailures++ === 0) throw new Error('connection reset');
      return input.cursor
        ? { checked: { chainPayments: 3 }, mismatches: 0 }
        : { checked: { chainPayments: 200 }, mismatches: 1, next: '8589934800' };
    },
    checkPaidRecords: async (input) =>
      input.kind === 'issuance' && !input.cursor
        ? {
            checked: { issuance: 200 },
            mismatches: 0,
            next: '2026-12-01T12:00:00.000Z|00000000-0000-4000-8000-0000000000d2',
          }
        : { checked: { [input.kind]: input.kind === 'issuance' ? 2 : 0 }, mismatches: 0 },
    checkContractRecords: async (input) => ({ checked: { [input.kind]: 1 }, mismatches: 0 }),
    completeReconciliation: async () => ({ mismatches: 1, events: 1 }),
    failReconciliation: async () => undefined,
    // A 500 (retry after the schedule's first wait), then a 2xx.
    attemptWebhookDelivery: async (input) =>
      input.attempt === 1
        ? { kind: 'retry', waitSeconds: input.plannedRetrySeconds ?? 5 }
        : { kind: 'delivered', status: 200 },
    ...overrides,
  };
}

/** What the API does: signal-with-start; returns the run to keep (the first one, even if it continued as new). */
async function signalCampaign(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  seq: number,
  input: Partial<CampaignWorkflowInput> = {},
): Promise<string> {
  const handle = await env.client.workflow.signalWithStart('campaignWorkflow', {
    workflowId: campaignWorkflowId(CAMPAIGN_ID),
    taskQueue,
    args: [{ campaignId: CAMPAIGN_ID, merchantId: MERCHANT_ID, ...input }],
    signal: campaignChangeSignal,
    signalArgs: [{ seq }],
  });
  await handle.result();
  return handle.signaledRunId;
}

function issuanceInput(issuanceId: string): IssuanceWorkflowInput {
  return {
    issuanceId,
    merchantId: '00000000-0000-4000-8000-0000000000aa',
    campaignId: '00000000-0000-4000-8000-0000000000bb',
    walletAddress: 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H',
    amount: '12.5',
    amountStroops: '125000000',
    memo: issuanceMemo(issuanceId),
    run: 1,
    paymentBudgetSeconds: 3600,
  };
}

function redemptionInput(redemptionId: string, fulfilment: 'automatic' | 'manual'): RedemptionWorkflowInput {
  return {
    redemptionId,
    merchantId: MERCHANT_ID,
    itemId: '00000000-0000-4000-8000-0000000000dd',
    walletAddress: 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H',
    price: '25.0000000',
    priceStroops: '250000000',
    fulfilment,
    signedEnvelopeXdr: 'AAAA-signed-by-the-holder',
    fulfilmentDeadlineSeconds: 72 * 3600,
    refundMemo: redemptionRefundMemo(redemptionId),
  };
}

/** A manual redemption the merchant rejects once it waits for fulfilment (the API's update). */
async function rejectRedemption(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  redemptionId: string,
): Promise<string> {
  const handle = await env.client.workflow.start('redemptionWorkflow', {
    workflowId: redemptionWorkflowId(redemptionId),
    taskQueue,
    args: [redemptionInput(redemptionId, 'manual')],
  });
  for (;;) {
    const progress = await handle.query(redemptionProgressQuery);
    if (progress.step === 'awaiting-fulfilment') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await handle.executeUpdate(rejectRedemptionUpdate, { args: [{ reason: 'out of stock after all' }] });
  await handle.result();
  return handle.firstExecutionRunId;
}

const DAY_MS = 86_400_000;

/**
 * A schedule from the recorder's next midnight (the server's clock moves on with every
 * recording): a half-year cliff, monthly to a year.
 */
async function vestingInput(
  env: TestWorkflowEnvironment,
  scheduleId: string,
  overrides: Partial<VestingWorkflowInput> = {},
): Promise<VestingWorkflowInput> {
  const start = (Math.floor((await env.currentTimeMs()) / DAY_MS) + 1) * DAY_MS;
  return {
    scheduleId,
    merchantId: MERCHANT_ID,
    campaignId: CAMPAIGN_ID,
    beneficiary: 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H',
    totalStroops: '10000000000',
    startAt: new Date(start).toISOString(),
    cliffAt: new Date(start + 181 * DAY_MS).toISOString(),
    endAt: new Date(start + 365 * DAY_MS).toISOString(),
    interval: 'P1M',
    revocable: true,
    memoStem: vestingMemoStem(scheduleId),
    ...overrides,
  };
}

/** Runs a schedule to its end; returns its first run, or with `nextRun` the run it continued as. */
async function runVesting(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  scheduleId: string,
  options: { input?: Partial<VestingWorkflowInput>; nextRun?: boolean; revokeAfterDays?: number } = {},
): Promise<string> {
  const handle = await env.client.workflow.start('vestingWorkflow', {
    workflowId: vestingWorkflowId(scheduleId),
    taskQueue,
    args: [await vestingInput(env, scheduleId, options.input)],
  });
  if (options.revokeAfterDays !== undefined) {
    // Between releases: the API's update.
    await env.sleep(options.revokeAfterDays * DAY_MS);
    await handle.executeUpdate(revokeVestingUpdate);
  }
  await handle.result();
  if (!options.nextRun) return handle.firstExecutionRunId;
  const first = await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
  const next = first.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  if (!next) throw new Error('the schedule did not continue as new');
  return next;
}

/**
 * Runs the campaign contract's indexer (it never ends on its own) until its first run has
 * continued as new; with `nextRun`, also the carried run, through a gap and a caught-up sleep.
 * Then terminates what is still running; returns the run whose history to keep.
 */
async function runIndexer(env: TestWorkflowEnvironment, taskQueue: string, nextRun: boolean): Promise<string> {
  const handle = await env.client.workflow.start('contractIndexerWorkflow', {
    workflowId: contractIndexerWorkflowId('campaign', taskQueue),
    taskQueue,
    args: [
      {
        contract: 'campaign',
        contractId: 'CDLZFC3SYJYDZT7K67VZ75HPJVIEUVNIXF47ZG2FB2RMQQVU2HHGCYSC',
        pageSize: 2,
        pollSeconds: 5,
        maxHistoryEvents: 40,
      },
    ],
  });
  const historyOf = (runId: string) => env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
  const continuedAs = async (runId: string) =>
    (await historyOf(runId)).events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ??
    undefined;
  let second: string | undefined;
  for (let step = 0; step < 100 && !second; step += 1) {
    second = await continuedAs(handle.firstExecutionRunId);
    if (!second) await env.sleep('5 seconds');
  }
  if (!second) throw new Error('the indexer did not continue as new');
  if (!nextRun) {
    await handle.terminate('recorded');
    return handle.firstExecutionRunId;
  }
  for (let step = 0; step < 100; step += 1) {
    const events = (await historyOf(second)).events ?? [];
    const gapMarked = events.some((event) => event.upsertWorkflowSearchAttributesEventAttributes);
    const slept = events.some((event) => event.timerFiredEventAttributes);
    if ((gapMarked && slept) || (await continuedAs(second))) break;
    await env.sleep('5 seconds');
  }
  if (!(await continuedAs(second))) await handle.terminate('recorded');
  return second;
}

function webhookDeliveryInput(eventId: string): WebhookDeliveryWorkflowInput {
  return {
    deliveryId: `00000000-0000-4000-8000-0000000000${eventId.padStart(2, '0')}`,
    eventId,
    endpointId: '00000000-0000-4000-8000-0000000000ee',
    merchantId: MERCHANT_ID,
    eventType: 'issuance.confirmed',
    run: 1,
  };
}

const recordings: {
  file: string;
  workflowType: string;
  workflowId: string;
  args: unknown[];
  overrides?: Partial<Activities>;
  /** Starts the workflow its own way (e.g. signal-with-start); returns the run id whose history to keep. */
  run?: (env: TestWorkflowEnvironment, taskQueue: string) => Promise<string>;
}[] = [
  {
    file: 'self-check.completed-after-retry.json',
    workflowType: 'selfCheckWorkflow',
    workflowId: selfCheckWorkflowId('00000000-0000-4000-8000-000000000001'),
    args: [{ selfCheckId: '00000000-0000-4000-8000-000000000001' }],
  },
  {
    file: 'issuance.confirmed.json',
    workflowType: 'issuanceWorkflow',
    workflowId: issuanceWorkflowId('00000000-0000-4000-8000-000000000002'),
    args: [issuanceInput('00000000-0000-4000-8000-000000000002')],
  },
  {
    file: 'issuance.failed-trustline-missing.json',
    workflowType: 'issuanceWorkflow',
    workflowId: issuanceWorkflowId('00000000-0000-4000-8000-000000000003'),
    args: [issuanceInput('00000000-0000-4000-8000-000000000003')],
    overrides: { checkTrustline: async () => ({ status: 'trustline-missing' }) },
  },
  {
    file: 'issuance.payment-rejected.json',
    workflowType: 'issuanceWorkflow',
    workflowId: issuanceWorkflowId('00000000-0000-4000-8000-000000000004'),
    args: [issuanceInput('00000000-0000-4000-8000-000000000004')],
    overrides: {
      submitPayment: async () => {
        throw ApplicationFailure.nonRetryable('op_no_trust', 'TrustlineMissing');
      },
    },
  },
  {
    file: 'reconciler.two-steps-in-batches.json',
    workflowType: 'reconcilerWorkflow',
    workflowId: 'nova-reconciler/record',
    args: [{ afterSeconds: 10, batchSize: 2 }],
  },
  {
    file: 'reconciler.with-webhook-steps.json',
    workflowType: 'reconcilerWorkflow',
    workflowId: 'nova-reconciler/record-webhooks',
    args: [{ afterSeconds: 10, batchSize: 2 }],
  },
  {
    file: 'webhook-delivery.retried-then-delivered.json',
    workflowType: 'webhookDeliveryWorkflow',
    workflowId: webhookDeliveryWorkflowId('7', '00000000-0000-4000-8000-0000000000ee'),
    args: [webhookDeliveryInput('7')],
  },
  {
    file: 'webhook-delivery.endpoint-gone.json',
    workflowType: 'webhookDeliveryWorkflow',
    workflowId: webhookDeliveryWorkflowId('8', '00000000-0000-4000-8000-0000000000ee'),
    args: [webhookDeliveryInput('8')],
    overrides: { attemptWebhookDelivery: async () => ({ kind: 'failed', failureType: 'EndpointGone' }) },
  },
  {
    file: 'reconciler.with-redemption-steps.json',
    workflowType: 'reconcilerWorkflow',
    workflowId: 'nova-reconciler/record-redemptions',
    args: [{ afterSeconds: 10, batchSize: 2 }],
  },
  {
    file: 'reconciler.with-vesting-steps.json',
    workflowType: 'reconcilerWorkflow',
    workflowId: 'nova-reconciler/record-vesting',
    args: [{ afterSeconds: 10, batchSize: 2 }],
  },
  {
    file: 'redemption.fulfilled.json',
    workflowType: 'redemptionWorkflow',
    workflowId: redemptionWorkflowId('00000000-0000-4000-8000-000000000011'),
    args: [redemptionInput('00000000-0000-4000-8000-000000000011', 'automatic')],
  },
  {
    file: 'redemption.payment-refused-compensated.json',
    workflowType: 'redemptionWorkflow',
    workflowId: redemptionWorkflowId('00000000-0000-4000-8000-000000000012'),
    args: [redemptionInput('00000000-0000-4000-8000-000000000012', 'automatic')],
    overrides: {
      submitHolderPayment: async () => {
        throw ApplicationFailure.nonRetryable('op_underfunded', 'HolderUnderfunded');
      },
    },
  },
  {
    file: 'redemption.rejected-refunded.json',
    workflowType: 'redemptionWorkflow',
    workflowId: redemptionWorkflowId('00000000-0000-4000-8000-000000000013'),
    args: [],
    run: (env, taskQueue) => rejectRedemption(env, taskQueue, '00000000-0000-4000-8000-000000000013'),
  },
  {
    file: 'redemption.deadline-refunded.json',
    workflowType: 'redemptionWorkflow',
    workflowId: redemptionWorkflowId('00000000-0000-4000-8000-000000000014'),
    args: [redemptionInput('00000000-0000-4000-8000-000000000014', 'manual')],
  },
  {
    file: 'campaign.changes-with-refusal.json',
    workflowType: 'campaignWorkflow',
    workflowId: campaignWorkflowId(CAMPAIGN_ID),
    args: [],
    run: (env, taskQueue) => signalCampaign(env, taskQueue, 4),
  },
  {
    file: 'campaign.continued-as-new.json',
    workflowType: 'campaignWorkflow',
    workflowId: campaignWorkflowId(CAMPAIGN_ID),
    args: [],
    run: (env, taskQueue) => signalCampaign(env, taskQueue, 4, { maxHistoryEvents: 20 }),
  },
  {
    file: 'vesting.continued-as-new.first-run.json',
    workflowType: 'vestingWorkflow',
    workflowId: vestingWorkflowId('00000000-0000-4000-8000-000000000020'),
    args: [],
    run: (env, taskQueue) =>
      runVesting(env, taskQueue, '00000000-0000-4000-8000-000000000020', { input: { maxHistoryEvents: 40 } }),
  },
  {
    file: 'vesting.continued-as-new.carried-run.json',
    workflowType: 'vestingWorkflow',
    workflowId: vestingWorkflowId('00000000-0000-4000-8000-000000000021'),
    args: [],
    run: (env, taskQueue) =>
      runVesting(env, taskQueue, '00000000-0000-4000-8000-000000000021', {
        input: { maxHistoryEvents: 40 },
        nextRun: true,
      }),
  },
  {
    file: 'vesting.revoked-mid-way.json',
    workflowType: 'vestingWorkflow',
    workflowId: vestingWorkflowId('00000000-0000-4000-8000-000000000022'),
    args: [],
    run: (env, taskQueue) =>
      runVesting(env, taskQueue, '00000000-0000-4000-8000-000000000022', { revokeAfterDays: 230 }),
  },
  {
    file: 'contract-indexer.continued-as-new.first-run.json',
    workflowType: 'contractIndexerWorkflow',
    workflowId: contractIndexerWorkflowId('campaign', 'record-contract-indexer.continued-as-new.first-run.json'),
    args: [],
    run: (env, taskQueue) => runIndexer(env, taskQueue, false),
  },
  {
    file: 'contract-indexer.carried-run-with-gap.json',
    workflowType: 'contractIndexerWorkflow',
    workflowId: contractIndexerWorkflowId('campaign', 'record-contract-indexer.carried-run-with-gap.json'),
    args: [],
    run: (env, taskQueue) => runIndexer(env, taskQueue, true),
  },
  {
    file: 'vesting.stalled-then-caught-up.json',
    workflowType: 'vestingWorkflow',
    workflowId: vestingWorkflowId('00000000-0000-4000-8000-000000000023'),
    args: [],
    run: (env, taskQueue) =>
      runVesting(env, taskQueue, '00000000-0000-4000-8000-000000000023', {
        input: { retryDelaysSeconds: [60], stalledRetrySeconds: 30 * 86_400 },
      }),
    // Releases 2 and 3 refused (the trustline gone), paid with 4.
    overrides: {
      submitPayment: async (input) => {
        const release = Number(input.businessKey.split('/').pop());
        if (release === 2 || release === 3) throw ApplicationFailure.nonRetryable('op_no_trust', 'TrustlineMissing');
        return { txHash: 'ab'.repeat(32), ledger: 42, attempt: 1, alreadyPaid: false };
      },
    },
  },
  {
    file: 'reconciler.with-reconciliation-steps.json',
    workflowType: 'reconcilerWorkflow',
    workflowId: 'nova-reconciler/record-reconciliations',
    args: [{ afterSeconds: 10, batchSize: 2 }],
  },
  {
    file: 'reconciliation.admin-window-in-batches.json',
    workflowType: 'chainReconciliationWorkflow',
    workflowId: reconciliationWorkflowId(RECONCILIATION_ID),
    args: [{ trigger: 'admin', reconciliationId: RECONCILIATION_ID, ...RECONCILIATION_WINDOW }],
  },
  {
    file: 'reconciliation.scheduled.json',
    workflowType: 'chainReconciliationWorkflow',
    workflowId: 'nova-reconciliation/record-2026-12-02T03:00:00Z',
    args: [{ trigger: 'schedule', windowSeconds: 86_400, lagSeconds: 600 }],
  },
  {
    file: 'reconciliation.failed-batch.json',
    workflowType: 'chainReconciliationWorkflow',
    workflowId: reconciliationWorkflowId('00000000-0000-4000-8000-0000000000d3'),
    args: [{ trigger: 'admin', reconciliationId: '00000000-0000-4000-8000-0000000000d3', ...RECONCILIATION_WINDOW }],
    overrides: {
      checkContractRecords: async () => {
        throw ApplicationFailure.nonRetryable('simulation refused get', 'SimulationFailed');
      },
    },
  },
];

// Once the platform has runs in production, a history of an earlier workflow version is kept
// as it is (it cannot be recorded again) beside the ones this list writes.
async function main(): Promise<void> {
  const env = await createTimeSkippingEnvironment();
  try {
    for (const recording of recordings) {
      const file = join(historiesDir, recording.file);
      if (existsSync(file) && !process.argv.includes('--force')) {
        console.log(`kept ${file}`);
        continue;
      }
      const taskQueue = `record-${recording.file}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowsPath: require.resolve('@nova/workflows'),
        activities: activities(recording.overrides),
      });
      const runId = await worker.runUntil(
        recording.run
          ? recording.run(env, taskQueue)
          : env.client.workflow
              .execute(recording.workflowType, { workflowId: recording.workflowId, taskQueue, args: recording.args })
              .then(() => undefined)
              .catch(() => undefined), // failed runs are histories worth keeping too
      );
      const history = await env.client.workflow.getHandle(recording.workflowId, runId).fetchHistory();
      writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
      console.log(`wrote ${file}`);
    }
  } finally {
    await env.teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
