import type { ReconcileTotals } from '@nova/activities';

export const reconcilerWorkflowType = 'reconcilerWorkflow';

/**
 * One reconciler per deployment (its database and task queue) in a namespace: a Temporal
 * Schedule with this id runs `reconcilerWorkflow` on the task queue.
 */
export function reconcilerScheduleId(taskQueue: string): string {
  return `nova-reconciler/${taskQueue}`;
}

export interface ReconcilerInput {
  /** A hand-off recorded this long ago and still not taken by Temporal is re-driven. */
  afterSeconds: number;
  /** Records one activity call re-drives at most (default 200) ... */
  batchSize?: number;
  /** ... and batches one run takes at most per step (default 20); the next run takes the rest. */
  maxBatches?: number;
}

/** The steps of a reconciler run, in order. */
export type ReconcilerStep =
  | 'issuanceStarts'
  | 'campaignChanges'
  | 'redemptionStarts'
  | 'vestingStarts'
  | 'reconciliationStarts'
  | 'outboxEvents'
  | 'webhookDeliveryStarts';

export interface ReconcilerOutcome {
  steps: Record<ReconcilerStep, ReconcileTotals>;
}
