import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  CampaignChainLedgerActivities,
  CampaignChange,
  CampaignChangeOutcome,
  CampaignContractActivities,
} from '@nova/activities';
import { activityProfiles } from './definitions/activity-profiles';
import {
  campaignChangeSignal,
  campaignSyncQuery,
  type CampaignSyncOutcome,
  type CampaignSyncProgress,
  type CampaignWorkflowInput,
} from './definitions/campaign';

const ledger = (activityId: string) =>
  proxyActivities<CampaignChainLedgerActivities>({ ...activityProfiles.dbWrite, activityId });
// Retryable errors (Soroban RPC down, rate limits, a busy source account) retry until they
// clear, with backoff: the change stays pending meanwhile and the changes after it wait.
const contract = (activityId: string) =>
  proxyActivities<CampaignContractActivities>({ ...activityProfiles.stellarSubmit, activityId });

/** A final failure of a change: its type (e.g. CampaignExists) and the contract's numbered code. */
function refusalOf(error: unknown): Extract<CampaignChangeOutcome, { status: 'failed' }> {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const detail = cause.details?.[0] as { code?: unknown } | undefined;
    return {
      status: 'failed',
      failureType: cause.type ?? 'ContractCallFailed',
      failureCode: typeof detail?.code === 'number' ? detail.code : null,
      message: cause.message,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 'failed', failureType: 'ContractCallFailed', failureCode: null, message };
}

/**
 * Puts one campaign on the campaign contract and keeps it in step: one workflow per campaign
 * (`campaign/<id>`), signalled (signal-with-start) with the sequence number of each change the
 * API accepted. It drains the queue the API wrote, ONE change at a time in seq order, each
 * written through the contract and then settled in the read model. A refused change (a
 * contract error: final) is settled failed and the next changes still go ahead. When no change
 * is waiting it lingers `idleSeconds` for a late one, then completes; the next change starts a
 * new run. A long-lived run continues as new between two changes.
 */
export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<CampaignSyncOutcome> {
  const progress: CampaignSyncProgress = {
    requestedSeq: input.requestedSeq ?? 0,
    settledSeq: input.settledSeq ?? 0,
  };
  const outcome: CampaignSyncOutcome = { settledSeq: progress.settledSeq, synced: 0, failed: 0 };
  setHandler(campaignChangeSignal, ({ seq }) => {
    if (seq > progress.requestedSeq) progress.requestedSeq = seq;
  });
  setHandler(campaignSyncQuery, () => progress);

  const waiting = () => progress.requestedSeq > progress.settledSeq;
  const maxHistoryEvents = input.maxHistoryEvents ?? 2000;
  const continueIfLong = async () => {
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= maxHistoryEvents) {
      // Signal handlers only raise a number, so nothing is in flight: carry the numbers over.
      await continueAsNew<typeof campaignWorkflow>({
        ...input,
        requestedSeq: progress.requestedSeq,
        settledSeq: progress.settledSeq,
      });
    }
  };

  for (;;) {
    if (!waiting() && !(await condition(waiting, `${input.idleSeconds ?? 30} seconds`))) break;
    await continueIfLong();
    const upToSeq = progress.requestedSeq;
    const changes = await ledger('pending-changes').pendingCampaignChanges({
      campaignId: input.campaignId,
      afterSeq: progress.settledSeq,
      upToSeq,
    });
    for (const change of changes) {
      await continueIfLong();
      await applyAndSettle(change, progress, outcome);
    }
    // Numbers with no pending change (settled by an earlier run) count as settled too.
    progress.settledSeq = Math.max(progress.settledSeq, upToSeq);
    outcome.settledSeq = progress.settledSeq;
  }
  return outcome;
}

async function applyAndSettle(
  change: CampaignChange,
  progress: CampaignSyncProgress,
  outcome: CampaignSyncOutcome,
): Promise<void> {
  progress.current = { seq: change.seq, kind: change.kind };
  let result: CampaignChangeOutcome;
  try {
    const applied = await contract(`${change.kind}-${change.seq}`).applyCampaignChange(change);
    result = { status: 'synced', txHash: applied.txHash, ledger: applied.ledger };
  } catch (error) {
    if (isCancellation(error)) throw error;
    // Only final failures get here (retryable ones are retried by the activity's policy).
    result = refusalOf(error);
  }
  await ledger(`settle-${change.seq}`).settleCampaignChange({
    campaignId: change.campaignId,
    seq: change.seq,
    outcome: result,
  });
  progress.settledSeq = change.seq;
  progress.current = undefined;
  progress.last = {
    seq: change.seq,
    kind: change.kind,
    status: result.status,
    ...(result.status === 'failed' ? { failureType: result.failureType } : {}),
  };
  outcome.settledSeq = change.seq;
  if (result.status === 'synced') outcome.synced += 1;
  else outcome.failed += 1;
}
