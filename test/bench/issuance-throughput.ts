// Run (after `npx tsc -b test`), against a fresh database with the migrations applied
// (`DATABASE_URL=... node scripts/migrate.js`):
//   DATABASE_URL=postgresql://postgres@127.0.0.1:55432/nova_bench_1 \
//   TEMPORAL_CLI_PATH=.tools/venv/bin/temporal node test/dist/bench/issuance-throughput.js
// Optional: BENCH_ISSUANCES (300), BENCH_RATE (30 per second, open loop) or BENCH_CONCURRENCY
// (closed loop, replaces the rate), BENCH_CHANNELS (8), BENCH_WAIT_SECONDS (how long to wait for
// the last confirmation after the last accept; max(180, N/2)), BENCH_TEMPORAL_DYNAMIC_CONFIG
// (comma-separated KEY=JSON pairs for the dev server's --dynamic-config-value), BENCH_CPU_PROFILE
// (worker,api: run them under node --cpu-prof and print where their CPU went in the window),
// NOVA_BACKGROUND_NICE (5, as `npm start`: the worker and Temporal run at this lower CPU priority),
// BENCH_WEBHOOK_ENDPOINTS (0: n endpoints on a loopback receiver in this process, subscribed to
// issuance.confirmed; the report then adds the deliveries' figures), BENCH_WEBHOOK_WAIT_SECONDS (how
// long to wait for the deliveries after the last confirmation; max(120, N x n / 20)).
/**
 * Throughput of reward issuance through the WHOLE stack (a benchmark, not a test):
 * POST /v1/rewards/issuances -> API -> Temporal workflow -> worker activities -> sandbox ledger.
 *
 * It starts, on 127.0.0.1, a Temporal dev server, the Stellar sandbox (1 s ledgers), the worker
 * and the API as child processes (built code: apps/.../dist), makes a merchant, a campaign and
 * N wallets with NOVA trustlines, issues N rewards at an open-loop arrival rate (or with a
 * closed-loop concurrency) and watches them confirm by polling the list endpoint (one request
 * of limit=100 every 250 ms). It prints throughput, accept and accept-to-confirmed latency,
 * CPU and peak RSS of each process, where the time went (workflow histories, payment
 * envelopes, ledger packing), and a correctness line; exits 0 only when every issuance was
 * confirmed and paid exactly once on the ledger. Every process it started is stopped at the end.
 *
 * Its parts: issuance-stack (child processes), issuance-tracker (the load and the poller),
 * issuance-resources (CPU and RSS from /proc), issuance-probes (component round trips and
 * database sessions), issuance-temporal-metrics (the dev server's Prometheus figures),
 * issuance-analysis (histories, envelopes, ledger check), issuance-report (the output) and
 * issuance-webhooks (the receiver, its endpoints and the deliveries' figures).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Asset, Horizon, Keypair, Operation, TransactionBuilder } from '@stellar/stellar-sdk';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createPrismaClient } from '@nova/db';
import { WORKFLOW_INTERCEPTOR_MODULES } from '@nova/worker';
import { platformSearchAttributes } from '@nova/workflows/definitions';
import { analyseEnvelopes, analyseHistories, checkLedger } from './issuance-analysis';
import { expectStatus, http, say, step } from './issuance-common';
import { ComponentProbes } from './issuance-probes';
import { LEDGER_INTERVAL_MS, printReport, type LedgerClose, type Watched } from './issuance-report';
import { loadAverage, readMemory, ResourceSampler } from './issuance-resources';
import { backgroundNice, devServerArgs, freePort } from '../support/launcher';
import { startProcess, waitUntil, type StackProcess } from './issuance-stack';
import { monotonicMicros, summariseProfiles } from './issuance-profile';
import { compareScrapes, scrapeTemporalMetrics } from './issuance-temporal-metrics';
import { IssuanceTracker, issueClosedLoop, issueOne, issueOpenLoop, type IssuanceRecord } from './issuance-tracker';
import {
  printWebhookReport,
  readDeliveryRecords,
  registerWebhookEndpoints,
  waitForDeliveries,
} from './issuance-webhooks';
import { WebhookReceiver } from '../support/webhook-receiver';

const ROOT = resolve(__dirname, '../../..');
const POLL_INTERVAL_MS = 250;
const PROGRESS_INTERVAL_MS = 2_000;
const STOP_GRACE_MS = 15_000;

// ---------------------------------------------------------------- options and output

interface Options {
  databaseUrl: string;
  databaseName: string;
  temporalCli: string;
  issuances: number;
  rate: number;
  concurrency: number | undefined;
  channels: number;
  waitSeconds: number;
  dynamicConfig: string[];
  /** Processes to run under node --cpu-prof. */
  cpuProfile: Set<string>;
  /** NOVA_BACKGROUND_NICE (default 5): the worker's and Temporal's priority, as START runs them. */
  backgroundNice: number;
  /** Webhook endpoints of the merchant on the benchmark's receiver (0: no webhooks). */
  webhookEndpoints: number;
  webhookWaitSeconds: number;
}

function fail(message: string): never {
  process.stderr.write(`[bench] ${message}\n`);
  process.exit(2);
}

function positiveInt(name: string, fallback: number, least = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < least)
    fail(`${name} must be ${least === 0 ? 'a whole number' : 'a positive integer'}, got "${raw}"`);
  return value;
}

function readOptions(): Options {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) fail('DATABASE_URL must point at a PostgreSQL database with the migrations applied');
  const databaseName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const temporalCli = process.env.TEMPORAL_CLI_PATH;
  if (!temporalCli || !existsSync(temporalCli)) fail('TEMPORAL_CLI_PATH must name the temporal CLI binary');
  const issuances = positiveInt('BENCH_ISSUANCES', 300);
  const webhookEndpoints = positiveInt('BENCH_WEBHOOK_ENDPOINTS', 0, 0);
  const concurrency = process.env.BENCH_CONCURRENCY ? positiveInt('BENCH_CONCURRENCY', 1) : undefined;
  const dynamicConfig = (process.env.BENCH_TEMPORAL_DYNAMIC_CONFIG ?? '')
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '');
  const cpuProfile = new Set(
    (process.env.BENCH_CPU_PROFILE ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  );
  for (const name of cpuProfile) {
    if (name !== 'api' && name !== 'worker') fail(`BENCH_CPU_PROFILE: "${name}" is neither api nor worker`);
  }
  for (const pair of dynamicConfig) {
    if (!/^[A-Za-z0-9_.]+=.+$/.test(pair)) fail(`BENCH_TEMPORAL_DYNAMIC_CONFIG: "${pair}" is not KEY=JSON`);
  }
  for (const file of ['apps/api/dist/main.js', 'apps/worker/dist/main.js', 'apps/stellar-sandbox/dist/src/main.js']) {
    if (!existsSync(join(ROOT, file))) fail(`${file} is missing: build the workspaces first (npm run build)`);
  }
  return {
    databaseUrl,
    databaseName,
    temporalCli: resolve(temporalCli),
    issuances,
    rate: positiveInt('BENCH_RATE', 30),
    concurrency,
    channels: positiveInt('BENCH_CHANNELS', 8),
    waitSeconds: positiveInt('BENCH_WAIT_SECONDS', Math.max(180, Math.ceil(issuances / 2))),
    dynamicConfig,
    cpuProfile,
    backgroundNice: (() => {
      try {
        return backgroundNice();
      } catch (error) {
        return fail((error as Error).message);
      }
    })(),
    webhookEndpoints,
    webhookWaitSeconds: positiveInt(
      'BENCH_WEBHOOK_WAIT_SECONDS',
      Math.max(120, Math.ceil((issuances * webhookEndpoints) / 20)),
    ),
  };
}

// ---------------------------------------------------------------- the stack

/** The platform's variables must come from the benchmark alone, never from the caller's shell. */
function baseEnvironment(): NodeJS.ProcessEnv {
  const platformVariable =
    /^(SANDBOX_|TEMPORAL_|STELLAR_|NOVA_|CHANNEL_|DISTRIBUTION_|HORIZON_|SOROBAN_|WORKER_|WORKFLOW_|ISSUANCE_|WEBHOOK_|RATE_LIMIT|BENCH_)|^(NETWORK_PASSPHRASE|ADMIN_API_KEY|PORT|HOST|LOG_LEVEL|NODE_ENV|DATABASE_URL)$/;
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !platformVariable.test(name)));
}

interface Stack {
  temporal?: StackProcess;
  sandbox?: StackProcess;
  worker?: StackProcess;
  api?: StackProcess;
  temporalConnection?: Connection;
  /** The merchant's webhook receiver (in this process), with BENCH_WEBHOOK_ENDPOINTS. */
  webhookReceiver?: WebhookReceiver;
  workDir: string;
}

async function startTemporal(options: Options, stack: Stack): Promise<{ address: string; metricsUrl: string }> {
  const port = await freePort();
  const uiPort = await freePort();
  const metricsPort = await freePort();
  // As `npm start` runs it (in memory, headless), plus the metrics the report reads.
  const args = [
    ...devServerArgs({
      port,
      uiPort,
      namespace: 'default',
      searchAttributes: platformSearchAttributes,
      headless: true,
    }),
    '--metrics-port',
    String(metricsPort),
    ...options.dynamicConfig.flatMap((pair) => ['--dynamic-config-value', pair]),
  ];
  const server = startProcess('temporal', options.temporalCli, args, {
    env: baseEnvironment(),
    cwd: stack.workDir,
    nice: options.backgroundNice,
  });
  stack.temporal = server;
  const address = `127.0.0.1:${port}`;
  stack.temporalConnection = await waitUntil(
    'the Temporal frontend with the platform search attributes',
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: '2 seconds' });
      const listed = await connection.operatorService
        .listSearchAttributes({ namespace: 'default' })
        .catch(() => undefined);
      const names = new Set(Object.keys(listed?.customAttributes ?? {}));
      if (platformSearchAttributes.every((attribute) => names.has(attribute.name))) return connection;
      await connection.close();
      return undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, watched: [server] },
  );
  return { address, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
}

async function startSandbox(options: Options, stack: Stack, closes: LedgerClose[]): Promise<string> {
  const dataDir = join(stack.workDir, 'sandbox');
  const sandbox = startProcess('sandbox', process.execPath, [join(ROOT, 'apps/stellar-sandbox/dist/src/main.js')], {
    env: {
      ...baseEnvironment(),
      SANDBOX_HOST: '127.0.0.1',
      SANDBOX_PORT: String(await freePort()),
      SANDBOX_DATA_DIR: dataDir,
      SANDBOX_LEDGER_INTERVAL_MS: String(LEDGER_INTERVAL_MS),
      SANDBOX_CHANNEL_ACCOUNTS: String(Math.max(8, options.channels)),
    },
    cwd: ROOT,
  });
  stack.sandbox = sandbox;
  let url: string | undefined;
  sandbox.onStdoutLine((line) => {
    url ??= /stellar-sandbox listening on (\S+)/.exec(line)?.[1];
  });
  // The sandbox logs every ledger that holds transactions: the ledger packing, measured.
  sandbox.onStderrLine((line) => {
    if (!line.includes('"ledger closed"')) return;
    try {
      const record = JSON.parse(line) as { ledger: number; transactions: number; queued: number };
      closes.push({ at: Date.now(), ledger: record.ledger, transactions: record.transactions, queued: record.queued });
    } catch {
      // Not one of its JSON records.
    }
  });
  return await waitUntil('the sandbox to listen', () => Promise.resolve(url), {
    timeoutMs: 60_000,
    watched: [sandbox],
  });
}

interface PlatformSettings {
  temporalAddress: string;
  taskQueue: string;
  sandboxUrl: string;
  keysFile: string;
  bundlePath: string;
  adminKey: string;
  apiPort: number;
  workerMetricsPort: number;
}

function platformEnvironment(options: Options, settings: PlatformSettings): NodeJS.ProcessEnv {
  return {
    ...baseEnvironment(),
    NODE_ENV: 'production',
    DATABASE_URL: options.databaseUrl,
    TEMPORAL_ADDRESS: settings.temporalAddress,
    TEMPORAL_TASK_QUEUE: settings.taskQueue,
    STELLAR_NETWORK: 'sandbox',
    HORIZON_URL: settings.sandboxUrl,
    SOROBAN_RPC_URL: `${settings.sandboxUrl}/soroban/rpc`,
    STELLAR_KEYS_FILE: settings.keysFile,
    CHANNEL_POOL_SIZE: String(options.channels),
    ADMIN_API_KEY: settings.adminKey,
    PORT: String(settings.apiPort),
    WORKER_METRICS_PORT: String(settings.workerMetricsPort),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '1000000',
    WORKFLOW_BUNDLE_PATH: settings.bundlePath,
    WORKER_SHUTDOWN_GRACE_SECONDS: '5',
    // The receiver listens on loopback, which the address rules refuse to anyone not listed.
    ...(options.webhookEndpoints > 0 ? { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } : {}),
  };
}

async function stopStack(stack: Stack): Promise<void> {
  await stack.temporalConnection?.close().catch(() => undefined);
  // The API and the worker first (they talk to the others), then the servers.
  await Promise.all([stack.api?.stop(STOP_GRACE_MS), stack.worker?.stop(STOP_GRACE_MS)]);
  await Promise.all([stack.sandbox?.stop(STOP_GRACE_MS), stack.temporal?.stop(STOP_GRACE_MS)]);
  await stack.webhookReceiver?.stop();
  await rm(stack.workDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- wallets

interface StellarInfo {
  networkPassphrase: string;
  horizonUrl: string;
  asset: { code: string; issuer: string };
  distributionAccount: string;
}

/**
 * N funded wallets that trust NOVA. The distribution account funds them, 100 createAccount
 * operations per transaction (Stellar's limit), one transaction after the other (one source,
 * one sequence). Each wallet then signs its own changeTrust: 20 wallets per transaction (at
 * most 20 signatures), its first wallet the source, so these transactions have different
 * sources and land in the same ledger.
 */
async function createWallets(
  stellar: StellarInfo,
  distribution: Keypair,
  count: number,
  progress: (message: string) => void,
): Promise<Keypair[]> {
  const horizon = new Horizon.Server(stellar.horizonUrl, { allowHttp: true });
  const asset = new Asset(stellar.asset.code, stellar.asset.issuer);
  const wallets = Array.from({ length: count }, () => Keypair.random());
  const submit = async (
    source: Keypair,
    signers: Keypair[],
    operations: Parameters<TransactionBuilder['addOperation']>[0][],
  ) => {
    const account = await horizon.loadAccount(source.publicKey());
    const builder = new TransactionBuilder(account, { fee: '100', networkPassphrase: stellar.networkPassphrase });
    for (const operation of operations) builder.addOperation(operation);
    const transaction = builder.setTimeout(60).build();
    transaction.sign(...signers);
    try {
      await horizon.submitTransaction(transaction);
    } catch (error) {
      const extras = (error as { response?: { data?: { extras?: { result_codes?: unknown } } } }).response?.data?.extras
        ?.result_codes;
      throw new Error(`wallet setup transaction failed: ${extras ? JSON.stringify(extras) : String(error)}`);
    }
  };
  for (let at = 0; at < wallets.length; at += 100) {
    const batch = wallets.slice(at, at + 100);
    await submit(
      distribution,
      [distribution],
      batch.map((wallet) => Operation.createAccount({ destination: wallet.publicKey(), startingBalance: '5' })),
    );
    progress(`wallets funded: ${at + batch.length}/${count}`);
  }
  const groups: Keypair[][] = [];
  for (let at = 0; at < wallets.length; at += 20) groups.push(wallets.slice(at, at + 20));
  let trusted = 0;
  for (let at = 0; at < groups.length; at += 25) {
    await Promise.all(
      groups.slice(at, at + 25).map(async (group) => {
        await submit(
          group[0]!,
          group,
          group.map((wallet) => Operation.changeTrust({ asset, source: wallet.publicKey() })),
        );
        trusted += group.length;
      }),
    );
    progress(`trustlines: ${trusted}/${count}`);
  }
  // Spot check through Horizon that the wallets hold the trustline the payments need.
  for (const wallet of [wallets[0]!, wallets[wallets.length - 1]!]) {
    const account = await horizon.loadAccount(wallet.publicKey());
    const trusts = account.balances.some(
      (balance) =>
        'asset_code' in balance && balance.asset_code === asset.code && balance.asset_issuer === asset.issuer,
    );
    if (!trusts) throw new Error(`wallet ${wallet.publicKey()} has no ${asset.code} trustline after setup`);
  }
  return wallets;
}

// ---------------------------------------------------------------- main

/** Refuses a database without every migration of this checkout (the API would answer 500s). */
async function checkDatabase(databaseUrl: string): Promise<void> {
  const wanted = readdirSync(join(ROOT, 'prisma/migrations'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  const db = createPrismaClient({ databaseUrl, poolSize: 1 });
  try {
    const applied = await db.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
    const missing = wanted.filter((name) => !applied.some((row) => row.migration_name === name));
    if (missing.length > 0) {
      throw new Error(
        `the database lacks migrations ${missing.join(', ')}: run DATABASE_URL=... node scripts/migrate.js first`,
      );
    }
    const existing = await db.issuance.count();
    if (existing > 0)
      say(`warning: the database already holds ${existing} issuances; use a fresh one for clean numbers`);
  } finally {
    await db.$disconnect();
  }
}

function printProfiles(directory: string, window: { start: number; end: number }): void {
  for (const name of ['worker', 'api']) {
    for (const summary of summariseProfiles(join(directory, name), window)) {
      say(
        `CPU profile of the ${name} over the window (${(summary.busyMs / 1000).toFixed(1)} s busy; ${join(directory, name, summary.file)}): ` +
          summary.shares
            .slice(0, 12)
            .map(([owner, share]) => `${owner} ${(share * 100).toFixed(0)}%`)
            .join(', '),
      );
    }
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  const run = randomBytes(3).toString('hex');
  const mode =
    options.concurrency !== undefined
      ? `closed loop, concurrency ${options.concurrency}`
      : `open loop, ${options.rate} issuances/s offered`;
  say(
    `issuance benchmark ${run}: ${options.issuances} issuances, ${mode}, ${options.channels} channel accounts, ` +
      `${LEDGER_INTERVAL_MS} ms ledgers; database ${options.databaseName}` +
      (options.dynamicConfig.length > 0 ? `; Temporal dynamic config ${options.dynamicConfig.join(' ')}` : '') +
      (options.webhookEndpoints > 0 ? `; ${options.webhookEndpoints} webhook endpoints` : '; no webhook endpoints'),
  );
  say(`load average before: ${loadAverage()} (2-core figures: anything near 2 means the machine is already busy)`);

  const stack: Stack = { workDir: await mkdtemp(join(tmpdir(), 'nova-bench-issuance-')) };
  // Outside the work folder, which is removed at the end: the profiles are kept for a closer look.
  const profileDir = join(tmpdir(), `nova-bench-issuance-profiles-${run}`);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopStack(stack));
  let sampler: ResourceSampler | undefined;
  let probes: ComponentProbes | undefined;
  let ticker: NodeJS.Timeout | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      clearInterval(ticker);
      say(`${signal}: stopping every process`);
      void stop().finally(() => process.exit(130));
    });
  }
  try {
    const closes: LedgerClose[] = [];
    await checkDatabase(options.databaseUrl);

    const bundlePath = join(stack.workDir, 'workflow-bundle.js');
    const [{ address: temporalAddress, metricsUrl }, sandboxUrl] = await step(
      'starting Temporal and the sandbox; bundling the workflows',
      () =>
        Promise.all([
          startTemporal(options, stack),
          startSandbox(options, stack, closes),
          (async () => {
            // Built here so that the worker's peak RSS is its running figure, not webpack's.
            const silent = () => undefined;
            const { code } = await bundleWorkflowCode({
              workflowsPath: require.resolve('@nova/workflows'),
              // As the production bundle has them (apps/worker/src/bundle.ts).
              workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
              logger: { trace: silent, debug: silent, info: silent, warn: silent, error: console.error, log: silent },
            });
            await writeFile(bundlePath, code);
          })(),
        ]),
    );
    say(`Temporal at ${temporalAddress}, sandbox at ${sandboxUrl}`);

    const settings: PlatformSettings = {
      temporalAddress,
      taskQueue: `bench-issuance-${run}`,
      sandboxUrl,
      keysFile: join(stack.workDir, 'sandbox', 'keys.json'),
      bundlePath,
      adminKey: `bench-admin-${randomBytes(24).toString('hex')}`,
      apiPort: await freePort(),
      workerMetricsPort: await freePort(),
    };
    const apiUrl = `http://127.0.0.1:${settings.apiPort}`;
    await step('starting the worker and the API; waiting for /health/ready', async () => {
      const env = platformEnvironment(options, settings);
      const nodeArgs = (name: string, main: string) => [
        ...(options.cpuProfile.has(name) ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []),
        join(ROOT, main),
      ];
      stack.worker = startProcess('worker', process.execPath, nodeArgs('worker', 'apps/worker/dist/main.js'), {
        env,
        cwd: ROOT,
        nice: options.backgroundNice,
      });
      stack.api = startProcess('api', process.execPath, nodeArgs('api', 'apps/api/dist/main.js'), { env, cwd: ROOT });
      await waitUntil(
        'GET /health/ready == 200',
        async () => ((await http('GET', `${apiUrl}/health/ready`)).status === 200 ? true : undefined),
        { timeoutMs: 120_000, intervalMs: 500, watched: [stack.worker, stack.api] },
      );
    });

    const { merchantKey, campaignId } = await step('creating a merchant and a campaign', async () => {
      const merchant = await expectStatus(
        'POST /v1/merchants',
        201,
        http<{ apiKey: { key: string } }>('POST', `${apiUrl}/v1/merchants`, {
          apiKey: settings.adminKey,
          body: { name: `Bench ${run}` },
        }),
      );
      const campaign = await expectStatus(
        'POST /v1/campaigns',
        201,
        http<{ id: string }>('POST', `${apiUrl}/v1/campaigns`, {
          apiKey: merchant.apiKey.key,
          headers: { 'idempotency-key': `bench-campaign-${run}` },
          body: {
            name: `Bench ${run}`,
            budget: String(options.issuances * 10),
            startsAt: new Date(Date.now() - 60_000).toISOString(),
            endsAt: new Date(Date.now() + 86_400_000).toISOString(),
          },
        }),
      );
      return { merchantKey: merchant.apiKey.key, campaignId: campaign.id };
    });
    if (options.webhookEndpoints > 0) {
      // Before the first issuance: an endpoint added later does not get older events.
      const receiver = (stack.webhookReceiver = await new WebhookReceiver().start());
      await step(`registering ${options.webhookEndpoints} webhook endpoints on a loopback receiver`, () =>
        registerWebhookEndpoints(receiver, { apiUrl, apiKey: merchantKey, run }, options.webhookEndpoints),
      );
    }

    const stellar = await expectStatus('GET /v1/stellar', 200, http<StellarInfo>('GET', `${apiUrl}/v1/stellar`));
    const keys = JSON.parse(await readFile(settings.keysFile, 'utf8')) as { distribution: { secretKey: string } };
    const wallets = await step(`creating ${options.issuances} wallets with ${stellar.asset.code} trustlines`, () =>
      createWallets(stellar, Keypair.fromSecret(keys.distribution.secretKey), options.issuances, (message) =>
        say(`  ${message}`),
      ),
    );

    // ---- the measured part
    const tracker = new IssuanceTracker(wallets, apiUrl, merchantKey);
    const pids = new Map<Watched, number>([
      ['api', stack.api!.pid],
      ['worker', stack.worker!.pid],
      ['temporal', stack.temporal!.pid],
      ['sandbox', stack.sandbox!.pid],
      ['bench', process.pid],
    ]);
    sampler = new ResourceSampler(pids, options.databaseName);
    sampler.start();
    say(`issuing ${options.issuances} rewards (${mode}) and polling for confirmations every ${POLL_INTERVAL_MS} ms`);
    const windowStart = sampler.sample();
    const windowStartMicros = monotonicMicros();
    const metricsBefore = await scrapeTemporalMetrics(metricsUrl);
    probes = new ComponentProbes(options.databaseUrl, apiUrl, stack.temporalConnection!);
    probes.start();
    const progress = () =>
      say(
        `  sent ${tracker.records.filter((r) => r.sentAt !== undefined).length}/${options.issuances}, ` +
          `accepted ${tracker.accepted}, refused ${tracker.refused}, confirmed ${tracker.confirmed}, ` +
          `failed ${tracker.failed}, in flight ${tracker.inFlight}, ${((Date.now() - windowStart) / 1000).toFixed(0)} s`,
      );
    ticker = setInterval(progress, PROGRESS_INTERVAL_MS);

    let issuingDone = false;
    let waitDeadline = Infinity;
    let pollError: unknown;
    const polling = (async () => {
      while (!issuingDone || tracker.inFlight > 0) {
        const tickStarted = Date.now();
        try {
          await tracker.poll();
        } catch (error) {
          pollError = error;
        }
        if (issuingDone && Date.now() > waitDeadline) return;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, POLL_INTERVAL_MS - (Date.now() - tickStarted))));
      }
    })();
    const issueContext = { apiUrl, apiKey: merchantKey, campaignId, run };
    const issue = (record: IssuanceRecord) => issueOne(tracker, record, issueContext);
    let maxLagMs = NaN;
    if (options.concurrency !== undefined) await issueClosedLoop(tracker, options.concurrency, issue);
    else maxLagMs = (await issueOpenLoop(tracker, options.rate, issue)).maxLagMs;
    waitDeadline = Date.now() + options.waitSeconds * 1000;
    issuingDone = true;
    await polling;
    const windowEnd = sampler.sample();
    const windowEndMicros = monotonicMicros();
    const temporalFigures = compareScrapes(metricsBefore, await scrapeTemporalMetrics(metricsUrl));
    const probeFigures = await probes.stop();
    clearInterval(ticker);
    progress();
    let webhooksTimedOut = false;
    if (stack.webhookReceiver) {
      const expected = tracker.confirmed * options.webhookEndpoints;
      say(`waiting for ${expected} webhook deliveries (at most ${options.webhookWaitSeconds} s)`);
      webhooksTimedOut = await waitForDeliveries(
        stack.webhookReceiver,
        expected,
        options.webhookWaitSeconds * 1000,
        PROGRESS_INTERVAL_MS,
      );
    }
    const drainEnd = sampler.sample();
    // Peak RSS is read before anything is stopped: the kernel's high-water mark of each process.
    const peaks = new Map([...pids].map(([name, pid]) => [name, readMemory(pid)?.hwmKiB ?? NaN]));
    sampler.stop();
    const timedOut = tracker.inFlight > 0;
    if (timedOut)
      say(`gave up waiting: ${tracker.inFlight} issuances still open ${options.waitSeconds} s after the last accept`);
    if (pollError) say(`a poll failed: ${String(pollError)}`);

    // ---- correctness
    say('checking the ledger: one successful payment to each issuance wallet');
    const ledger = await checkLedger(sandboxUrl, tracker.records);
    const campaign = await expectStatus(
      'GET /v1/campaigns/:id',
      200,
      http<{ paid: string; reserved: string }>('GET', `${apiUrl}/v1/campaigns/${campaignId}`, { apiKey: merchantKey }),
    );

    // ---- where the time went (after the measured window, so it does not disturb it)
    const acceptedIds = tracker.records.filter((r) => r.id !== undefined).map((r) => r.id!);
    const histories = await step('reading workflow histories', () =>
      analyseHistories(stack.temporalConnection!, acceptedIds),
    );
    const envelopes = await analyseEnvelopes(options.databaseUrl, acceptedIds, [stellar.distributionAccount]);

    const correct = printReport({
      run,
      mode,
      issuances: options.issuances,
      channels: options.channels,
      backgroundNice: options.backgroundNice,
      databaseName: options.databaseName,
      records: tracker.records,
      polls: tracker.polls,
      maxLagMs,
      window: { start: windowStart, end: windowEnd },
      sampler,
      peaks,
      probes: probeFigures,
      temporal: temporalFigures,
      histories,
      envelopes,
      closes,
      ledger,
      campaign,
      timedOut,
    });
    if (!correct) process.exitCode = 1;
    if (stack.webhookReceiver) {
      const delivered = printWebhookReport({
        endpoints: options.webhookEndpoints,
        records: tracker.records,
        received: stack.webhookReceiver.received,
        platform: await readDeliveryRecords(options.databaseUrl),
        timedOut: webhooksTimedOut,
        sampler,
        window: { start: windowStart, end: drainEnd },
      });
      if (!delivered) process.exitCode = 1;
    }
    if (options.cpuProfile.size > 0) {
      // Profiles are written when the processes exit.
      await Promise.all([stack.api?.stop(STOP_GRACE_MS), stack.worker?.stop(STOP_GRACE_MS)]);
      printProfiles(profileDir, { start: windowStartMicros, end: windowEndMicros });
    }
  } catch (error) {
    clearInterval(ticker);
    sampler?.stop();
    await probes?.stop().catch(() => undefined);
    process.exitCode = 1;
    process.stderr.write(
      `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    for (const child of [stack.temporal, stack.sandbox, stack.worker, stack.api]) {
      if (child) process.stderr.write(`---- ${child.name} output (tail) ----\n${child.output().slice(-3000)}\n`);
    }
  } finally {
    say('stopping the API, the worker, the sandbox and Temporal');
    await stop();
  }
}

// Exits when done even if a failed run left a timer or a connection behind.
void main().finally(() => process.exit());
