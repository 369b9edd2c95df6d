import {
  type Client,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type ScheduleOptions,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import { reconcilerScheduleId, reconcilerWorkflowType, type ReconcilerInput } from '../definitions/reconciler';
import {
  chainReconciliationWorkflowType,
  reconciliationScheduleId,
  type ChainReconciliationInput,
} from '../definitions/reconciliation';

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
  return await ensureSchedule(client, scheduleId, definition);
}

/** Creates a schedule, or updates it to `definition` keeping its state (paused stays paused). */
async function ensureSchedule(
  client: Client,
  scheduleId: string,
  definition: Omit<ScheduleOptions, 'scheduleId'>,
): Promise<{ scheduleId: string; outcome: 'created' | 'updated' }> {
  try {
    await client.schedule.create({ scheduleId, ...definition });
    return { scheduleId, outcome: 'created' };
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule
    .getHandle(scheduleId)
    .update((previous) => ({ ...(definition as ScheduleUpdateOptions), state: previous.state }));
  return { scheduleId, outcome: 'updated' };
}

export interface ReconciliationScheduleSettings {
  taskQueue: string;
  /** RECONCILIATION_SCHEDULE: a cron expression (UTC), or an interval `every <n> seconds|minutes|hours`. */
  schedule: { cron: string } | { everySeconds: number };
  /** RECONCILIATION_WINDOW_SECONDS */
  windowSeconds: number;
  /** RECONCILIATION_LAG_SECONDS */
  lagSeconds: number;
}

/**
 * The deployment's chain reconciliation schedule (`nova-reconciliation/<task queue>`), kept by
 * every worker at boot like the reconciler's: each run reconciles the window of
 * `windowSeconds` that ended `lagSeconds` before it started (the lag lets payments in flight
 * reach the read model first), so consecutive daily runs cover consecutive days.
 */
export async function ensureReconciliationSchedule(
  client: Client,
  settings: ReconciliationScheduleSettings,
): Promise<{ scheduleId: string; outcome: 'created' | 'updated' }> {
  const scheduleId = reconciliationScheduleId(settings.taskQueue);
  const input: ChainReconciliationInput = {
    trigger: 'schedule',
    windowSeconds: settings.windowSeconds,
    lagSeconds: settings.lagSeconds,
  };
  return await ensureSchedule(client, scheduleId, {
    spec:
      'cron' in settings.schedule
        ? { cronExpressions: [settings.schedule.cron] }
        : { intervals: [{ every: `${settings.schedule.everySeconds} seconds` }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: chainReconciliationWorkflowType,
      workflowId: scheduleId,
      taskQueue: settings.taskQueue,
      args: [input],
      staticSummary: 'Reconciles the chain against the read models for the last window',
    },
    policies: {
      // One at a time; a run missed while the cluster was down is caught up within a day.
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: '1 day',
    },
  });
}
