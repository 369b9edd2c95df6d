import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair, Networks, StrKey } from '@stellar/stellar-sdk';
import { ConfigError, loadApiConfig, loadWorkerConfig, temporalConnectionOptions } from '@nova/config';

const issuer = Keypair.random();
const distribution = Keypair.random();
const channels = [Keypair.random(), Keypair.random()];

const valid = {
  DATABASE_URL: 'postgresql://nova:secret@db.internal:5432/nova',
  ADMIN_API_KEY: 'a'.repeat(32),
  NOVA_ASSET_ISSUER: issuer.publicKey(),
  DISTRIBUTION_SECRET: distribution.secret(),
  CHANNEL_SECRETS: channels.map((c) => c.secret()).join(','),
  CHANNEL_POOL_SIZE: '2',
};

function problemsOf(run: () => unknown): { variable: string; message: string }[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the configuration to be refused');
}

describe('configuration', () => {
  it('applies the embedded defaults', () => {
    const config = loadApiConfig(valid);
    assert.equal(config.nodeEnv, 'development');
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.http, { host: '127.0.0.1', port: 3000, bodyLimitBytes: 1024 * 1024 });
    assert.equal(config.temporal.address, '127.0.0.1:7233');
    assert.equal(config.temporal.namespace, 'default');
    assert.equal(config.temporal.taskQueue, 'nova-rewards');
    assert.equal(config.temporal.tls, false);
    assert.equal(config.temporal.uiUrl, 'http://127.0.0.1:8233');
    assert.equal(loadWorkerConfig(valid).worker.shutdownGraceSeconds, 30);
  });

  it('reads every variable it documents', () => {
    const config = loadWorkerConfig({
      ...valid,
      NODE_ENV: 'production',
      LOG_LEVEL: 'debug',
      TEMPORAL_ADDRESS: 'nova.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'nova.a1b2c',
      TEMPORAL_TASK_QUEUE: 'rewards-eu',
      TEMPORAL_API_KEY: 'cloud-key',
      TEMPORAL_UI_URL: 'https://cloud.temporal.io/',
      WORKER_SHUTDOWN_GRACE_SECONDS: '45',
      WORKFLOW_BUNDLE_PATH: '/app/workflow-bundle.js',
      TEMPORAL_WEBHOOK_TASK_QUEUE: 'hooks-eu',
      WORKER_TASK_QUEUES: 'webhooks',
      WEBHOOK_WORKER_CONCURRENCY: '50',
      WEBHOOK_ENDPOINT_CONCURRENCY: '2',
      HOST: '0.0.0.0',
      WORKER_METRICS_PORT: '9100',
    });
    assert.equal(config.nodeEnv, 'production');
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.temporal.address, 'nova.a1b2c.tmprl.cloud:7233');
    assert.equal(config.temporal.namespace, 'nova.a1b2c');
    assert.equal(config.temporal.taskQueue, 'rewards-eu');
    assert.equal(config.temporal.tls, true, 'an API key implies TLS');
    assert.equal(config.temporal.apiKey, 'cloud-key');
    assert.equal(config.temporal.uiUrl, 'https://cloud.temporal.io');
    assert.deepEqual(config.worker, {
      shutdownGraceSeconds: 45,
      workflowBundlePath: '/app/workflow-bundle.js',
      taskQueues: ['webhooks'],
      metrics: { host: '0.0.0.0', port: 9100 },
    });
    assert.equal(config.temporal.webhookTaskQueue, 'hooks-eu');
    assert.equal(config.webhooks.workerConcurrency, 50);
    assert.equal(config.webhooks.endpointConcurrency, 2);
  });

  it('serves worker metrics on 127.0.0.1:9464 by default, none on port 0, and names a bad port', () => {
    assert.deepEqual(loadWorkerConfig(valid).worker.metrics, { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(loadWorkerConfig({ ...valid, WORKER_METRICS_PORT: '0' }).worker.metrics.port, 0);
    const problems = problemsOf(() => loadWorkerConfig({ ...valid, WORKER_METRICS_PORT: '70000' }));
    assert.deepEqual(
      problems.map((p) => p.variable),
      ['WORKER_METRICS_PORT'],
    );
  });

  it('polls both task queues by default, the webhook queue named after the core one', () => {
    const config = loadWorkerConfig({ ...valid, TEMPORAL_TASK_QUEUE: 'rewards-eu' });
    assert.deepEqual(config.worker.taskQueues, ['core', 'webhooks']);
    assert.equal(config.temporal.webhookTaskQueue, 'rewards-eu-webhooks');
    const problems = problemsOf(() => loadWorkerConfig({ ...valid, WORKER_TASK_QUEUES: 'core,payments' }));
    assert.deepEqual(
      problems.map((p) => p.variable),
      ['WORKER_TASK_QUEUES.1'],
    );
  });

  it('refuses a malformed DATABASE_URL, naming it', () => {
    const problems = problemsOf(() => loadApiConfig({ ...valid, DATABASE_URL: 'nonsense' }));
    assert.deepEqual(
      problems.map((p) => p.variable),
      ['DATABASE_URL'],
    );
    assert.match(problems[0]!.message, /postgresql:\/\//);
  });

  it('requires DATABASE_URL and ADMIN_API_KEY for the API, and says so', () => {
    const problems = problemsOf(() => loadApiConfig({}));
    assert.deepEqual(problems.map((p) => p.variable).sort(), ['ADMIN_API_KEY', 'DATABASE_URL']);
    assert.ok(problems.every((p) => p.message === 'is required'));
  });

  it('treats empty variables as unset', () => {
    const problems = problemsOf(() => loadWorkerConfig({ DATABASE_URL: '' }));
    assert.deepEqual(problems, [{ variable: 'DATABASE_URL', message: 'is required' }]);
  });

  it('names each malformed variable', () => {
    const problems = problemsOf(() =>
      loadApiConfig({
        ...valid,
        PORT: '70000',
        TEMPORAL_ADDRESS: 'no-port',
        LOG_LEVEL: 'loud',
        TEMPORAL_TLS: 'maybe',
        ADMIN_API_KEY: 'short',
      }),
    );
    assert.deepEqual(problems.map((p) => p.variable).sort(), [
      'ADMIN_API_KEY',
      'LOG_LEVEL',
      'PORT',
      'TEMPORAL_ADDRESS',
      'TEMPORAL_TLS',
    ]);
    const error = new ConfigError(problems);
    assert.match(error.message, /^Invalid configuration:\n {2}- /);
  });

  it('reads the API rate limit and payment budget, refusing malformed values by name', () => {
    const config = loadApiConfig({ ...valid, RATE_LIMIT_PER_MINUTE: '42', ISSUANCE_PAYMENT_BUDGET_SECONDS: '90' });
    assert.deepEqual(config.rateLimit, { perMinute: 42 });
    assert.deepEqual(config.issuance, { paymentBudgetSeconds: 90 });
    assert.deepEqual(loadApiConfig(valid).rateLimit, { perMinute: 600 });
    assert.deepEqual(loadApiConfig(valid).issuance, { paymentBudgetSeconds: 3600 });
    for (const variable of ['RATE_LIMIT_PER_MINUTE', 'ISSUANCE_PAYMENT_BUDGET_SECONDS']) {
      for (const value of ['abc', '0', '-1', '1.5']) {
        const problems = problemsOf(() => loadApiConfig({ ...valid, [variable]: value }));
        assert.deepEqual(
          problems.map((p) => p.variable),
          [variable],
          `${variable}=${value}`,
        );
      }
    }
  });

  it('reads the request body limit (API_BODY_LIMIT, 1mb by default) as bytes, refusing malformed values by name', () => {
    assert.equal(loadApiConfig(valid).http.bodyLimitBytes, 1024 * 1024);
    assert.equal(loadApiConfig({ ...valid, API_BODY_LIMIT: '512kb' }).http.bodyLimitBytes, 512 * 1024);
    assert.equal(loadApiConfig({ ...valid, API_BODY_LIMIT: '2MB' }).http.bodyLimitBytes, 2 * 1024 * 1024);
    assert.equal(loadApiConfig({ ...valid, API_BODY_LIMIT: '65536' }).http.bodyLimitBytes, 65536);
    for (const value of ['abc', '-1mb', '1tb', '10', '2gb']) {
      const problems = problemsOf(() => loadApiConfig({ ...valid, API_BODY_LIMIT: value }));
      assert.deepEqual(
        problems.map((p) => p.variable),
        ['API_BODY_LIMIT'],
        `API_BODY_LIMIT=${value}`,
      );
    }
  });

  it('reads how long Idempotency-Keys are kept and held, refusing malformed values by name', () => {
    assert.deepEqual(loadApiConfig(valid).idempotency, { retentionHours: 24, lockTimeoutSeconds: 60 });
    assert.deepEqual(
      loadApiConfig({ ...valid, IDEMPOTENCY_KEY_RETENTION_HOURS: '72', IDEMPOTENCY_LOCK_TIMEOUT_SECONDS: '5' })
        .idempotency,
      { retentionHours: 72, lockTimeoutSeconds: 5 },
    );
    const cases: [string, string, RegExp][] = [
      ['IDEMPOTENCY_KEY_RETENTION_HOURS', 'abc', /whole number of hours/],
      ['IDEMPOTENCY_KEY_RETENTION_HOURS', '1.5', /whole number of hours/],
      ['IDEMPOTENCY_KEY_RETENTION_HOURS', '0', /positive number of hours/],
      ['IDEMPOTENCY_KEY_RETENTION_HOURS', '23', /at least 24 hours/],
      ['IDEMPOTENCY_LOCK_TIMEOUT_SECONDS', '-1', /whole number of seconds/],
      ['IDEMPOTENCY_LOCK_TIMEOUT_SECONDS', '0', /positive number of seconds/],
    ];
    for (const [variable, value, message] of cases) {
      const problems = problemsOf(() => loadApiConfig({ ...valid, [variable]: value }));
      assert.deepEqual(
        problems.map((p) => p.variable),
        [variable],
        `${variable}=${value}`,
      );
      assert.match(problems[0]!.message, message, `${variable}=${value}`);
    }
  });

  it('reads the event stream settings (retention, heartbeat, slow client buffer), refusing malformed values by name', () => {
    assert.deepEqual(loadApiConfig(valid).eventStream, {
      retentionHours: 72,
      heartbeatMs: 15_000,
      clientBufferLimitBytes: 1024 * 1024,
    });
    assert.deepEqual(
      loadApiConfig({
        ...valid,
        EVENT_STREAM_RETENTION_HOURS: '6',
        EVENT_STREAM_HEARTBEAT_SECONDS: '30',
        EVENT_STREAM_CLIENT_BUFFER_LIMIT: '256kb',
      }).eventStream,
      { retentionHours: 6, heartbeatMs: 30_000, clientBufferLimitBytes: 256 * 1024 },
    );
    const cases: [string, string, RegExp][] = [
      ['EVENT_STREAM_RETENTION_HOURS', '0', /positive number of hours/],
      ['EVENT_STREAM_RETENTION_HOURS', '1.5', /whole number of hours/],
      ['EVENT_STREAM_HEARTBEAT_SECONDS', '0', /positive number of seconds/],
      ['EVENT_STREAM_HEARTBEAT_SECONDS', '301', /at most 300 seconds/],
      ['EVENT_STREAM_CLIENT_BUFFER_LIMIT', '10', /at least 1kb/],
      ['EVENT_STREAM_CLIENT_BUFFER_LIMIT', '8kb', /at least 16kb/],
      ['EVENT_STREAM_CLIENT_BUFFER_LIMIT', 'lots', /size such as 1mb/],
    ];
    for (const [variable, value, message] of cases) {
      const problems = problemsOf(() => loadApiConfig({ ...valid, [variable]: value }));
      assert.deepEqual(
        problems.map((p) => p.variable),
        [variable],
        `${variable}=${value}`,
      );
      assert.match(problems[0]!.message, message, `${variable}=${value}`);
    }
  });

  it("reads the worker's reconciler interval and threshold and the payment budget it starts runs with", () => {
    const config = loadWorkerConfig({
      ...valid,
      RECONCILE_EVERY_SECONDS: '30',
      RECONCILE_AFTER_SECONDS: '45',
      ISSUANCE_PAYMENT_BUDGET_SECONDS: '90',
    });
    assert.deepEqual(config.reconciler, { everySeconds: 30, afterSeconds: 45 });
    assert.deepEqual(config.issuance, { paymentBudgetSeconds: 90 });
    assert.deepEqual(loadWorkerConfig(valid).reconciler, { everySeconds: 10, afterSeconds: 10 });
    assert.deepEqual(loadWorkerConfig(valid).issuance, { paymentBudgetSeconds: 3600 });
    for (const variable of ['RECONCILE_EVERY_SECONDS', 'RECONCILE_AFTER_SECONDS', 'ISSUANCE_PAYMENT_BUDGET_SECONDS']) {
      for (const value of ['abc', '0', '-1', '1.5']) {
        const problems = problemsOf(() => loadWorkerConfig({ ...valid, [variable]: value }));
        assert.deepEqual(
          problems.map((p) => p.variable),
          [variable],
          `${variable}=${value}`,
        );
      }
    }
  });

  it("reads the contract indexers' page size and poll interval (worker)", () => {
    assert.deepEqual(loadWorkerConfig(valid).contractIndexer, { pageSize: 100, pollSeconds: 5 });
    assert.deepEqual(
      loadWorkerConfig({ ...valid, CONTRACT_INDEXER_PAGE_SIZE: '500', CONTRACT_INDEXER_POLL_SECONDS: '2' })
        .contractIndexer,
      { pageSize: 500, pollSeconds: 2 },
    );
    for (const [variable, value] of [
      ['CONTRACT_INDEXER_PAGE_SIZE', '0'],
      ['CONTRACT_INDEXER_PAGE_SIZE', '10001'],
      ['CONTRACT_INDEXER_PAGE_SIZE', 'many'],
      ['CONTRACT_INDEXER_POLL_SECONDS', '0'],
      ['CONTRACT_INDEXER_POLL_SECONDS', '1.5'],
    ] as const) {
      const problems = problemsOf(() => loadWorkerConfig({ ...valid, [variable]: value }));
      assert.deepEqual(
        problems.map((p) => p.variable),
        [variable],
        `${variable}=${value}`,
      );
    }
  });

  it("reads the chain reconciliation's schedule, window and lag (worker) and its longest window (API)", () => {
    assert.deepEqual(loadWorkerConfig(valid).reconciliation, {
      schedule: { cron: '0 3 * * *' },
      windowSeconds: 86_400,
      lagSeconds: 600,
    });
    assert.deepEqual(loadApiConfig(valid).reconciliation, { maxWindowSeconds: 31 * 24 * 3_600 });
    assert.deepEqual(
      loadWorkerConfig({
        ...valid,
        RECONCILIATION_SCHEDULE: '30 1 * * MON',
        RECONCILIATION_WINDOW_SECONDS: '604800',
        RECONCILIATION_LAG_SECONDS: '0',
      }).reconciliation,
      { schedule: { cron: '30 1 * * MON' }, windowSeconds: 604_800, lagSeconds: 0 },
    );
    assert.deepEqual(loadWorkerConfig({ ...valid, RECONCILIATION_SCHEDULE: 'every 6 hours' }).reconciliation.schedule, {
      everySeconds: 21_600,
    });
    assert.deepEqual(loadApiConfig({ ...valid, RECONCILIATION_MAX_WINDOW_SECONDS: '3600' }).reconciliation, {
      maxWindowSeconds: 3600,
    });
    const cases: [string, string, RegExp][] = [
      ['RECONCILIATION_SCHEDULE', 'daily', /cron expression/],
      ['RECONCILIATION_SCHEDULE', '0 3 * *', /cron expression/],
      ['RECONCILIATION_SCHEDULE', 'every 0 hours', /cron expression/],
      ['RECONCILIATION_WINDOW_SECONDS', '0', /./],
      ['RECONCILIATION_LAG_SECONDS', '-5', /whole number/],
    ];
    for (const [variable, value, message] of cases) {
      const problems = problemsOf(() => loadWorkerConfig({ ...valid, [variable]: value }));
      assert.deepEqual(
        problems.map((p) => p.variable),
        [variable],
        `${variable}=${value}`,
      );
      assert.match(problems[0]!.message, message, `${variable}=${value}`);
    }
    const api = problemsOf(() => loadApiConfig({ ...valid, RECONCILIATION_MAX_WINDOW_SECONDS: 'week' }));
    assert.deepEqual(
      api.map((p) => p.variable),
      ['RECONCILIATION_MAX_WINDOW_SECONDS'],
    );
  });

  it('reads the webhook allowlist for the API and the worker, and the worker its attempt timeout', () => {
    assert.deepEqual(loadApiConfig(valid).webhooks, { allowlist: { hosts: [], ranges: [] } });
    assert.deepEqual(loadWorkerConfig(valid).webhooks, {
      allowlist: { hosts: [], ranges: [] },
      attemptTimeoutSeconds: 15,
      workerConcurrency: 100,
      endpointConcurrency: 10,
    });
    const env = {
      ...valid,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1, receiver.test,10.0.0.0/8',
      WEBHOOK_ATTEMPT_TIMEOUT_SECONDS: '5',
    };
    for (const config of [loadApiConfig(env), loadWorkerConfig(env)]) {
      assert.deepEqual(config.webhooks.allowlist.hosts, ['receiver.test']);
      assert.deepEqual(
        config.webhooks.allowlist.ranges.map(([address, bits]) => `${address.toString()}/${bits}`),
        ['127.0.0.1/32', '10.0.0.0/8'],
      );
    }
    assert.equal(loadWorkerConfig(env).webhooks.attemptTimeoutSeconds, 5);
  });

  it('refuses a bad WEBHOOK_ALLOWED_HOSTS entry by name, and a bad attempt timeout', () => {
    for (const load of [loadApiConfig, loadWorkerConfig]) {
      const problems = problemsOf(() => load({ ...valid, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1,10.0.0.0/33' }));
      assert.deepEqual(
        problems.map((p) => p.variable),
        ['WEBHOOK_ALLOWED_HOSTS'],
      );
      assert.match(problems[0]!.message, /"10\.0\.0\.0\/33"/);
    }
    for (const value of ['abc', '0', '1.5']) {
      const problems = problemsOf(() => loadWorkerConfig({ ...valid, WEBHOOK_ATTEMPT_TIMEOUT_SECONDS: value }));
      assert.deepEqual(
        problems.map((p) => p.variable),
        ['WEBHOOK_ATTEMPT_TIMEOUT_SECONDS'],
        value,
      );
    }
  });

  it('refuses a worker grace period that is not a positive whole number', () => {
    const problems = problemsOf(() => loadWorkerConfig({ ...valid, WORKER_SHUTDOWN_GRACE_SECONDS: '-3' }));
    assert.equal(problems[0]?.variable, 'WORKER_SHUTDOWN_GRACE_SECONDS');
  });

  it('needs the TLS certificate and key together', () => {
    const problems = problemsOf(() => loadWorkerConfig({ ...valid, TEMPORAL_TLS_CERT_PATH: '/certs/client.pem' }));
    assert.deepEqual(
      problems.map((p) => p.variable),
      ['TEMPORAL_TLS_KEY_PATH'],
    );
  });

  it('builds mTLS connection options from the certificate files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nova-tls-'));
    writeFileSync(join(dir, 'client.pem'), 'CERT');
    writeFileSync(join(dir, 'client.key'), 'KEY');
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    const config = loadWorkerConfig({
      ...valid,
      TEMPORAL_TLS_CERT_PATH: join(dir, 'client.pem'),
      TEMPORAL_TLS_KEY_PATH: join(dir, 'client.key'),
      TEMPORAL_TLS_CA_PATH: join(dir, 'ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const options = temporalConnectionOptions(config.temporal);
    assert.ok(options.tls);
    assert.equal(options.tls.serverNameOverride, 'temporal.internal');
    assert.equal(options.tls.clientCertPair?.crt.toString(), 'CERT');
    assert.equal(options.tls.clientCertPair?.key.toString(), 'KEY');
    assert.equal(options.tls.serverRootCACertificate?.toString(), 'CA');
  });

  it('names the variable whose certificate file cannot be read', () => {
    const config = loadWorkerConfig({ ...valid, TEMPORAL_TLS: 'true', TEMPORAL_TLS_CA_PATH: '/nonexistent/ca.pem' });
    const problems = problemsOf(() => temporalConnectionOptions(config.temporal));
    assert.equal(problems[0]?.variable, 'TEMPORAL_TLS_CA_PATH');
  });

  it('defaults to the local sandbox network', () => {
    const config = loadApiConfig(valid);
    assert.deepEqual(config.stellar, {
      network: 'sandbox',
      horizonUrl: 'http://127.0.0.1:8000',
      sorobanRpcUrl: 'http://127.0.0.1:8000/soroban/rpc',
      networkPassphrase: 'Nova Sandbox Network ; 2026',
      assetCode: 'NOVA',
      assetIssuer: issuer.publicKey(),
      distributionAccount: distribution.publicKey(),
      redemptionAccount: distribution.publicKey(),
      transactionTimeoutSeconds: 30,
      maxFeePerOperation: 10_000,
      maxPaymentsPerTransaction: 100,
    });
  });

  it('switches to testnet by configuration only', () => {
    const config = loadWorkerConfig({ ...valid, STELLAR_NETWORK: 'testnet' });
    assert.equal(config.stellar.networkPassphrase, Networks.TESTNET);
    assert.equal(config.stellar.horizonUrl, 'https://horizon-testnet.stellar.org');
    assert.equal(config.signers.distribution.publicKey(), distribution.publicKey());
    assert.deepEqual(
      config.signers.channels.map((c) => c.publicKey()),
      channels.map((c) => c.publicKey()),
    );
  });

  it('needs a Soroban RPC URL on the public network', () => {
    const problems = problemsOf(() => loadApiConfig({ ...valid, STELLAR_NETWORK: 'public' }));
    assert.deepEqual(
      problems.map((p) => p.variable),
      ['SOROBAN_RPC_URL'],
    );
  });

  it('reads keys from the sandbox keys file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nova-keys-'));
    const file = join(dir, 'keys.json');
    writeFileSync(
      file,
      JSON.stringify({
        issuer: { publicKey: issuer.publicKey(), secretKey: issuer.secret() },
        distribution: { publicKey: distribution.publicKey(), secretKey: distribution.secret() },
        channels: channels.map((c) => ({ publicKey: c.publicKey(), secretKey: c.secret() })),
      }),
    );
    const config = loadWorkerConfig({
      DATABASE_URL: valid.DATABASE_URL,
      STELLAR_KEYS_FILE: file,
      CHANNEL_POOL_SIZE: '2',
    });
    assert.equal(config.stellar.assetIssuer, issuer.publicKey());
    assert.equal(config.stellar.distributionAccount, distribution.publicKey());
    assert.equal(config.signers.channels.length, 2);
  });

  it('refuses malformed Stellar keys without echoing the secret', () => {
    const problems = problemsOf(() => loadWorkerConfig({ ...valid, DISTRIBUTION_SECRET: 'SNOTASECRET' }));
    assert.deepEqual(problems, [{ variable: 'DISTRIBUTION_SECRET', message: 'must hold Stellar secret seeds (S...)' }]);
    const issuerProblems = problemsOf(() => loadApiConfig({ ...valid, NOVA_ASSET_ISSUER: 'GBAD' }));
    assert.equal(issuerProblems[0]?.variable, 'NOVA_ASSET_ISSUER');
  });

  it('needs as many channel secrets as the pool size', () => {
    const problems = problemsOf(() => loadWorkerConfig({ ...valid, CHANNEL_POOL_SIZE: '8' }));
    assert.equal(problems[0]?.variable, 'CHANNEL_POOL_SIZE');
    assert.match(problems[0]!.message, /holds 2 channel secrets/);
  });

  it('batches up to 100 payments per transaction unless PAYMENT_BATCH_SIZE says fewer', () => {
    assert.equal(loadWorkerConfig(valid).stellar.maxPaymentsPerTransaction, 100);
    assert.equal(loadWorkerConfig({ ...valid, PAYMENT_BATCH_SIZE: '1' }).stellar.maxPaymentsPerTransaction, 1);
    for (const bad of ['0', '101', 'ten']) {
      const problems = problemsOf(() => loadWorkerConfig({ ...valid, PAYMENT_BATCH_SIZE: bad }));
      assert.equal(problems[0]?.variable, 'PAYMENT_BATCH_SIZE', bad);
    }
  });

  describe('the campaign contract (campaign sync)', () => {
    const contractId = StrKey.encodeContract(Buffer.alloc(32, 7));
    const otherId = StrKey.encodeContract(Buffer.alloc(32, 9));
    const contractsFile = (document: unknown): string => {
      const file = join(mkdtempSync(join(tmpdir(), 'nova-contracts-')), 'contracts.json');
      writeFileSync(file, typeof document === 'string' ? document : JSON.stringify(document));
      return file;
    };

    it('is off when neither CAMPAIGN_CONTRACT_ID nor STELLAR_CONTRACTS_FILE is set', () => {
      assert.equal(loadApiConfig(valid).stellar.campaignContractId, undefined);
      assert.equal(loadWorkerConfig(valid).stellar.campaignContractId, undefined);
    });

    it('reads CAMPAIGN_CONTRACT_ID, for the API and the worker alike', () => {
      assert.equal(
        loadApiConfig({ ...valid, CAMPAIGN_CONTRACT_ID: contractId }).stellar.campaignContractId,
        contractId,
      );
      assert.equal(
        loadWorkerConfig({ ...valid, CAMPAIGN_CONTRACT_ID: contractId }).stellar.campaignContractId,
        contractId,
      );
    });

    it('reads the campaign entry of the sandbox contracts file; CAMPAIGN_CONTRACT_ID wins over it', () => {
      const file = contractsFile({
        campaign: { contractId, wasmHash: 'ab'.repeat(32), deployedAtLedger: 1 },
        redemption: { contractId: otherId, wasmHash: 'cd'.repeat(32), deployedAtLedger: 1 },
      });
      assert.equal(loadWorkerConfig({ ...valid, STELLAR_CONTRACTS_FILE: file }).stellar.campaignContractId, contractId);
      assert.equal(
        loadApiConfig({ ...valid, STELLAR_CONTRACTS_FILE: file, CAMPAIGN_CONTRACT_ID: otherId }).stellar
          .campaignContractId,
        otherId,
      );
    });

    it('reads the redemption contract like the campaign one: REDEMPTION_CONTRACT_ID over the file; off without either', () => {
      assert.equal(loadApiConfig(valid).stellar.redemptionContractId, undefined);
      const file = contractsFile({ campaign: { contractId }, redemption: { contractId: otherId } });
      assert.equal(loadWorkerConfig({ ...valid, STELLAR_CONTRACTS_FILE: file }).stellar.redemptionContractId, otherId);
      assert.equal(
        loadApiConfig({ ...valid, STELLAR_CONTRACTS_FILE: file, REDEMPTION_CONTRACT_ID: contractId }).stellar
          .redemptionContractId,
        contractId,
      );
      // A contracts file without a redemption entry leaves redemptions off; a malformed one is refused.
      const campaignOnly = contractsFile({ campaign: { contractId } });
      assert.equal(
        loadApiConfig({ ...valid, STELLAR_CONTRACTS_FILE: campaignOnly }).stellar.redemptionContractId,
        undefined,
      );
      const broken = contractsFile({ campaign: { contractId }, redemption: { contractId: 'nope' } });
      assert.deepEqual(
        problemsOf(() => loadApiConfig({ ...valid, STELLAR_CONTRACTS_FILE: broken })),
        [{ variable: 'STELLAR_CONTRACTS_FILE', message: `${broken} holds no redemption.contractId (a C... address)` }],
      );
      assert.deepEqual(
        problemsOf(() => loadApiConfig({ ...valid, REDEMPTION_CONTRACT_ID: 'CNOTACONTRACT' })),
        [{ variable: 'REDEMPTION_CONTRACT_ID', message: 'must be a Soroban contract address (C...)' }],
      );
    });

    it('reads the vesting contract like the others: VESTING_CONTRACT_ID over the file; off without either', () => {
      assert.equal(loadApiConfig(valid).stellar.vestingContractId, undefined);
      const file = contractsFile({ campaign: { contractId }, vesting: { contractId: otherId } });
      assert.equal(loadWorkerConfig({ ...valid, STELLAR_CONTRACTS_FILE: file }).stellar.vestingContractId, otherId);
      assert.equal(
        loadApiConfig({ ...valid, STELLAR_CONTRACTS_FILE: file, VESTING_CONTRACT_ID: contractId }).stellar
          .vestingContractId,
        contractId,
      );
      assert.equal(
        loadWorkerConfig({ ...valid, STELLAR_CONTRACTS_FILE: contractsFile({ campaign: { contractId } }) }).stellar
          .vestingContractId,
        undefined,
        'a contracts file without a vesting entry leaves vesting off',
      );
      const broken = contractsFile({ campaign: { contractId }, vesting: { contractId: 'nope' } });
      assert.deepEqual(
        problemsOf(() => loadApiConfig({ ...valid, STELLAR_CONTRACTS_FILE: broken })),
        [{ variable: 'STELLAR_CONTRACTS_FILE', message: `${broken} holds no vesting.contractId (a C... address)` }],
      );
      assert.deepEqual(
        problemsOf(() => loadWorkerConfig({ ...valid, VESTING_CONTRACT_ID: 'CNOTACONTRACT' })),
        [{ variable: 'VESTING_CONTRACT_ID', message: 'must be a Soroban contract address (C...)' }],
      );
    });

    it('redemption timings: defaults, and a quote TTL outside 30 s..1 day refused naming the variable', () => {
      assert.deepEqual(loadWorkerConfig(valid).redemption, {
        quoteTtlSeconds: 300,
        fulfilmentDeadlineSeconds: 259_200,
      });
      assert.deepEqual(
        loadApiConfig({ ...valid, REDEMPTION_QUOTE_TTL_SECONDS: '60', REDEMPTION_FULFILMENT_DEADLINE_SECONDS: '10' })
          .redemption,
        { quoteTtlSeconds: 60, fulfilmentDeadlineSeconds: 10 },
      );
      assert.deepEqual(
        problemsOf(() => loadApiConfig({ ...valid, REDEMPTION_QUOTE_TTL_SECONDS: '5' })),
        [{ variable: 'REDEMPTION_QUOTE_TTL_SECONDS', message: 'must be at least 30 seconds' }],
      );
      assert.equal(
        problemsOf(() => loadApiConfig({ ...valid, REDEMPTION_FULFILMENT_DEADLINE_SECONDS: 'soon' }))[0]?.variable,
        'REDEMPTION_FULFILMENT_DEADLINE_SECONDS',
      );
    });

    it('vesting retry timings: defaults, a list of waits, and malformed values refused naming the variable', () => {
      assert.deepEqual(loadWorkerConfig(valid).vesting, {
        retryDelaysSeconds: [60, 600, 3600],
        stalledRetrySeconds: 86_400,
      });
      assert.deepEqual(
        loadApiConfig({ ...valid, VESTING_RETRY_DELAYS_SECONDS: '1,2', VESTING_STALLED_RETRY_SECONDS: '3' }).vesting,
        { retryDelaysSeconds: [1, 2], stalledRetrySeconds: 3 },
      );
      for (const bad of ['hourly', '1,,2', '-1', '1.5', '0', '1,2,3,4,5,6,7,8,9,10,11']) {
        const problems = problemsOf(() => loadWorkerConfig({ ...valid, VESTING_RETRY_DELAYS_SECONDS: bad }));
        assert.equal(problems[0]?.variable, 'VESTING_RETRY_DELAYS_SECONDS', `${JSON.stringify(bad)} refused`);
      }
      assert.equal(
        problemsOf(() => loadWorkerConfig({ ...valid, VESTING_STALLED_RETRY_SECONDS: 'daily' }))[0]?.variable,
        'VESTING_STALLED_RETRY_SECONDS',
      );
    });

    it('refuses a malformed id or an unusable file, naming the variable', () => {
      for (const bad of [distribution.publicKey(), 'CNOTACONTRACT', contractId.toLowerCase()]) {
        const problems = problemsOf(() => loadApiConfig({ ...valid, CAMPAIGN_CONTRACT_ID: bad }));
        assert.deepEqual(problems, [
          { variable: 'CAMPAIGN_CONTRACT_ID', message: 'must be a Soroban contract address (C...)' },
        ]);
      }
      for (const file of [
        join(tmpdir(), `nova-missing-${Date.now()}.json`),
        contractsFile('{ not json'),
        contractsFile({ redemption: { contractId } }),
        contractsFile({ campaign: { contractId: distribution.publicKey() } }),
      ]) {
        const problems = problemsOf(() => loadWorkerConfig({ ...valid, STELLAR_CONTRACTS_FILE: file }));
        assert.deepEqual(
          problems.map((p) => p.variable),
          ['STELLAR_CONTRACTS_FILE'],
          file,
        );
      }
    });
  });

  it('connects in plaintext to a local dev server', () => {
    const options = temporalConnectionOptions(loadWorkerConfig(valid).temporal);
    assert.deepEqual(options, { address: '127.0.0.1:7233', apiKey: undefined });
  });
});
