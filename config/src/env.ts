import { z } from 'zod';
import { parseWebhookAllowlist } from '@nova/domain/webhook-addresses';
import { stellarShape } from './stellar';

/**
 * The platform's configuration, read from environment variables once at process start.
 * The API and the worker share the common sections; each adds its own.
 */

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = (label: string) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number of ${label}`)
    .transform(Number)
    .pipe(z.number().int().positive(`must be a positive number of ${label}`));

const postgresUrl = z.string().refine(
  (v) => {
    try {
      const url = new URL(v);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { message: 'must be a postgresql://user:password@host:port/database URL' },
);

// The one way past the webhook address rules (the tests' loopback receiver, an internal receiver).
const webhookAllowlist = z
  .string()
  .optional()
  .transform((csv, ctx) => {
    try {
      return parseWebhookAllowlist(csv);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

// host:port, where host is a name, an IPv4 address or a bracketed IPv6 address.
const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port (e.g. 127.0.0.1:7233)');

const commonShape = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: postgresUrl,
  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,255}$/, 'must be a Temporal namespace name')
    .default('default'),
  TEMPORAL_TASK_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9._/-]{1,255}$/, 'must be a task queue name')
    .default('nova-rewards'),
  // Webhook deliveries' own task queue (default: the task queue's name + "-webhooks").
  TEMPORAL_WEBHOOK_TASK_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9._/-]{1,255}$/, 'must be a task queue name')
    .optional(),
  TEMPORAL_TLS: booleanFlag.optional(),
  TEMPORAL_TLS_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CA_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_UI_URL: z.url({ message: 'must be an http(s) URL' }).default('http://127.0.0.1:8233'),
  // The API starts first runs with it; the worker's reconciler starts the runs the API could not.
  ISSUANCE_PAYMENT_BUDGET_SECONDS: positiveInt('seconds').default(3600),
  // A quote's envelope is valid this long (its upper time bound): the holder signs and submits within it.
  REDEMPTION_QUOTE_TTL_SECONDS: positiveInt('seconds')
    .pipe(z.number().min(30, 'must be at least 30 seconds').max(86_400, 'must be at most a day'))
    .default(300),
  // A manual item not fulfilled or rejected this long after it was paid is refunded.
  REDEMPTION_FULFILMENT_DEADLINE_SECONDS: positiveInt('seconds').default(72 * 3_600),
  // A vesting release whose payment is refused for good is tried again after each of these waits,
  // then the schedule is stalled and tried every VESTING_STALLED_RETRY_SECONDS (and at each release).
  VESTING_RETRY_DELAYS_SECONDS: z
    .string()
    .regex(
      /^[1-9]\d{0,8}(,[1-9]\d{0,8}){0,9}$/,
      'must be 1 to 10 positive whole numbers of seconds, comma-separated (e.g. 60,600,3600)',
    )
    .transform((v) => v.split(',').map(Number))
    .default([60, 600, 3600]),
  VESTING_STALLED_RETRY_SECONDS: positiveInt('seconds').default(86_400),
  // The API refuses literal addresses at registration; the worker checks every resolved address.
  WEBHOOK_ALLOWED_HOSTS: webhookAllowlist,
};

// A size as body-parser writes it: 100kb, 1mb; a bare number is bytes.
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const byteSize = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, 'must be a size such as 1mb, 512kb or 65536 (bytes)')
  .transform((v) => {
    const [, amount, unit] = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v) as unknown as [string, string, string];
    return Math.floor(Number(amount) * (BYTE_UNITS[unit.toLowerCase() || 'b'] ?? 1));
  })
  .pipe(
    z
      .number()
      .int()
      .min(1024, 'must be at least 1kb')
      .max(1024 ** 3, 'must be at most 1gb'),
  );

const apiShape = {
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z
    .string()
    .regex(/^\d+$/, 'must be a port number')
    .transform(Number)
    .pipe(z.number().int().min(0).max(65535, 'must be a port number (0-65535)'))
    .default(3000),
  ADMIN_API_KEY: z.string().min(24, 'must be at least 24 characters'),
  RATE_LIMIT_PER_MINUTE: positiveInt('requests').default(600),
  // Clients retry within a day (Stripe's window, the IETF draft's advice): never less.
  IDEMPOTENCY_KEY_RETENTION_HOURS: positiveInt('hours')
    .pipe(z.number().min(24, 'must be at least 24 hours'))
    .default(24),
  IDEMPOTENCY_LOCK_TIMEOUT_SECONDS: positiveInt('seconds').default(60),
  // Larger bodies are refused with 413 before they are parsed.
  API_BODY_LIMIT: byteSize.default(1024 ** 2),
  // The event stream: how long a client can be away and resume by Last-Event-ID (a weekend by default),
  // the heartbeat comment that keeps proxies from closing an idle stream (a client that has not read
  // for an interval is disconnected), and how much is buffered for a client before the stream waits for it.
  EVENT_STREAM_RETENTION_HOURS: positiveInt('hours').default(72),
  EVENT_STREAM_HEARTBEAT_SECONDS: positiveInt('seconds')
    .pipe(z.number().max(300, 'must be at most 300 seconds'))
    .default(15),
  // At least a socket's highWaterMark (16 KiB): the stream waits for a drain past it.
  EVENT_STREAM_CLIENT_BUFFER_LIMIT: byteSize
    .pipe(z.number().min(16 * 1024, 'must be at least 16kb'))
    .default(1024 ** 2),
  // The longest window an admin may ask to reconcile at once (a bound on one run's work).
  RECONCILIATION_MAX_WINDOW_SECONDS: positiveInt('seconds').default(31 * 24 * 3_600),
};

const portNumber = z
  .string()
  .regex(/^\d+$/, 'must be a port number')
  .transform(Number)
  .pipe(z.number().int().min(0).max(65535, 'must be a port number (0-65535)'));

const workerShape = {
  // The worker's metrics server listens here (HOST=0.0.0.0 in containers, like the API).
  HOST: z.string().min(1).default('127.0.0.1'),
  // Prometheus scrapes the worker's domain metrics and the Temporal SDK's on this port; 0 turns it off.
  WORKER_METRICS_PORT: portNumber.default(9464),
  WORKER_SHUTDOWN_GRACE_SECONDS: positiveInt('seconds').default(30),
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  RECONCILE_EVERY_SECONDS: positiveInt('seconds').default(10),
  RECONCILE_AFTER_SECONDS: positiveInt('seconds').default(10),
  // The chain reconciliation's schedule: a five-field cron expression (UTC) or "every <n> seconds|minutes|hours".
  RECONCILIATION_SCHEDULE: z
    .string()
    .transform((value, ctx) => {
      const every = /^every (\d+) (second|minute|hour)s?$/.exec(value.trim());
      if (every) {
        const seconds =
          Number(every[1]) * { second: 1, minute: 60, hour: 3_600 }[every[2] as 'second' | 'minute' | 'hour'];
        if (seconds > 0) return { everySeconds: seconds };
      }
      const fields = value.trim().split(/\s+/);
      if (fields.length === 5 && fields.every((field) => /^[\d*,/-]+$|^[A-Za-z]{3}$/.test(field))) {
        return { cron: fields.join(' ') };
      }
      ctx.addIssue({
        code: 'custom',
        message: 'must be a five-field cron expression (e.g. "0 3 * * *") or "every <n> seconds|minutes|hours"',
      });
      return z.NEVER;
    })
    .default({ cron: '0 3 * * *' }),
  // Each scheduled run reconciles this long a window, ending this long before the run starts.
  RECONCILIATION_WINDOW_SECONDS: positiveInt('seconds').default(86_400),
  RECONCILIATION_LAG_SECONDS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of seconds')
    .transform(Number)
    .default(600),
  WEBHOOK_ATTEMPT_TIMEOUT_SECONDS: positiveInt('seconds').default(15),
  // Which task queues this worker process polls: the core (payments, contract calls,
  // reconciler) and webhook deliveries; a deployment scales them as separate processes.
  WORKER_TASK_QUEUES: z
    .string()
    .transform((v) => [...new Set(v.split(',').map((q) => q.trim()))])
    .pipe(z.array(z.enum(['core', 'webhooks'], { message: 'must list core and/or webhooks, comma-separated' })).min(1))
    .default(['core', 'webhooks']),
  // Webhook attempts one worker runs at once, and attempts in flight per endpoint across all workers.
  WEBHOOK_WORKER_CONCURRENCY: positiveInt('attempts').default(100),
  WEBHOOK_ENDPOINT_CONCURRENCY: positiveInt('attempts').default(10),
  // The contract indexers: events asked of Soroban RPC per getEvents page (stellar-rpc serves at
  // most 10000), and how long an indexer that has caught up waits before it asks again (about a ledger).
  CONTRACT_INDEXER_PAGE_SIZE: positiveInt('events')
    .pipe(z.number().max(10_000, 'must be at most 10000 (Soroban RPC getEvents limit)'))
    .default(100),
  CONTRACT_INDEXER_POLL_SECONDS: positiveInt('seconds').default(5),
};

function tlsPairRule(
  env: { TEMPORAL_TLS_CERT_PATH?: string | undefined; TEMPORAL_TLS_KEY_PATH?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (Boolean(env.TEMPORAL_TLS_CERT_PATH) !== Boolean(env.TEMPORAL_TLS_KEY_PATH)) {
    const missing = env.TEMPORAL_TLS_CERT_PATH ? 'TEMPORAL_TLS_KEY_PATH' : 'TEMPORAL_TLS_CERT_PATH';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: 'TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together',
    });
  }
}

export const apiEnvSchema = z.object({ ...commonShape, ...stellarShape, ...apiShape }).superRefine(tlsPairRule);
export const workerEnvSchema = z.object({ ...commonShape, ...stellarShape, ...workerShape }).superRefine(tlsPairRule);

export type ApiEnv = z.infer<typeof apiEnvSchema>;
export type WorkerEnv = z.infer<typeof workerEnvSchema>;
