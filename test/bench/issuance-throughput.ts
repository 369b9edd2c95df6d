// Run (after `npx tsc -b test`), against a fresh database with the migrations applied
// (`DATABASE_URL=... node scripts/migrate.js`):
//   DATABASE_URL=postgresql://postgres@127.0.0.1:55432/nova_bench_1 \
//   TEMPORAL_CLI_PATH=.tools/venv/bin/temporal node test/dist/bench/issuance-throughput.js
// Optional: BENCH_ISSUANCES (300), BENCH_RATE (30 per second, open loop) or BENCH_CONCURRENCY
// (closed loop, replaces the rate), BENCH_CHANNELS (8), BENCH_WAIT_SECONDS (how long to wait for
// the last confirmation after the last accept; max(180, N/2)), BENCH_TEMPORAL_DYNAMIC_CONFIG
// (comma-separated KEY=JSON pairs for the dev server's --dynamic-config-value).
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
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Asset, Horizon, Keypair, Operation, TransactionBuilder } from '@stellar/stellar-sdk';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createPrismaClient } from '@nova/db';
import { issuanceMemo, issuanceWorkflowId, platformSearchAttributes } from '@nova/workflows/definitions';
import { freePort, startProcess, waitUntil, type StackProcess } from './issuance-stack';
import { loadAverage, MACHINE, POSTGRES, readMemory, ResourceSampler } from './issuance-resources';
import { compareScrapes, scrapeTemporalMetrics, type OperationFigures } from './issuance-temporal-metrics';

const ROOT = resolve(__dirname, '../../..');
const LEDGER_INTERVAL_MS = 1_000;
const AMOUNT = '1.25';
const POLL_INTERVAL_MS = 250;
const POLL_PAGE_SIZE = 100;
/** One tick in this many polls the failed list instead of the confirmed one. */
const FAILED_POLL_EVERY = 8;
const PROGRESS_INTERVAL_MS = 2_000;
const MAX_HISTORIES = 300;
const STOP_GRACE_MS = 15_000;
const { EventType } = temporal.api.enums.v1;
const WATCHED = ['api', 'worker', 'temporal', 'sandbox', 'bench'] as const;
type Watched = (typeof WATCHED)[number];

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
}

function fail(message: string): never {
  process.stderr.write(`[bench] ${message}\n`);
  process.exit(2);
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) fail(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

function readOptions(): Options {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) fail('DATABASE_URL must point at a PostgreSQL database with the migrations applied');
  const databaseName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const temporalCli = process.env.TEMPORAL_CLI_PATH;
  if (!temporalCli || !existsSync(temporalCli)) fail('TEMPORAL_CLI_PATH must name the temporal CLI binary');
  const issuances = positiveInt('BENCH_ISSUANCES', 300);
  const concurrency = process.env.BENCH_CONCURRENCY ? positiveInt('BENCH_CONCURRENCY', 1) : undefined;
  const dynamicConfig = (process.env.BENCH_TEMPORAL_DYNAMIC_CONFIG ?? '')
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '');
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
  };
}

function say(message: string): void {
  process.stdout.write(`[bench] ${message}\n`);
}

async function step<T>(what: string, action: () => Promise<T>): Promise<T> {
  const started = Date.now();
  say(`${what} ...`);
  const result = await action();
  say(`${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const mean = (values: readonly number[]) =>
  values.length === 0 ? NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : '-');
const secs = (value: number) => (Number.isFinite(value) ? `${(value / 1000).toFixed(2)} s` : '-');
const mib = (kib: number) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(0)} MiB` : '-');
const pct = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)}%` : '-');
const triple = (values: readonly number[], unit: (value: number) => string) =>
  `${unit(percentile(values, 50))} / ${unit(percentile(values, 95))} / ${unit(percentile(values, 99))}`;

function table(rows: readonly (readonly string[])[]): void {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  for (const row of rows)
    say(
      `  ${row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}`,
    );
}

/** A decimal NOVA amount as stroops (7 decimals). */
function stroops(amount: string): bigint {
  const [whole = '0', fraction = ''] = amount.split('.');
  return BigInt(whole) * 10_000_000n + BigInt(fraction.padEnd(7, '0').slice(0, 7));
}

// ---------------------------------------------------------------- HTTP

interface HttpResult<T> {
  status: number;
  body: T;
}

async function http<T>(
  method: 'GET' | 'POST',
  url: string,
  options: { apiKey?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<HttpResult<T>> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the error message.
  }
  return { status: response.status, body: body as T };
}

async function expectStatus<T>(what: string, expected: number, call: Promise<HttpResult<T>>): Promise<T> {
  const result = await call;
  if (result.status !== expected) {
    throw new Error(`${what}: expected ${expected}, got ${result.status} ${JSON.stringify(result.body).slice(0, 500)}`);
  }
  return result.body;
}

// ---------------------------------------------------------------- the stack

/** The platform's variables must come from the benchmark alone, never from the caller's shell. */
function baseEnvironment(): NodeJS.ProcessEnv {
  const platformVariable =
    /^(SANDBOX_|TEMPORAL_|STELLAR_|NOVA_|CHANNEL_|DISTRIBUTION_|HORIZON_|SOROBAN_|WORKER_|WORKFLOW_|ISSUANCE_|RATE_LIMIT|BENCH_)|^(NETWORK_PASSPHRASE|ADMIN_API_KEY|PORT|HOST|LOG_LEVEL|NODE_ENV|DATABASE_URL)$/;
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !platformVariable.test(name)));
}

interface LedgerClose {
  at: number;
  ledger: number;
  transactions: number;
  queued: number;
}

interface Stack {
  temporal?: StackProcess;
  sandbox?: StackProcess;
  worker?: StackProcess;
  api?: StackProcess;
  temporalConnection?: Connection;
  workDir: string;
}

async function startTemporal(options: Options, stack: Stack): Promise<{ address: string; metricsUrl: string }> {
  const port = await freePort();
  const uiPort = await freePort();
  const metricsPort = await freePort();
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--headless',
    '--metrics-port',
    String(metricsPort),
    '--log-level',
    'error',
    ...platformSearchAttributes.flatMap((attribute) => ['--search-attribute', `${attribute.name}=Keyword`]),
    ...options.dynamicConfig.flatMap((pair) => ['--dynamic-config-value', pair]),
  ];
  const server = startProcess('temporal', options.temporalCli, args, { env: baseEnvironment(), cwd: stack.workDir });
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
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '1000000',
    WORKFLOW_BUNDLE_PATH: settings.bundlePath,
    WORKER_SHUTDOWN_GRACE_SECONDS: '5',
  };
}

async function stopStack(stack: Stack): Promise<void> {
  await stack.temporalConnection?.close().catch(() => undefined);
  // The API and the worker first (they talk to the others), then the servers.
  await Promise.all([stack.api?.stop(STOP_GRACE_MS), stack.worker?.stop(STOP_GRACE_MS)]);
  await Promise.all([stack.sandbox?.stop(STOP_GRACE_MS), stack.temporal?.stop(STOP_GRACE_MS)]);
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

// ---------------------------------------------------------------- issuing and watching

interface IssuanceRecord {
  index: number;
  wallet: string;
  sentAt?: number;
  /** Until the response body of the 202 was read, in ms (performance.now()). */
  acceptMs?: number;
  acceptedAt?: number;
  /** POST attempts (a network error is retried with the same Idempotency-Key). */
  posts: number;
  id?: string;
  createdAt?: number;
  refused?: string;
  /** When the poller saw it confirmed. */
  observedAt?: number;
  /** When the worker wrote it confirmed (the issuance's updatedAt). */
  confirmedAt?: number;
  txHash?: string;
  failure?: string;
}

interface IssuanceView {
  id: string;
  status: string;
  txHash: string | null;
  createdAt: string;
  updatedAt: string;
  failure: { type: string; message: string } | null;
}

interface Page {
  data: IssuanceView[];
  nextCursor: string | null;
}

class IssuanceTracker {
  readonly records: IssuanceRecord[];
  private readonly byId = new Map<string, IssuanceRecord>();
  /** Accepted and neither confirmed nor failed yet. */
  private readonly open = new Map<string, IssuanceRecord>();
  private cursor: string | undefined;
  private ticks = 0;
  polls = 0;
  confirmed = 0;
  failed = 0;

  constructor(
    wallets: readonly Keypair[],
    private readonly apiUrl: string,
    private readonly apiKey: string,
  ) {
    this.records = wallets.map((wallet, index) => ({ index, wallet: wallet.publicKey(), posts: 0 }));
  }

  get accepted(): number {
    return this.records.filter((record) => record.id !== undefined).length;
  }

  get refused(): number {
    return this.records.filter((record) => record.refused !== undefined).length;
  }

  get inFlight(): number {
    return this.open.size;
  }

  accept(record: IssuanceRecord, view: IssuanceView): void {
    record.id = view.id;
    record.createdAt = Date.parse(view.createdAt);
    this.byId.set(view.id, record);
    if (record.observedAt === undefined && record.failure === undefined) this.open.set(view.id, record);
  }

  /**
   * One request per tick. The confirmed list is newest first; a walk goes down from the top
   * only until it passes the oldest issuance still open (everything older was seen), so it
   * is short when confirmations keep up, and it starts over from the top when done.
   */
  async poll(): Promise<void> {
    this.ticks += 1;
    const lookForFailures = this.ticks % FAILED_POLL_EVERY === 0;
    const query = lookForFailures
      ? `status=failed&limit=${POLL_PAGE_SIZE}`
      : `status=confirmed&limit=${POLL_PAGE_SIZE}${this.cursor ? `&cursor=${encodeURIComponent(this.cursor)}` : ''}`;
    this.polls += 1;
    const page = await expectStatus(
      'GET /v1/rewards/issuances',
      200,
      http<Page>('GET', `${this.apiUrl}/v1/rewards/issuances?${query}`, { apiKey: this.apiKey }),
    );
    const now = Date.now();
    for (const view of page.data) {
      const record = this.byId.get(view.id);
      if (!record || !this.open.has(view.id)) continue;
      this.open.delete(view.id);
      if (view.status === 'confirmed') {
        record.observedAt = now;
        record.confirmedAt = Date.parse(view.updatedAt);
        record.txHash = view.txHash ?? undefined;
        this.confirmed += 1;
      } else {
        record.failure = view.failure ? `${view.failure.type}: ${view.failure.message}` : view.status;
        this.failed += 1;
      }
    }
    if (lookForFailures) return;
    let oldestOpen = Infinity;
    for (const record of this.open.values()) oldestOpen = Math.min(oldestOpen, record.createdAt ?? Infinity);
    const last = page.data[page.data.length - 1];
    const walkedPastOpen = last === undefined || Date.parse(last.createdAt) < oldestOpen;
    this.cursor = page.nextCursor === null || walkedPastOpen ? undefined : page.nextCursor;
  }
}

async function issueOne(
  tracker: IssuanceTracker,
  record: IssuanceRecord,
  context: { apiUrl: string; apiKey: string; campaignId: string; run: string },
): Promise<void> {
  const body = {
    campaignId: context.campaignId,
    walletAddress: record.wallet,
    amount: AMOUNT,
    reference: `bench-${context.run}-${record.index}`,
  };
  record.sentAt = Date.now();
  const started = performance.now();
  for (;;) {
    record.posts += 1;
    let result: HttpResult<IssuanceView>;
    try {
      result = await http<IssuanceView>('POST', `${context.apiUrl}/v1/rewards/issuances`, {
        apiKey: context.apiKey,
        headers: { 'idempotency-key': `bench-${context.run}-${record.index}` },
        body,
      });
    } catch (error) {
      // The request may or may not have reached the API: the same Idempotency-Key makes a retry safe.
      if (record.posts < 3) continue;
      record.refused = `network: ${(error as Error).message}`;
      return;
    }
    // 200: an earlier attempt of this request (lost on the way back) created it.
    if (result.status === 202 || (result.status === 200 && record.posts > 1)) {
      record.acceptMs = performance.now() - started;
      record.acceptedAt = Date.now();
      tracker.accept(record, result.body);
    } else {
      record.refused = `${result.status} ${JSON.stringify(result.body).slice(0, 300)}`;
    }
    return;
  }
}

/** Open loop: request i is sent at start + i / rate, whether or not earlier ones were answered. */
async function issueOpenLoop(
  tracker: IssuanceTracker,
  rate: number,
  issue: (record: IssuanceRecord) => Promise<void>,
): Promise<{ maxLagMs: number }> {
  const start = Date.now();
  const inFlight: Promise<void>[] = [];
  let maxLagMs = 0;
  for (const record of tracker.records) {
    const due = start + (record.index * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    maxLagMs = Math.max(maxLagMs, Date.now() - due);
    inFlight.push(issue(record));
  }
  await Promise.all(inFlight);
  return { maxLagMs };
}

/** Closed loop: `concurrency` clients, each sending its next request when the last one was answered. */
async function issueClosedLoop(
  tracker: IssuanceTracker,
  concurrency: number,
  issue: (record: IssuanceRecord) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tracker.records.length) await issue(tracker.records[next++]!);
    }),
  );
}

// ---------------------------------------------------------------- where the time went

interface StepTimes {
  /** Scheduled -> started of the last attempt: queueing, plus earlier attempts and their backoff. */
  waitMs: number[];
  /** Started -> closed of the last attempt. */
  runMs: number[];
  attempts: number[];
  lastFailures: Map<string, number>;
}

interface HistoryFigures {
  workflows: number;
  /** Issuance id -> when Temporal recorded its workflow's start (server clock, same machine). */
  startedAt: Map<string, number>;
  workflowMs: number[];
  workflowTaskWaitMs: number[];
  workflowTaskRunMs: number[];
  workflowTasksPerWorkflow: number[];
  steps: Map<string, StepTimes>;
}

async function analyseHistories(connection: Connection, ids: readonly string[]): Promise<HistoryFigures> {
  const client = new Client({ connection });
  const stride = Math.max(1, ids.length / MAX_HISTORIES);
  const sample: string[] = [];
  for (let at = 0; Math.floor(at) < ids.length && sample.length < MAX_HISTORIES; at += stride) {
    sample.push(ids[Math.floor(at)]!);
  }
  const figures: HistoryFigures = {
    workflows: sample.length,
    startedAt: new Map(),
    workflowMs: [],
    workflowTaskWaitMs: [],
    workflowTaskRunMs: [],
    workflowTasksPerWorkflow: [],
    steps: new Map(),
  };
  const stepOf = (name: string): StepTimes => {
    let times = figures.steps.get(name);
    if (!times) {
      times = { waitMs: [], runMs: [], attempts: [], lastFailures: new Map() };
      figures.steps.set(name, times);
    }
    return times;
  };
  for (let at = 0; at < sample.length; at += 10) {
    const batch = sample.slice(at, at + 10);
    const histories = await Promise.all(
      batch.map((id) => client.workflow.getHandle(issuanceWorkflowId(id)).fetchHistory()),
    );
    for (const [index, history] of histories.entries()) {
      const issuanceId = batch[index]!;
      const events = history.events ?? [];
      const times = new Map<string, number>();
      const activities = new Map<string, { name: string; scheduled: number; started?: number }>();
      let workflowTasks = 0;
      let workflowStarted = NaN;
      for (const event of events) {
        const time = tsToMs(event.eventTime);
        const id = String(event.eventId);
        times.set(id, time);
        switch (event.eventType) {
          case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            workflowStarted = time;
            figures.startedAt.set(issuanceId, time);
            break;
          case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
          case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            figures.workflowMs.push(time - workflowStarted);
            break;
          case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
            workflowTasks += 1;
            const scheduled = times.get(String(event.workflowTaskStartedEventAttributes?.scheduledEventId));
            if (scheduled !== undefined) figures.workflowTaskWaitMs.push(time - scheduled);
            break;
          }
          case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
            const started = times.get(String(event.workflowTaskCompletedEventAttributes?.startedEventId));
            if (started !== undefined) figures.workflowTaskRunMs.push(time - started);
            break;
          }
          case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
            const attributes = event.activityTaskScheduledEventAttributes;
            activities.set(id, {
              name: attributes?.activityId ?? attributes?.activityType?.name ?? '?',
              scheduled: time,
            });
            break;
          }
          case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
            const attributes = event.activityTaskStartedEventAttributes;
            const activity = activities.get(String(attributes?.scheduledEventId));
            if (!activity) break;
            activity.started = time;
            const times = stepOf(activity.name);
            times.waitMs.push(time - activity.scheduled);
            times.attempts.push(attributes?.attempt ?? 1);
            const message = attributes?.lastFailure?.message;
            if (message) {
              const key = message.slice(0, 80);
              times.lastFailures.set(key, (times.lastFailures.get(key) ?? 0) + 1);
            }
            break;
          }
          case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
          case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
          case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
            const attributes =
              event.activityTaskCompletedEventAttributes ??
              event.activityTaskFailedEventAttributes ??
              event.activityTaskTimedOutEventAttributes;
            const activity = activities.get(String(attributes?.scheduledEventId));
            if (activity?.started !== undefined) stepOf(activity.name).runMs.push(time - activity.started);
            break;
          }
          default:
            break;
        }
      }
      figures.workflowTasksPerWorkflow.push(workflowTasks);
    }
  }
  return figures;
}

interface EnvelopeFigures {
  envelopes: number;
  confirmedEnvelopes: number;
  channelsUsed: number;
  /** Envelope built -> confirmed: how long a channel is held per payment (the lease starts a little earlier). */
  holdMs: number[];
  attemptOutcomes: Map<string, number>;
  leaseCounts: number[];
}

async function analyseEnvelopes(databaseUrl: string, ids: readonly string[]): Promise<EnvelopeFigures> {
  const db = createPrismaClient({ databaseUrl, poolSize: 2 });
  try {
    const keys = ids.map((id) => `issuance/${id}`);
    const envelopes = await db.paymentEnvelope.findMany({
      where: { businessKey: { in: keys } },
      select: { id: true, channelAccount: true, status: true, createdAt: true, updatedAt: true },
    });
    const attempts = await db.submissionAttempt.groupBy({
      by: ['action', 'outcome'],
      where: { envelopeId: { in: envelopes.map((envelope) => envelope.id) } },
      _count: { _all: true },
    });
    const channels = await db.channelAccount.findMany({ select: { leasedCount: true } });
    const confirmed = envelopes.filter((envelope) => envelope.status === 'confirmed');
    return {
      envelopes: envelopes.length,
      confirmedEnvelopes: confirmed.length,
      channelsUsed: new Set(envelopes.map((envelope) => envelope.channelAccount)).size,
      holdMs: confirmed.map((envelope) => envelope.updatedAt.getTime() - envelope.createdAt.getTime()),
      attemptOutcomes: new Map(attempts.map((row) => [`${row.action}:${row.outcome}`, row._count._all])),
      leaseCounts: channels.map((channel) => Number(channel.leasedCount)),
    };
  } finally {
    await db.$disconnect();
  }
}

// ---------------------------------------------------------------- correctness

interface LedgerCheck {
  checked: number;
  wrong: string[];
}

async function checkLedger(sandboxUrl: string, records: readonly IssuanceRecord[]): Promise<LedgerCheck> {
  const wrong: string[] = [];
  const accepted = records.filter((record) => record.id !== undefined);
  for (let at = 0; at < accepted.length; at += 25) {
    await Promise.all(
      accepted.slice(at, at + 25).map(async (record) => {
        const memo = issuanceMemo(record.id!);
        const landed = await expectStatus(
          'GET /sandbox/transactions',
          200,
          http<{ count: number; successful: number; transactions: { hash: string; successful: boolean }[] }>(
            'GET',
            `${sandboxUrl}/sandbox/transactions?memo=${encodeURIComponent(memo)}`,
          ),
        );
        const paid = landed.transactions.filter((transaction) => transaction.successful);
        if (landed.count !== 1 || landed.successful !== 1) {
          wrong.push(`${record.id} (${memo}): ${landed.count} landed, ${landed.successful} successful`);
        } else if (record.txHash !== undefined && paid[0]?.hash !== record.txHash) {
          wrong.push(`${record.id} (${memo}): the API says ${record.txHash}, the ledger holds ${paid[0]?.hash}`);
        }
      }),
    );
  }
  return { checked: accepted.length, wrong };
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
      (options.dynamicConfig.length > 0 ? `; Temporal dynamic config ${options.dynamicConfig.join(' ')}` : ''),
  );
  say(`load average before: ${loadAverage()} (2-core figures: anything near 2 means the machine is already busy)`);

  const stack: Stack = { workDir: await mkdtemp(join(tmpdir(), 'nova-bench-issuance-')) };
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopStack(stack));
  process.once('SIGINT', () => {
    say('interrupted: stopping every process');
    void stop().finally(() => process.exit(130));
  });
  let sampler: ResourceSampler | undefined;
  let ticker: NodeJS.Timeout | undefined;
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
    };
    const apiUrl = `http://127.0.0.1:${settings.apiPort}`;
    await step('starting the worker and the API; waiting for /health/ready', async () => {
      const env = platformEnvironment(options, settings);
      stack.worker = startProcess('worker', process.execPath, [join(ROOT, 'apps/worker/dist/main.js')], {
        env,
        cwd: ROOT,
      });
      stack.api = startProcess('api', process.execPath, [join(ROOT, 'apps/api/dist/main.js')], { env, cwd: ROOT });
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
    const metricsBefore = await scrapeTemporalMetrics(metricsUrl);
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
    const temporalFigures = compareScrapes(metricsBefore, await scrapeTemporalMetrics(metricsUrl));
    clearInterval(ticker);
    progress();
    // Peak RSS is read before anything is stopped: the kernel's high-water mark of each process.
    const peaks = new Map([...pids].map(([name, pid]) => [name, readMemory(pid)?.hwmKiB ?? NaN]));
    sampler.stop();
    const timedOut = tracker.inFlight > 0;
    if (timedOut)
      say(`gave up waiting: ${tracker.inFlight} issuances still open ${options.waitSeconds} s after the last accept`);
    if (pollError) say(`a poll failed: ${String(pollError)}`);

    // ---- correctness
    say('checking the ledger: one successful payment per issuance memo');
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
    const envelopes = await analyseEnvelopes(options.databaseUrl, acceptedIds);

    // ---- report
    const records = tracker.records;
    const accepted = records.filter((r) => r.acceptedAt !== undefined);
    const confirmed = records.filter((r) => r.confirmedAt !== undefined);
    const firstSent = Math.min(...records.map((r) => r.sentAt ?? Infinity));
    const lastSent = Math.max(...records.map((r) => r.sentAt ?? -Infinity));
    const firstAccept = Math.min(...accepted.map((r) => r.acceptedAt!));
    const lastAccept = Math.max(...accepted.map((r) => r.acceptedAt!));
    const confirmTimes = confirmed.map((r) => r.confirmedAt!).sort((a, b) => a - b);
    const lastConfirm = confirmTimes[confirmTimes.length - 1] ?? NaN;
    const overallRate = confirmed.length / ((lastConfirm - firstAccept) / 1000);
    const i10 = Math.floor(0.1 * (confirmTimes.length - 1));
    const i90 = Math.ceil(0.9 * (confirmTimes.length - 1));
    const middleRate = (i90 - i10) / ((confirmTimes[i90]! - confirmTimes[i10]!) / 1000);
    const acceptMs = accepted.map((r) => r.acceptMs!);
    const toConfirmed = confirmed.map((r) => r.confirmedAt! - r.acceptedAt!);
    const toObserved = confirmed.map((r) => r.observedAt! - r.acceptedAt!);
    const perFiveSeconds: number[] = [];
    for (const at of confirmTimes) {
      const bucket = Math.max(0, Math.floor((at - firstAccept) / 5_000));
      while (perFiveSeconds.length <= bucket) perFiveSeconds.push(0);
      perFiveSeconds[bucket]! += 1;
    }
    const windowCloses = closes.filter((close) => close.at >= firstAccept && close.at <= lastConfirm + 500);
    const ledgersInWindow = Math.max(1, Math.round((lastConfirm - firstAccept) / LEDGER_INTERVAL_MS));
    const paymentsPerLedger = windowCloses.map((close) => close.transactions);

    say('');
    say(`---- results: run ${run}, ${options.issuances} issuances, ${mode}, ${options.channels} channels ----`);
    table([
      ['throughput', ''],
      [
        '  offered (sent)',
        `${((records.length - 1) / ((lastSent - firstSent) / 1000)).toFixed(1)} issuances/s` +
          (Number.isFinite(maxLagMs) ? ` (sender max lag ${ms(maxLagMs)})` : ''),
      ],
      [
        '  accepted (first to last 202)',
        `${(accepted.length / ((lastAccept - firstAccept) / 1000)).toFixed(1)} issuances/s`,
      ],
      [
        '  confirmed, first accept -> last confirmation',
        `${overallRate.toFixed(2)} issuances/s over ${secs(lastConfirm - firstAccept)}`,
      ],
      ['  confirmed, steady middle (10th-90th pct)', `${middleRate.toFixed(2)} issuances/s`],
      ['  confirmed per 5 s', perFiveSeconds.join(' ')],
      ['latency (p50 / p95 / p99)', ''],
      [
        '  accept (POST -> 202 body)',
        `${triple(acceptMs, (v) => `${v.toFixed(1)} ms`)}  max ${ms(Math.max(...acceptMs))}`,
      ],
      ['  accept -> confirmed (worker wrote it)', triple(toConfirmed, secs)],
      ['  accept -> confirmed (seen by the poller)', `${triple(toObserved, secs)}  (${tracker.polls} polls)`],
    ]);
    say('');
    // Accept latency split at two instants the platform recorded: the issuance row's createdAt
    // (the API's checks are done) and the workflow's start event (Temporal accepted the start).
    const split = accepted.filter((r) => histories.startedAt.has(r.id!));
    const apiChecks = split.map((r) => r.createdAt! - r.sentAt!);
    const startWorkflow = split.map((r) => histories.startedAt.get(r.id!)! - r.createdAt!);
    const respond = split.map((r) => r.acceptedAt! - histories.startedAt.get(r.id!)!);
    table([
      ['accept latency split (p50 / p95 / p99)', ''],
      ['  POST sent -> issuance row created', triple(apiChecks, ms)],
      ['  row created -> workflow start recorded', triple(startWorkflow, ms)],
      ['  workflow start recorded -> 202 read', triple(respond, ms)],
    ]);
    say('');
    const cpu = (name: string) => sampler!.cpu(name, windowStart, windowEnd);
    const windowSeconds = (windowEnd - windowStart) / 1000;
    /** CPU milliseconds spent per confirmed issuance over the window. */
    const perIssuance = (percent: number) =>
      Number.isFinite(percent) && confirmed.length > 0
        ? `${Math.round(((percent / 100) * windowSeconds * 1000) / confirmed.length)} ms`
        : '-';
    const processRows = WATCHED.map((name) => [
      `  ${name}`,
      mib(peaks.get(name) ?? NaN),
      mib(sampler!.maxSampledRss(name)),
      pct(cpu(name).meanPercent),
      pct(cpu(name).peakPercent),
      perIssuance(cpu(name).meanPercent),
    ]);
    const platform = ['api', 'worker', 'temporal', 'sandbox', POSTGRES].reduce(
      (sum, name) => sum + (cpu(name).meanPercent || 0),
      0,
    );
    const ours = platform + (cpu('bench').meanPercent || 0);
    table([
      [
        `process (window ${windowSeconds.toFixed(0)} s)`,
        'peak RSS',
        'max VmRSS',
        'CPU mean',
        'CPU peak 5 s',
        'CPU/issuance',
      ],
      ...processRows,
      [
        `  postgres (${options.databaseName} backends)`,
        '-',
        '-',
        pct(cpu(POSTGRES).meanPercent),
        pct(cpu(POSTGRES).peakPercent),
        perIssuance(cpu(POSTGRES).meanPercent),
      ],
      ['  platform (all but bench)', '-', '-', pct(platform), '-', perIssuance(platform)],
      ['  whole machine (2 cores = 200%)', '-', '-', pct(cpu(MACHINE).meanPercent), pct(cpu(MACHINE).peakPercent), ''],
      ['  of which not this benchmark', '-', '-', pct(cpu(MACHINE).meanPercent - ours), '-', ''],
    ]);
    say(`load average after: ${loadAverage()}`);
    say('');
    say(`where the time went (${histories.workflows} workflow histories; wait = scheduled -> last attempt started):`);
    const stepRows: string[][] = [
      ['step', 'wait p50 / p95', 'run p50 / p95', 'attempts max', 'retried', 'last failures'],
      [
        '  workflow tasks',
        `${ms(percentile(histories.workflowTaskWaitMs, 50))} / ${ms(percentile(histories.workflowTaskWaitMs, 95))}`,
        `${ms(percentile(histories.workflowTaskRunMs, 50))} / ${ms(percentile(histories.workflowTaskRunMs, 95))}`,
        `${Math.max(0, ...histories.workflowTasksPerWorkflow)} per wf`,
        '-',
        '',
      ],
    ];
    for (const [name, times] of histories.steps) {
      stepRows.push([
        `  ${name}`,
        `${ms(percentile(times.waitMs, 50))} / ${ms(percentile(times.waitMs, 95))}`,
        `${ms(percentile(times.runMs, 50))} / ${ms(percentile(times.runMs, 95))}`,
        String(Math.max(0, ...times.attempts)),
        String(times.attempts.filter((attempt) => attempt > 1).length),
        [...times.lastFailures].map(([message, count]) => `${count}x ${message}`).join('; '),
      ]);
    }
    stepRows.push(['  whole workflow', triple(histories.workflowMs, secs), '', '', '', '']);
    table(stepRows);
    const busiest = (figures: OperationFigures[]) =>
      figures
        .slice(0, 5)
        .map((f) => `${f.operation} ${f.count} x ${f.meanMs.toFixed(1)} ms`)
        .join(', ');
    const persistenceMs = temporalFigures.persistence.reduce((sum, f) => sum + f.totalMs, 0);
    const { polls } = temporalFigures;
    say(
      `Temporal server: task polls answered ${polls.answered} (${pct((polls.sync / Math.max(1, polls.answered)) * 100)} sync match), ` +
        `timed out ${polls.timedOut}; busiest calls: ${busiest(temporalFigures.service)}`,
    );
    say(
      `Temporal persistence: ${secs(persistenceMs)} in ${temporalFigures.persistence.reduce((sum, f) => sum + f.count, 0)} operations ` +
        `(${pct((persistenceMs / (windowEnd - windowStart)) * 100)} of the window); busiest: ${busiest(temporalFigures.persistence)}`,
    );
    const holdMean = mean(envelopes.holdMs);
    say(
      `payments: ${envelopes.envelopes} envelopes (${envelopes.confirmedEnvelopes} confirmed) on ${envelopes.channelsUsed}/${options.channels} channels; ` +
        `channel held per payment (built -> confirmed) p50 ${ms(percentile(envelopes.holdMs, 50))}, mean ${ms(holdMean)} ` +
        `=> pool capacity ~${((options.channels * 1000) / holdMean).toFixed(1)} payments/s; ` +
        `channel busy ${pct((envelopes.holdMs.reduce((s, v) => s + v, 0) / (options.channels * (lastConfirm - firstAccept))) * 100)} of the window`,
    );
    say(
      `ledger packing in the window: ${ledgersInWindow} ledgers, ${windowCloses.length} with transactions; per ledger ` +
        `max ${Math.max(0, ...paymentsPerLedger)}, mean ${(paymentsPerLedger.reduce((s, v) => s + v, 0) / ledgersInWindow).toFixed(2)}; ` +
        `sandbox queue at close max ${Math.max(0, ...windowCloses.map((close) => close.queued))}`,
    );
    say(
      `submission attempts: ${[...envelopes.attemptOutcomes].map(([key, count]) => `${key} ${count}`).join(', ')}; ` +
        `leases per channel: ${envelopes.leaseCounts.join(' ')}`,
    );

    // ---- verdict
    const refusals = records.filter((r) => r.refused !== undefined);
    const failures = records.filter((r) => r.failure !== undefined);
    const expectedPaid = stroops(AMOUNT) * BigInt(accepted.length);
    const campaignOk = stroops(campaign.paid) === expectedPaid && stroops(campaign.reserved) === 0n;
    const correct =
      refusals.length === 0 &&
      failures.length === 0 &&
      !timedOut &&
      confirmed.length === options.issuances &&
      ledger.wrong.length === 0 &&
      ledger.checked === options.issuances &&
      campaignOk;
    for (const r of refusals.slice(0, 5)) say(`refused #${r.index}: ${r.refused}`);
    for (const r of failures.slice(0, 5)) say(`failed ${r.id}: ${r.failure}`);
    for (const line of ledger.wrong.slice(0, 10)) say(`ledger: ${line}`);
    if (!campaignOk)
      say(
        `campaign: paid ${campaign.paid}, reserved ${campaign.reserved}; expected paid ${accepted.length} x ${AMOUNT}, reserved 0`,
      );
    const target = middleRate >= 20 && percentile(acceptMs, 99) < 100;
    say(
      `target (>= 20 confirmed/s sustained, accept p99 < 100 ms): ${target ? 'MET' : 'NOT MET'} ` +
        `(${middleRate.toFixed(2)}/s, p99 ${percentile(acceptMs, 99).toFixed(1)} ms)`,
    );
    say(
      `correctness: ${correct ? 'OK' : 'FAILED'} - ${accepted.length}/${options.issuances} accepted, ` +
        `${confirmed.length} confirmed, ${failures.length} failed, ${refusals.length} refused; ledger: ` +
        `${ledger.checked - ledger.wrong.length}/${ledger.checked} memos with exactly one successful payment; ` +
        `campaign paid ${campaign.paid}, reserved ${campaign.reserved}`,
    );
    if (!correct) process.exitCode = 1;
  } catch (error) {
    clearInterval(ticker);
    sampler?.stop();
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

void main();
