import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { reconcilerScheduleId, reconcilerWorkflowType, type ReconcilerInput } from '../definitions/reconciler';

export interface ReconcilerScheduleSettings {
  taskQueue: string;
  /** RECONCILE_EVERY_SECONDS */
  everySeconds: number;
  /** RECONCILE_AFTER_SECONDS */
  afterSeconds: number;
}

/**
 * Creates the deployment's reconciler schedule, or brings an existing one up to date with the
 * configuration (a paused schedule stays paused: that is an operator's decision). Idempotent, so
 * every worker runs it at boot; two workers booting at once both end with the same schedule.
 */
export async function ensureReconcilerSchedule(
  client: Client,
  settings: ReconcilerScheduleSettings,
): Promise<{ scheduleId: string; outcome: 'created' | 'updated' }> {
  const scheduleId = reconcilerScheduleId(settings.taskQueue);
  const input: ReconcilerInput = { afterSeconds: settings.afterSeconds };
  const definition = {
    spec: { intervals: [{ every: `${settings.everySeconds} seconds` }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: reconcilerWorkflowType,
      // Temporal appends the scheduled time: one id per run.
      workflowId: scheduleId,
      taskQueue: settings.taskQueue,
      args: [input],
      // A run no worker picks up does not hold the schedule (SKIP) for longer than this.
      workflowExecutionTimeout: '10 minutes',
      staticSummary: 'Re-drives hand-offs Temporal has not taken (issuance starts, campaign changes)',
    },
    policies: {
      // One run at a time: a tick while a run is still going is skipped, not queued.
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: '1 minute',
    },
  };
  try {
    await client.schedule.create({ scheduleId, ...definition });
    return { scheduleId, outcome: 'created' };
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...definition, state: previous.state }));
  return { scheduleId, outcome: 'updated' };
}
