/** Shared test plumbing: an in-process sandbox on 127.0.0.1:0 in a temp dir, and SDK helpers. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type Account,
  Asset,
  Horizon,
  Keypair,
  Memo,
  rpc,
  TransactionBuilder,
  type FeeBumpTransaction,
  type Transaction,
  type xdr,
} from '@stellar/stellar-sdk';
import {
  readSandboxKeys,
  startSandbox,
  type LogRecord,
  type Sandbox,
  type SandboxKeys,
  type SandboxOptions,
} from '../src/index';

export interface TestSandbox {
  sandbox: Sandbox;
  keys: SandboxKeys;
  horizon: Horizon.Server;
  rpc: rpc.Server;
  dataDir: string;
  logs: LogRecord[];
  nova: Asset;
  distribution: Keypair;
  issuer: Keypair;
  channel(index: number): Keypair;
  stop(options?: { keepDataDir?: boolean }): Promise<void>;
}

export async function makeDataDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'nova-sandbox-test-'));
}

export async function startTestSandbox(options: Partial<SandboxOptions> = {}): Promise<TestSandbox> {
  const dataDir = options.dataDir ?? (await makeDataDir());
  const logs: LogRecord[] = [];
  const sandbox = await startSandbox({
    port: 0,
    host: '127.0.0.1',
    ledgerIntervalMs: 100,
    channelAccounts: 4,
    submitTimeoutMs: 5_000,
    ...options,
    dataDir,
    log: (record) => logs.push(record),
  });
  const keys = await readSandboxKeys(dataDir);
  return {
    sandbox,
    keys,
    horizon: new Horizon.Server(sandbox.url, { allowHttp: true }),
    rpc: new rpc.Server(sandbox.rpcUrl, { allowHttp: true }),
    dataDir,
    logs,
    nova: new Asset(sandbox.asset.code, sandbox.asset.issuer),
    distribution: Keypair.fromSecret(keys.distribution.secretKey),
    issuer: Keypair.fromSecret(keys.issuer.secretKey),
    channel: (index) => {
      const channel = keys.channels[index];
      assert.ok(channel, `no channel account ${index}`);
      return Keypair.fromSecret(channel.secretKey);
    },
    stop: async ({ keepDataDir = false } = {}) => {
      await sandbox.close();
      if (!keepDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface HttpFailure {
  status: number;
  data: unknown;
  headers: Record<string, unknown>;
}

/** The HTTP failure behind an SDK (axios) rejection; fails the test if the call succeeded. */
export async function httpFailure(promise: Promise<unknown>): Promise<HttpFailure> {
  try {
    await promise;
  } catch (error) {
    const response = (error as { response?: { status?: number; data?: unknown; headers?: Record<string, unknown> } })
      .response;
    if (response && typeof response.status === 'number') {
      return { status: response.status, data: response.data, headers: response.headers ?? {} };
    }
    throw error;
  }
  return assert.fail('expected the request to be refused');
}

export interface ResultCodes {
  transaction: string;
  inner_transaction?: string;
  operations?: string[];
}

export function resultCodesOf(failure: HttpFailure): ResultCodes {
  const data = failure.data as { extras?: { result_codes?: ResultCodes } };
  assert.ok(data.extras?.result_codes, `no result_codes in ${JSON.stringify(failure.data)}`);
  return data.extras.result_codes;
}

export async function submitRefused(
  t: TestSandbox,
  transaction: Transaction | FeeBumpTransaction,
): Promise<ResultCodes> {
  const failure = await httpFailure(t.horizon.submitTransaction(transaction, { skipMemoRequiredCheck: true }));
  assert.equal(failure.status, 400);
  return resultCodesOf(failure);
}

export async function friendbotAccount(t: TestSandbox): Promise<Keypair> {
  const keypair = Keypair.random();
  await t.horizon.friendbot(keypair.publicKey()).call();
  return keypair;
}

export interface BuildOptions {
  fee?: string;
  memo?: string;
  timeoutSeconds?: number;
  timebounds?: { minTime: number; maxTime: number };
  networkPassphrase?: string;
}

export async function buildTransaction(
  t: TestSandbox,
  source: string | Account,
  operations: xdr.Operation[],
  options: BuildOptions = {},
): Promise<Transaction> {
  const account = typeof source === 'string' ? await t.horizon.loadAccount(source) : source;
  const builder = new TransactionBuilder(account, {
    fee: options.fee ?? '100',
    networkPassphrase: options.networkPassphrase ?? t.sandbox.networkPassphrase,
    ...(options.timebounds ? { timebounds: options.timebounds } : {}),
  });
  for (const operation of operations) builder.addOperation(operation);
  if (options.memo !== undefined) builder.addMemo(Memo.text(options.memo));
  if (!options.timebounds) builder.setTimeout(options.timeoutSeconds ?? 60);
  return builder.build();
}

export async function control<T>(
  t: TestSandbox,
  method: string,
  pathAndQuery: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${t.sandbox.url}${pathAndQuery}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

export async function landedWithMemo(t: TestSandbox, memo: string): Promise<{ count: number; successful: number }> {
  const { body } = await control<{ count: number; successful: number }>(
    t,
    'GET',
    `/sandbox/transactions?memo=${encodeURIComponent(memo)}`,
  );
  return body;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls (bounded attempts) until `probe` returns a value; the sandbox closes ledgers on its own clock. */
export async function eventually<T>(probe: () => Promise<T | undefined>, attempts = 100, pauseMs = 50): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(pauseMs);
  }
  return assert.fail('condition not reached');
}

export function nativeBalance(account: Horizon.AccountResponse): string {
  const native = account.balances.find((balance) => balance.asset_type === 'native');
  assert.ok(native);
  return native.balance;
}

export function assetBalance(account: Horizon.AccountResponse, asset: Asset): string | undefined {
  const line = account.balances.find(
    (balance) =>
      (balance.asset_type === 'credit_alphanum4' || balance.asset_type === 'credit_alphanum12') &&
      balance.asset_code === asset.getCode() &&
      balance.asset_issuer === asset.getIssuer(),
  );
  return line?.balance;
}
