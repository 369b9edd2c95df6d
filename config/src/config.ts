import type { z } from 'zod';
import type { WebhookAllowlist } from '@nova/domain/webhook-addresses';
import { apiEnvSchema, workerEnvSchema } from './env';
import { ConfigError } from './errors';
import { stellarNetworkConfig, stellarSigners, type StellarNetworkConfig, type StellarSigners } from './stellar';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Webhook deliveries' task queue, apart from payments. */
  webhookTaskQueue: string;
  /** TLS is on when asked for, or implied by client certificates or an API key (Temporal Cloud). */
  tls: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  apiKey?: string;
  uiUrl: string;
}

export interface IssuanceConfig {
  /** Retryable payment errors retry within this budget; then the issuance fails RetriesExhausted. */
  paymentBudgetSeconds: number;
}

export interface RedemptionConfig {
  /** A quote's envelope is valid this long (its upper time bound). */
  quoteTtlSeconds: number;
  /** A manual item not fulfilled or rejected this long after payment is refunded. */
  fulfilmentDeadlineSeconds: number;
}

/** How a vesting schedule waits out a release it cannot pay (carried into each vesting run at its start). */
export interface VestingConfig {
  /** Waits after each refusal before the payment is tried again; past the last, the schedule is stalled. */
  retryDelaysSeconds: number[];
  /** How often a stalled schedule tries again (and at every release time). */
  stalledRetrySeconds: number;
}

/** The reconciler (a Temporal Schedule the worker keeps): re-drives hand-offs Temporal has not taken. */
export interface ReconcilerConfig {
  /** How often it runs. */
  everySeconds: number;
  /** A hand-off recorded this long ago and not taken yet is re-driven (younger ones are the API's fast path). */
  afterSeconds: number;
}

/** The chain reconciliation's Temporal Schedule, which the worker keeps. */
export interface ReconciliationScheduleConfig {
  /** A cron expression (UTC), or a fixed interval. */
  schedule: { cron: string } | { everySeconds: number };
  /** Each run reconciles a window this long ... */
  windowSeconds: number;
  /** ... ending this long before the run started (payments in flight reach the read model first). */
  lagSeconds: number;
}

/** Where webhooks may be delivered (both processes check it: the API at registration, the worker per attempt). */
export interface WebhookAddressConfig {
  /** WEBHOOK_ALLOWED_HOSTS: hostnames, addresses and ranges delivered to although the address rules refuse them. */
  allowlist: WebhookAllowlist;
}

export interface WorkerWebhookConfig extends WebhookAddressConfig {
  /** One delivery attempt (connect, headers and the first 1 KB of the body) is cut after this long. */
  attemptTimeoutSeconds: number;
  /** Webhook attempts this process runs at once. */
  workerConcurrency: number;
  /** Webhook attempts in flight per endpoint, across all workers. */
  endpointConcurrency: number;
}

interface CommonConfig {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: LogLevel;
  databaseUrl: string;
  temporal: TemporalConfig;
}

export interface ApiConfig extends CommonConfig {
  stellar: StellarNetworkConfig;
  /** bodyLimitBytes: the largest request body the API reads (API_BODY_LIMIT); larger ones get 413. */
  http: { host: string; port: number; bodyLimitBytes: number };
  adminApiKey: string;
  rateLimit: { perMinute: number };
  issuance: IssuanceConfig;
  redemption: RedemptionConfig;
  vesting: VestingConfig;
  idempotency: {
    /** How long an Idempotency-Key and its answer are kept (at least 24 h); then it may be used again. */
    retentionHours: number;
    /** A request holding a key longer than this is taken for dead: a retry may take the key over. */
    lockTimeoutSeconds: number;
  };
  webhooks: WebhookAddressConfig;
  /** The longest window an admin may reconcile at once. */
  reconciliation: { maxWindowSeconds: number };
  eventStream: EventStreamConfig;
}

/** GET /v1/events/stream (Server-Sent Events). */
export interface EventStreamConfig {
  /** Events stay resumable by Last-Event-ID at least this long; older ones are pruned (unless a webhook delivery holds them). */
  retentionHours: number;
  /** A comment line this often on an idle stream (EVENT_STREAM_HEARTBEAT_SECONDS, in ms); a client that has not read for as long is disconnected. */
  heartbeatMs: number;
  /** At most this many bytes (and one event) are buffered for a client: then the stream waits for it to read. */
  clientBufferLimitBytes: number;
}

/** The contract indexers (one workflow per configured contract, started by the worker at boot). */
export interface ContractIndexerConfig {
  /** Events per getEvents page. */
  pageSize: number;
  /** How long a caught-up indexer waits before it asks again. */
  pollSeconds: number;
}

export interface WorkerConfig extends CommonConfig {
  stellar: StellarNetworkConfig;
  /** Secret keys: never log this object. */
  signers: StellarSigners;
  worker: {
    shutdownGraceSeconds: number;
    workflowBundlePath?: string;
    /** The task queues this process polls. */
    taskQueues: ('core' | 'webhooks')[];
    /** The metrics server (Prometheus text at /metrics); port 0: none. */
    metrics: { host: string; port: number };
  };
  issuance: IssuanceConfig;
  redemption: RedemptionConfig;
  vesting: VestingConfig;
  reconciler: ReconcilerConfig;
  contractIndexer: ContractIndexerConfig;
  reconciliation: ReconciliationScheduleConfig;
  webhooks: WorkerWebhookConfig;
}

export { ConfigError } from './errors';

type Env = Record<string, string | undefined>;

function parse<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  // An empty variable means "not set", as in most deployment tooling.
  const cleaned: Env = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        variable: issue.path.map(String).join('.') || '(environment)',
        message: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
      })),
    );
  }
  return result.data;
}

function temporalConfig(env: z.infer<typeof apiEnvSchema> | z.infer<typeof workerEnvSchema>): TemporalConfig {
  const implied = Boolean(env.TEMPORAL_TLS_CERT_PATH || env.TEMPORAL_API_KEY);
  return {
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    webhookTaskQueue: env.TEMPORAL_WEBHOOK_TASK_QUEUE ?? `${env.TEMPORAL_TASK_QUEUE}-webhooks`,
    tls: env.TEMPORAL_TLS ?? implied,
    tlsCertPath: env.TEMPORAL_TLS_CERT_PATH,
    tlsKeyPath: env.TEMPORAL_TLS_KEY_PATH,
    tlsCaPath: env.TEMPORAL_TLS_CA_PATH,
    tlsServerName: env.TEMPORAL_TLS_SERVER_NAME,
    apiKey: env.TEMPORAL_API_KEY,
    uiUrl: env.TEMPORAL_UI_URL.replace(/\/+$/, ''),
  };
}

export function loadApiConfig(env: Env = process.env): ApiConfig {
  const parsed = parse(apiEnvSchema, env);
  return {
    nodeEnv: parsed.NODE_ENV,
    logLevel: parsed.LOG_LEVEL,
    databaseUrl: parsed.DATABASE_URL,
    temporal: temporalConfig(parsed),
    stellar: stellarNetworkConfig(parsed),
    http: { host: parsed.HOST, port: parsed.PORT, bodyLimitBytes: parsed.API_BODY_LIMIT },
    adminApiKey: parsed.ADMIN_API_KEY,
    rateLimit: { perMinute: parsed.RATE_LIMIT_PER_MINUTE },
    issuance: { paymentBudgetSeconds: parsed.ISSUANCE_PAYMENT_BUDGET_SECONDS },
    redemption: {
      quoteTtlSeconds: parsed.REDEMPTION_QUOTE_TTL_SECONDS,
      fulfilmentDeadlineSeconds: parsed.REDEMPTION_FULFILMENT_DEADLINE_SECONDS,
    },
    vesting: {
      retryDelaysSeconds: parsed.VESTING_RETRY_DELAYS_SECONDS,
      stalledRetrySeconds: parsed.VESTING_STALLED_RETRY_SECONDS,
    },
    idempotency: {
      retentionHours: parsed.IDEMPOTENCY_KEY_RETENTION_HOURS,
      lockTimeoutSeconds: parsed.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS,
    },
    webhooks: { allowlist: parsed.WEBHOOK_ALLOWED_HOSTS },
    eventStream: {
      retentionHours: parsed.EVENT_STREAM_RETENTION_HOURS,
      heartbeatMs: parsed.EVENT_STREAM_HEARTBEAT_SECONDS * 1000,
      clientBufferLimitBytes: parsed.EVENT_STREAM_CLIENT_BUFFER_LIMIT,
    },
    reconciliation: { maxWindowSeconds: parsed.RECONCILIATION_MAX_WINDOW_SECONDS },
  };
}

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const parsed = parse(workerEnvSchema, env);
  const stellar = stellarNetworkConfig(parsed);
  return {
    nodeEnv: parsed.NODE_ENV,
    logLevel: parsed.LOG_LEVEL,
    databaseUrl: parsed.DATABASE_URL,
    temporal: temporalConfig(parsed),
    stellar,
    signers: stellarSigners(parsed, stellar),
    worker: {
      shutdownGraceSeconds: parsed.WORKER_SHUTDOWN_GRACE_SECONDS,
      workflowBundlePath: parsed.WORKFLOW_BUNDLE_PATH,
      taskQueues: parsed.WORKER_TASK_QUEUES,
      metrics: { host: parsed.HOST, port: parsed.WORKER_METRICS_PORT },
    },
    issuance: { paymentBudgetSeconds: parsed.ISSUANCE_PAYMENT_BUDGET_SECONDS },
    redemption: {
      quoteTtlSeconds: parsed.REDEMPTION_QUOTE_TTL_SECONDS,
      fulfilmentDeadlineSeconds: parsed.REDEMPTION_FULFILMENT_DEADLINE_SECONDS,
    },
    vesting: {
      retryDelaysSeconds: parsed.VESTING_RETRY_DELAYS_SECONDS,
      stalledRetrySeconds: parsed.VESTING_STALLED_RETRY_SECONDS,
    },
    reconciler: { everySeconds: parsed.RECONCILE_EVERY_SECONDS, afterSeconds: parsed.RECONCILE_AFTER_SECONDS },
    contractIndexer: {
      pageSize: parsed.CONTRACT_INDEXER_PAGE_SIZE,
      pollSeconds: parsed.CONTRACT_INDEXER_POLL_SECONDS,
    },
    reconciliation: {
      schedule: parsed.RECONCILIATION_SCHEDULE,
      windowSeconds: parsed.RECONCILIATION_WINDOW_SECONDS,
      lagSeconds: parsed.RECONCILIATION_LAG_SECONDS,
    },
    webhooks: {
      allowlist: parsed.WEBHOOK_ALLOWED_HOSTS,
      attemptTimeoutSeconds: parsed.WEBHOOK_ATTEMPT_TIMEOUT_SECONDS,
      workerConcurrency: parsed.WEBHOOK_WORKER_CONCURRENCY,
      endpointConcurrency: parsed.WEBHOOK_ENDPOINT_CONCURRENCY,
    },
  };
}

/**
 * Checks the variables' shapes only, without reading key files or resolving the network:
 * lets a launcher refuse bad configuration before it starts anything.
 */
export function validateEnvironment(role: 'api' | 'worker', env: Env = process.env): void {
  parse(role === 'api' ? apiEnvSchema : workerEnvSchema, env);
}
