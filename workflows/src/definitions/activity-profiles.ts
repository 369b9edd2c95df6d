import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/**
 * Named option profiles, one per kind of side effect. Every activity a workflow proxies
 * uses one of these, so timeouts and retries are decided once per kind.
 */
export const activityProfiles = {
  /** Short PostgreSQL read-model writes: fast retries, the database is usually back in seconds. */
  dbWrite: {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
  },
  /** Stellar submissions: bounded per attempt, retried with backoff; the gateway keeps them exactly once. */
  stellarSubmit: {
    startToCloseTimeout: '60 seconds',
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  },
  /**
   * The reconciler's steps (database reads and Temporal starts/signals): a few attempts, bounded
   * so a run ends well before the next; what is left is the next run's.
   */
  reconcile: {
    startToCloseTimeout: '60 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3 },
  },
  /**
   * A reconciliation's batches (Horizon pages, PostgreSQL comparisons, contract view calls):
   * each heartbeats its position, so a worker that dies mid-batch is replaced within the
   * heartbeat timeout and the retry resumes where the heartbeat left off.
   */
  reconciliationBatch: {
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
  },
  /**
   * One webhook attempt (the POST, cut at WEBHOOK_ATTEMPT_TIMEOUT_SECONDS, and its record). What
   * the receiver answers is the activity's result, never a retry of it: the schedule's waits are
   * the workflow's timers. The activity is retried only when the platform itself failed (the
   * database); the heartbeat lets another worker take over quickly after a crash.
   */
  webhookPost: {
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
  },
  /**
   * A contract indexer's page (a Soroban RPC read and one database transaction): bounded per
   * attempt, retried with backoff for as long as the RPC or the database is away.
   */
  contractIndex: {
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  },
} satisfies Record<string, ActivityOptions>;

/**
 * Short steps run as local activities: in the worker that runs the workflow task, recorded as
 * markers in the history, with no task-queue round trip through the server. Only for steps
 * that take milliseconds to seconds; anything that waits for a ledger stays a normal activity.
 */
export const localActivityProfiles = {
  /** PostgreSQL read-model writes, as `dbWrite`. */
  dbWrite: activityProfiles.dbWrite,
  /** Horizon reads (trustline checks): bounded per attempt, retried with backoff. */
  stellarRead: {
    startToCloseTimeout: '20 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  },
} satisfies Record<string, LocalActivityOptions>;
