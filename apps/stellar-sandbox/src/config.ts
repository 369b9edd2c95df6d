import path from 'node:path';
import { parseFaultSpecs, type FaultSpec } from './faults';

export const DEFAULT_NETWORK_PASSPHRASE = 'Nova Sandbox Network ; 2026';

/** Everything the sandbox can be configured with; every field but dataDir has a default. */
export interface SandboxOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  dataDir: string;
  ledgerIntervalMs?: number;
  maxOpsPerLedger?: number;
  channelAccounts?: number;
  networkPassphrase?: string;
  /** Faults active from the start (same shape as POST /sandbox/faults). */
  faults?: FaultSpec[];
  /** How long POST /transactions waits for inclusion before answering 504 (Horizon: ~30 s). */
  submitTimeoutMs?: number;
  /** Ledgers Soroban RPC serves events of (stellar-rpc's retention window; default 120960, 7 days of 5 s ledgers). */
  rpcRetentionLedgers?: number;
  /**
   * A running nova-contract-host (../contract-host) serving the contracts at this sandbox's
   * contract ids: contract calls then run the real contracts. Without it they run interface-only.
   */
  contractHost?: { url: string };
  /** Receives the JSON log records; nothing is logged when absent. */
  log?: (record: LogRecord) => void;
}

export interface LogRecord {
  level: 'info' | 'warn' | 'error';
  msg: string;
  [field: string]: unknown;
}

export type ResolvedSandboxOptions = Required<Omit<SandboxOptions, 'log' | 'contractHost'>> &
  Pick<SandboxOptions, 'log' | 'contractHost'>;

/** Capacity is also bounded by the TOID layout Horizon uses for paging tokens (12 bits per ledger). */
export const MAX_TRANSACTIONS_PER_LEDGER = 4095;

export function resolveOptions(options: SandboxOptions): ResolvedSandboxOptions {
  const resolved: ResolvedSandboxOptions = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 8000,
    dataDir: path.resolve(options.dataDir),
    ledgerIntervalMs: options.ledgerIntervalMs ?? 1000,
    maxOpsPerLedger: options.maxOpsPerLedger ?? 1000,
    channelAccounts: options.channelAccounts ?? 8,
    networkPassphrase: options.networkPassphrase ?? DEFAULT_NETWORK_PASSPHRASE,
    faults: options.faults ?? [],
    submitTimeoutMs: options.submitTimeoutMs ?? 30_000,
    rpcRetentionLedgers: options.rpcRetentionLedgers ?? 120_960,
    contractHost: options.contractHost,
    log: options.log,
  };
  checkInteger('port', resolved.port, 0, 65_535);
  checkInteger('ledgerIntervalMs', resolved.ledgerIntervalMs, 10, 3_600_000);
  checkInteger('maxOpsPerLedger', resolved.maxOpsPerLedger, 1, 1_000_000);
  checkInteger('channelAccounts', resolved.channelAccounts, 0, 1000);
  checkInteger('submitTimeoutMs', resolved.submitTimeoutMs, 1, 3_600_000);
  checkInteger('rpcRetentionLedgers', resolved.rpcRetentionLedgers, 1, 10_000_000);
  if (resolved.networkPassphrase.length === 0) throw new ConfigError('networkPassphrase', 'must not be empty');
  if (resolved.contractHost) {
    const reason = contractHostUrlProblem(resolved.contractHost.url);
    if (reason) throw new ConfigError('contractHost.url', reason);
  }
  return resolved;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer between ${min} and ${max}, got ${String(value)}`);
  }
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

/** Reads the SANDBOX_* variables; a bad value throws a ConfigError naming the variable. */
export function optionsFromEnv(env: NodeJS.ProcessEnv, cwd: string): SandboxOptions {
  const options: SandboxOptions = {
    host: env.SANDBOX_HOST ?? '127.0.0.1',
    port: intFromEnv(env, 'SANDBOX_PORT', 8000, 0, 65_535),
    dataDir: path.resolve(cwd, env.SANDBOX_DATA_DIR ?? '.data/stellar-sandbox'),
    ledgerIntervalMs: intFromEnv(env, 'SANDBOX_LEDGER_INTERVAL_MS', 1000, 10, 3_600_000),
    maxOpsPerLedger: intFromEnv(env, 'SANDBOX_MAX_OPS_PER_LEDGER', 1000, 1, 1_000_000),
    channelAccounts: intFromEnv(env, 'SANDBOX_CHANNEL_ACCOUNTS', 8, 0, 1000),
    networkPassphrase: env.SANDBOX_NETWORK_PASSPHRASE ?? DEFAULT_NETWORK_PASSPHRASE,
    submitTimeoutMs: intFromEnv(env, 'SANDBOX_SUBMIT_TIMEOUT_MS', 30_000, 1, 3_600_000),
    rpcRetentionLedgers: intFromEnv(env, 'SANDBOX_RPC_RETENTION_LEDGERS', 120_960, 1, 10_000_000),
  };
  if (options.host === '') throw new ConfigError('SANDBOX_HOST', 'must not be empty');
  if (options.networkPassphrase === '') throw new ConfigError('SANDBOX_NETWORK_PASSPHRASE', 'must not be empty');
  const contractHostUrl = env.SANDBOX_CONTRACT_HOST_URL?.trim();
  if (contractHostUrl) {
    const reason = contractHostUrlProblem(contractHostUrl);
    if (reason) throw new ConfigError('SANDBOX_CONTRACT_HOST_URL', reason);
    options.contractHost = { url: contractHostUrl };
  }
  const faultsJson = env.SANDBOX_FAULTS;
  if (faultsJson !== undefined && faultsJson.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(faultsJson);
    } catch {
      throw new ConfigError('SANDBOX_FAULTS', 'is not valid JSON');
    }
    try {
      options.faults = parseFaultSpecs(parsed);
    } catch (error) {
      throw new ConfigError('SANDBOX_FAULTS', (error as Error).message);
    }
  }
  return options;
}

/** Why `url` cannot be a contract host's base URL (http://host:port), or undefined. */
function contractHostUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `must be an http:// URL such as http://127.0.0.1:4100, got "${url}"`;
  }
  if (parsed.protocol !== 'http:')
    return `must be an http:// URL (the host serves plain HTTP on loopback), got "${url}"`;
  if (parsed.search || parsed.hash || (parsed.pathname !== '/' && parsed.pathname !== '')) {
    return `must be the host's base URL (no path or query), got "${url}"`;
  }
  return undefined;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${raw}`);
  return value;
}
