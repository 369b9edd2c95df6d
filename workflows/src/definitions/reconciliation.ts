import type { ReconciliationTrigger } from '@nova/domain';

export const chainReconciliationWorkflowType = 'chainReconciliationWorkflow';

/** The deployment's daily reconciliation: a Temporal Schedule with this id runs chainReconciliationWorkflow. */
export function reconciliationScheduleId(taskQueue: string): string {
  return `nova-reconciliation/${taskQueue}`;
}

export interface ChainReconciliationInput {
  trigger: ReconciliationTrigger;
  /** An admin's request: its report row exists, and its window is fixed. */
  reconciliationId?: string;
  /** ISO-8601 instants, [from, to): an admin's window. */
  from?: string;
  to?: string;
  /** A scheduled run: the window is this long ... */
  windowSeconds?: number;
  /** ... and ends this long before the run started, so payments still being recorded are left to the next window. */
  lagSeconds?: number;
  /** Records one comparison batch takes (default 500). */
  batchSize?: number;
  /** Horizon pages one staging call reads (default 10 of 200 payments). */
  maxPages?: number;
  pageSize?: number;
}

export interface ChainReconciliationOutcome {
  reconciliationId: string;
  from: string;
  to: string;
  checked: Partial<Record<string, number>>;
  mismatches: number;
}
