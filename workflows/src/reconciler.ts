import { ApplicationFailure, log, patched, proxyActivities } from '@temporalio/workflow';
import type { ReconcileBatch, ReconcileBatchInput, ReconcilerActivities, ReconcileTotals } from '@nova/activities';
import { activityProfiles } from './definitions/activity-profiles';
import type { ReconcilerInput, ReconcilerOutcome, ReconcilerStep } from './definitions/reconciler';

const steps = proxyActivities<ReconcilerActivities>(activityProfiles.reconcile);

/**
 * The steps, in order, each re-driving one kind of recorded hand-off. Another kind of hand-off
 * is one more entry here and one more activity. Outbox events are relayed before the delivery
 * starts are re-driven, so a delivery the relay could not start is started in the same pass.
 */
const STEPS: Record<ReconcilerStep, (input: ReconcileBatchInput) => Promise<ReconcileBatch>> = {
  issuanceStarts: steps.reconcileIssuanceStarts,
  campaignChanges: steps.reconcileCampaignChanges,
  redemptionStarts: steps.reconcileRedemptionStarts,
  vestingStarts: steps.reconcileVestingStarts,
  reconciliationStarts: steps.reconcileReconciliationStarts,
  outboxEvents: steps.relayOutboxEvents,
  webhookDeliveryStarts: steps.reconcileWebhookDeliveryStarts,
};

/**
 * One pass of the reconciler, started by the deployment's Temporal Schedule: each step takes
 * its due records oldest first, a batch at a time, up to `maxBatches` (the rest is the next
 * run's). A step that fails does not stop the others; the run then fails naming it, so
 * operators see it in the Web UI, and the next run tries again.
 */
export async function reconcilerWorkflow(input: ReconcilerInput): Promise<ReconcilerOutcome> {
  const batchSize = input.batchSize ?? 200;
  const maxBatches = input.maxBatches ?? 20;
  const outcome = { steps: {} } as ReconcilerOutcome;
  const failed: string[] = [];
  // Runs recorded before the webhook steps existed replay without them.
  const withWebhooks = patched('reconciler-webhook-steps');
  // ... and runs recorded before redemptions existed, without theirs.
  const withRedemptions = patched('reconciler-redemption-steps');
  // ... and runs recorded before vesting schedules existed, without theirs.
  const withVesting = patched('reconciler-vesting-steps');
  // ... and runs recorded before admins could ask for reconciliations, without theirs.
  const withReconciliations = patched('reconciler-reconciliation-steps');
  for (const [name, step] of Object.entries(STEPS) as [ReconcilerStep, (typeof STEPS)[ReconcilerStep]][]) {
    if (!withWebhooks && (name === 'outboxEvents' || name === 'webhookDeliveryStarts')) continue;
    if (!withRedemptions && name === 'redemptionStarts') continue;
    if (!withVesting && name === 'vestingStarts') continue;
    if (!withReconciliations && name === 'reconciliationStarts') continue;
    const totals: ReconcileTotals = { seen: 0, redriven: 0, alreadyTaken: 0, failed: 0 };
    outcome.steps[name] = totals;
    let cursor: string | undefined;
    try {
      for (let batch = 0; batch < maxBatches; batch++) {
        const done = await step({ afterSeconds: input.afterSeconds, batchSize, ...(cursor ? { cursor } : {}) });
        totals.seen += done.seen;
        totals.redriven += done.redriven;
        totals.alreadyTaken += done.alreadyTaken;
        totals.failed += done.failed;
        cursor = done.next;
        if (!cursor) break;
      }
    } catch (error) {
      failed.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (totals.redriven > 0 || totals.failed > 0) log.info(`reconciler step ${name}`, { ...totals });
  }
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `reconciler steps failed: ${failed.join('; ')}`,
      'ReconcilerStepFailed',
      outcome,
    );
  }
  return outcome;
}
