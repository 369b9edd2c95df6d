import { ActivityFailure, ApplicationFailure, log, proxyActivities, uuid4, workflowInfo } from '@temporalio/workflow';
import type { ReconciliationActivities, ReconciliationBatch } from '@nova/activities';
import { CONTRACT_RECORD_KINDS, EXPECTED_PAYMENT_KINDS, reconciliationWorkflowId } from '@nova/domain';
import { activityProfiles } from './definitions/activity-profiles';
import type { ChainReconciliationInput, ChainReconciliationOutcome } from './definitions/reconciliation';

const DEFAULT_WINDOW_SECONDS = 86_400;

const batches = proxyActivities<ReconciliationActivities>(activityProfiles.reconciliationBatch);
const report = proxyActivities<
  Pick<ReconciliationActivities, 'openReconciliation' | 'completeReconciliation' | 'failReconciliation'>
>(activityProfiles.dbWrite);

/**
 * One reconciliation of the chain against the read models for a window (id
 * `reconciliation/<id>` for an admin's request; the schedule's id and time for a scheduled run):
 * stage the payments that left each platform account, compare them with the records they pay,
 * check every record paid in the window has its payment, compare the contracts' records with
 * their resources, then complete the report. Every step is a loop of batches, each an activity
 * returning only counts and a cursor, so the history stays small whatever the window holds.
 */
export async function chainReconciliationWorkflow(
  input: ChainReconciliationInput,
): Promise<ChainReconciliationOutcome> {
  const reconciliationId = input.reconciliationId ?? uuid4();
  // An admin's report has its window; a scheduled run's ends lagSeconds before the run started.
  const window = await report.openReconciliation({
    reconciliationId,
    trigger: input.trigger,
    workflowId: input.reconciliationId ? reconciliationWorkflowId(reconciliationId) : workflowInfo().workflowId,
    ...(input.from && input.to
      ? { from: input.from, to: input.to }
      : {
          endsAtMs: workflowInfo().runStartTime.getTime() - (input.lagSeconds ?? 0) * 1000,
          windowSeconds: input.windowSeconds ?? DEFAULT_WINDOW_SECONDS,
        }),
  });
  const base = { reconciliationId, ...window };
  const checked: Partial<Record<string, number>> = {};
  const tally = (batch: ReconciliationBatch) => {
    for (const [kind, count] of Object.entries(batch.checked)) checked[kind] = (checked[kind] ?? 0) + (count ?? 0);
  };
  try {
    for (const account of await batches.platformAccounts()) {
      let cursor: string | undefined;
      do {
        const staged = await batches.stageChainPayments({
          ...base,
          account,
          ...(cursor ? { cursor } : {}),
          ...(input.maxPages ? { maxPages: input.maxPages } : {}),
          ...(input.pageSize ? { pageSize: input.pageSize } : {}),
        });
        cursor = staged.next;
      } while (cursor);
    }
    const batchSize = input.batchSize ? { batchSize: input.batchSize } : {};
    let cursor: string | undefined;
    do {
      const batch = await batches.comparePaymentBatch({ ...base, ...batchSize, ...(cursor ? { cursor } : {}) });
      tally(batch);
      cursor = batch.next;
    } while (cursor);
    for (const kind of EXPECTED_PAYMENT_KINDS) {
      do {
        const batch = await batches.checkPaidRecords({ ...base, ...batchSize, kind, ...(cursor ? { cursor } : {}) });
        tally(batch);
        cursor = batch.next;
      } while (cursor);
    }
    for (const kind of CONTRACT_RECORD_KINDS) {
      do {
        const batch = await batches.checkContractRecords({
          ...base,
          ...batchSize,
          kind,
          ...(cursor ? { cursor } : {}),
        });
        tally(batch);
        cursor = batch.next;
      } while (cursor);
    }
  } catch (error) {
    // The activity's own reason (its cause), not "Activity task failed".
    const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    await report.failReconciliation({ reconciliationId, message });
    throw ApplicationFailure.nonRetryable(
      `reconciliation ${reconciliationId} failed: ${message}`,
      'ReconciliationFailed',
    );
  }
  const completed = await report.completeReconciliation({ reconciliationId, checked });
  if (completed.mismatches > 0)
    log.warn('reconciliation found mismatches', { reconciliationId, mismatches: completed.mismatches });
  return { reconciliationId, ...window, checked, mismatches: completed.mismatches };
}
