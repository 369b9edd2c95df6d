import { randomUUID } from 'node:crypto';
import { Keypair } from '@stellar/stellar-sdk';
import type { ApiConfig, StellarNetworkConfig, StellarSigners, WorkerConfig } from '@nova/config';
import { parseWebhookAllowlist } from '@nova/domain/webhook-addresses';

/** A network no test listens on: for tests that never reach Stellar. */
export function unreachableStellar(): { network: StellarNetworkConfig; signers: StellarSigners } {
  const distribution = Keypair.random();
  return {
    network: {
      network: 'sandbox',
      horizonUrl: 'http://127.0.0.1:9',
      sorobanRpcUrl: 'http://127.0.0.1:9/soroban/rpc',
      networkPassphrase: 'Nova Sandbox Network ; 2026',
      assetCode: 'NOVA',
      assetIssuer: Keypair.random().publicKey(),
      distributionAccount: distribution.publicKey(),
      redemptionAccount: distribution.publicKey(),
      transactionTimeoutSeconds: 30,
      maxFeePerOperation: 10_000,
    },
    signers: { distribution, channels: [Keypair.random()] },
  };
}

/** Variables the test runner (scripts/test.js) sets after starting the real servers. */
export function required(
  name:
    | 'DATABASE_URL'
    | 'TEMPORAL_ADDRESS'
    | 'TEMPORAL_TEST_SERVER_PATH'
    | 'TEMPORAL_CLI_PATH'
    | 'NOVA_PG_BIN_DIR'
    | 'SCHEMATHESIS_PATH',
): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with \`npm test\``);
  return value;
}

// The tests' webhook receivers listen on loopback, which the address rules refuse unless allowlisted.
const TEST_WEBHOOK_ALLOWED_HOSTS = '127.0.0.1';

/** A task queue of the test's own, so concurrent test files never share workers. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function testWorkerConfig(overrides: {
  taskQueue: string;
  databaseUrl?: string;
  shutdownGraceSeconds?: number;
  stellar?: { network: StellarNetworkConfig; signers: StellarSigners };
  paymentBudgetSeconds?: number;
  reconciler?: { everySeconds: number; afterSeconds: number };
  /** WEBHOOK_ALLOWED_HOSTS; '' for none. */
  webhookAllowedHosts?: string;
  webhookAttemptTimeoutSeconds?: number;
  webhookEndpointConcurrency?: number;
  quoteTtlSeconds?: number;
  fulfilmentDeadlineSeconds?: number;
  vesting?: { retryDelaysSeconds: number[]; stalledRetrySeconds: number };
  contractIndexer?: { pageSize: number; pollSeconds: number };
}): WorkerConfig {
  const stellar = overrides.stellar ?? unreachableStellar();
  return {
    stellar: stellar.network,
    signers: stellar.signers,
    nodeEnv: 'test',
    logLevel: 'silent',
    databaseUrl: overrides.databaseUrl ?? required('DATABASE_URL'),
    temporal: {
      address: required('TEMPORAL_ADDRESS'),
      namespace: 'default',
      taskQueue: overrides.taskQueue,
      webhookTaskQueue: `${overrides.taskQueue}-webhooks`,
      tls: false,
      uiUrl: 'http://127.0.0.1:8233',
    },
    worker: {
      shutdownGraceSeconds: overrides.shutdownGraceSeconds ?? 5,
      taskQueues: ['core', 'webhooks'],
      // In-process workers serve no metrics port (the observability test runs the real process).
      metrics: { host: '127.0.0.1', port: 0 },
    },
    issuance: { paymentBudgetSeconds: overrides.paymentBudgetSeconds ?? 300 },
    redemption: {
      quoteTtlSeconds: overrides.quoteTtlSeconds ?? 300,
      fulfilmentDeadlineSeconds: overrides.fulfilmentDeadlineSeconds ?? 3_600,
    },
    vesting: overrides.vesting ?? { retryDelaysSeconds: [60, 600, 3600], stalledRetrySeconds: 86_400 },
    reconciler: overrides.reconciler ?? { everySeconds: 10, afterSeconds: 10 },
    contractIndexer: overrides.contractIndexer ?? { pageSize: 100, pollSeconds: 1 },
    reconciliation: { schedule: { cron: '0 3 * * *' }, windowSeconds: 86_400, lagSeconds: 600 },
    webhooks: {
      allowlist: parseWebhookAllowlist(overrides.webhookAllowedHosts ?? TEST_WEBHOOK_ALLOWED_HOSTS),
      attemptTimeoutSeconds: overrides.webhookAttemptTimeoutSeconds ?? 15,
      workerConcurrency: 20,
      endpointConcurrency: overrides.webhookEndpointConcurrency ?? 4,
    },
  };
}

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export function testApiConfig(overrides: {
  taskQueue: string;
  databaseUrl?: string;
  stellar?: StellarNetworkConfig;
  rateLimitPerMinute?: number;
  paymentBudgetSeconds?: number;
  idempotencyLockTimeoutSeconds?: number;
  /** WEBHOOK_ALLOWED_HOSTS; '' for none. */
  webhookAllowedHosts?: string;
  bodyLimitBytes?: number;
  quoteTtlSeconds?: number;
  fulfilmentDeadlineSeconds?: number;
  vesting?: { retryDelaysSeconds: number[]; stalledRetrySeconds: number };
  eventStream?: Partial<ApiConfig['eventStream']>;
}): ApiConfig {
  return {
    stellar: overrides.stellar ?? unreachableStellar().network,
    nodeEnv: 'test',
    logLevel: 'silent',
    databaseUrl: overrides.databaseUrl ?? required('DATABASE_URL'),
    temporal: {
      address: required('TEMPORAL_ADDRESS'),
      namespace: 'default',
      taskQueue: overrides.taskQueue,
      webhookTaskQueue: `${overrides.taskQueue}-webhooks`,
      tls: false,
      uiUrl: 'http://127.0.0.1:8233',
    },
    http: { host: '127.0.0.1', port: 0, bodyLimitBytes: overrides.bodyLimitBytes ?? 1024 ** 2 },
    adminApiKey: TEST_ADMIN_KEY,
    rateLimit: { perMinute: overrides.rateLimitPerMinute ?? 100_000 },
    issuance: { paymentBudgetSeconds: overrides.paymentBudgetSeconds ?? 300 },
    redemption: {
      quoteTtlSeconds: overrides.quoteTtlSeconds ?? 300,
      fulfilmentDeadlineSeconds: overrides.fulfilmentDeadlineSeconds ?? 3_600,
    },
    vesting: overrides.vesting ?? { retryDelaysSeconds: [60, 600, 3600], stalledRetrySeconds: 86_400 },
    idempotency: { retentionHours: 24, lockTimeoutSeconds: overrides.idempotencyLockTimeoutSeconds ?? 60 },
    webhooks: { allowlist: parseWebhookAllowlist(overrides.webhookAllowedHosts ?? TEST_WEBHOOK_ALLOWED_HOSTS) },
    eventStream: {
      retentionHours: 72,
      heartbeatMs: 15_000,
      clientBufferLimitBytes: 1024 ** 2,
      ...overrides.eventStream,
    },
    reconciliation: { maxWindowSeconds: 31 * 24 * 3_600 },
  };
}

/** Polls until `probe` returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; what: string },
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${options.what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/**
 * Keeps the SDK's own logging (bundler output, worker state changes, expected activity
 * failures) out of the test report; errors still show. Call once, at the top of a test file.
 */
export function quietTemporalRuntime(): void {
  // Imported lazily so that files which never start a worker do not load the native bridge.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DefaultLogger, Runtime } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
}
