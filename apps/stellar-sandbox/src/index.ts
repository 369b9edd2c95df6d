/**
 * @nova/stellar-sandbox: a local Stellar network (Horizon + Soroban RPC subset) for
 * development and tests. `startSandbox` runs it in-process; src/main.ts is the CLI.
 */
import { promises as fs } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolveOptions, type LogRecord, type SandboxOptions } from './config';
import { InterfaceOnlyContractRuntime, type ContractRuntime } from './contracts-interface';
import { FaultRegistry, type ActiveFault, type FaultSpec } from './faults';
import { ASSET_CODE, createGenesisLedger, ensureGenesis, extendKeys, generateKeys, rootKeypair } from './genesis';
import { CancellableSleeps } from './http-kit';
import { isoTime } from './horizon-json';
import { LedgerCloser } from './ledger-closer';
import { LedgerState } from './ledger-state';
import { NativeContractRuntime } from './native-contract-runtime';
import { loadState, readKeys, StatePersister, writeContracts, writeKeys, type SandboxKeys } from './persistence';
import { createSandboxServer } from './server';
import { RPC_PATH } from './soroban-rpc';
import { TransactionSubmitter } from './submission';

export { ConfigError, DEFAULT_NETWORK_PASSPHRASE, optionsFromEnv } from './config';
export type { LogRecord, SandboxOptions } from './config';
export { CONTRACT_INTERFACES, CONTRACT_NAMES, InterfaceOnlyContractRuntime } from './contracts-interface';
export type {
  ContractArgSpec,
  ContractArgType,
  ContractCall,
  ContractFailure,
  ContractName,
  ContractOutcome,
  ContractRuntime,
  EmittedContractEvent,
  HostErrorCode,
  HostErrorType,
} from './contracts-interface';
export { ContractHostUnavailableError, NativeContractRuntime } from './native-contract-runtime';
export type { NativeContractRuntimeOptions } from './native-contract-runtime';
export { FAULT_KINDS } from './faults';
export type { ActiveFault, FaultKind, FaultSpec } from './faults';
export type { KeyPairRecord, SandboxKeys } from './persistence';

export interface SandboxAccounts {
  issuer: string;
  distribution: string;
  /** Channel account public keys (secrets are only in <dataDir>/keys.json). */
  channels: string[];
}

export interface ClosedLedgerSummary {
  sequence: number;
  hash: string;
  closedAt: string;
  transactionCount: number;
}

export interface Sandbox {
  /** Horizon base URL, e.g. http://127.0.0.1:8000 */
  readonly url: string;
  /** Soroban RPC endpoint (url + /soroban/rpc). */
  readonly rpcUrl: string;
  readonly host: string;
  readonly port: number;
  readonly networkPassphrase: string;
  readonly dataDir: string;
  readonly accounts: SandboxAccounts;
  readonly asset: { code: string; issuer: string };
  /** Contract name -> contract id (C...). */
  readonly contracts: Readonly<Record<string, string>>;
  /** How contract calls run: 'native' (nova-contract-host) or 'interface-only'. */
  readonly contractRuntime: string;
  readonly faults: {
    add(spec: FaultSpec): ActiveFault;
    list(): ActiveFault[];
    clear(id?: number): number;
  };
  /** Closes a ledger now (as POST /sandbox/close-ledger), after any close in progress. */
  closeLedger(): Promise<ClosedLedgerSummary>;
  latestLedgerSequence(): number;
  /** Stops the ledger clock and the server, and saves the ledger. */
  close(): Promise<void>;
}

export interface StartSandboxExtras {
  /** Replaces the contract runtime chosen from the options (interface-only, or native with `contractHost`). */
  contractRuntime?: (state: { deployments: LedgerState['contracts'] }) => ContractRuntime;
}

/**
 * The account the sandbox deploys its contracts from (the network's root account, derived from
 * the passphrase): a nova-contract-host serving this sandbox runs with `--deployer` set to it.
 */
export function contractDeployer(networkPassphrase: string): string {
  return rootKeypair(networkPassphrase).publicKey();
}

export async function startSandbox(options: SandboxOptions, extras: StartSandboxExtras = {}): Promise<Sandbox> {
  const config = resolveOptions(options);
  const log = (level: LogRecord['level'], msg: string, fields: Record<string, unknown> = {}): void => {
    config.log?.({ level, msg, time: new Date().toISOString(), ...fields });
  };
  await fs.mkdir(config.dataDir, { recursive: true });

  let state = await loadState(config.dataDir, config.networkPassphrase);
  let keys = await readKeys(config.dataDir);
  if (state && !keys) {
    throw new Error(
      `${config.dataDir} holds a ledger but no keys.json: restore keys.json or start from an empty data dir`,
    );
  }
  if (!keys) {
    keys = generateKeys(config.channelAccounts);
    await writeKeys(config.dataDir, keys);
  } else {
    const extended = extendKeys(keys, config.channelAccounts);
    keys = extended.keys;
    if (extended.changed) await writeKeys(config.dataDir, keys);
  }
  const fresh = state === undefined;
  if (!state) {
    state = new LedgerState(config.networkPassphrase);
    createGenesisLedger(state, config.maxOpsPerLedger, Math.floor(Date.now() / 1000));
  }
  const ledgerState = state;

  const faults = new FaultRegistry();
  for (const spec of config.faults) faults.add(spec);
  const runtime: ContractRuntime =
    extras.contractRuntime?.({ deployments: ledgerState.contracts }) ??
    (config.contractHost
      ? new NativeContractRuntime({
          url: config.contractHost.url,
          deployments: ledgerState.contracts,
          deployer: contractDeployer(config.networkPassphrase),
          networkPassphrase: config.networkPassphrase,
          log,
        })
      : new InterfaceOnlyContractRuntime(ledgerState.contracts));
  const persister = new StatePersister(config.dataDir, ledgerState, (error) =>
    log('error', 'could not save the ledger', { error: error.message }),
  );
  const closer = new LedgerCloser(ledgerState, {
    maxOpsPerLedger: config.maxOpsPerLedger,
    runtime,
    log,
    onLedgerClosed: (ledger, changed) => {
      if (!changed) return;
      persister.markDirty();
      log('info', 'ledger closed', {
        ledger: ledger.sequence,
        transactions: ledger.transactionHashes.length,
        operations: ledger.txSetOperationCount,
        queued: closer.queueLength,
      });
    },
  });
  const submitter = new TransactionSubmitter({
    state: ledgerState,
    closer,
    faults,
    networkPassphrase: config.networkPassphrase,
    ledgerIntervalMs: config.ledgerIntervalMs,
    log,
  });

  ledgerState.rpcRetentionLedgers = config.rpcRetentionLedgers;
  const changed = await ensureGenesis({ state: ledgerState, closer, submitter, keys });
  if (fresh || changed) persister.markDirty();
  await persister.flush();
  await writeContracts(config.dataDir, ledgerState.contracts);
  try {
    await runtime.ready?.();
  } catch (error) {
    await runtime.close?.();
    throw error;
  }
  log(
    'info',
    runtime.mode === 'native'
      ? 'contracts run natively on nova-contract-host'
      : `contracts run ${runtime.mode}: calls are checked against their interface, no contract state is kept`,
    { contractRuntime: runtime.mode, ...(config.contractHost ? { contractHost: config.contractHost.url } : {}) },
  );

  const sleeps = new CancellableSleeps();
  const contracts = Object.fromEntries(
    ledgerState.contracts.map((deployment) => [deployment.name, deployment.contractId]),
  );
  const accounts: SandboxAccounts = {
    issuer: keys.issuer.publicKey,
    distribution: keys.distribution.publicKey,
    channels: keys.channels.map((channel) => channel.publicKey),
  };
  const asset = { code: ASSET_CODE, issuer: accounts.issuer };
  const { server, releaseHungRequests } = createSandboxServer({
    faults,
    control: { state: ledgerState, closer, faults, contractRuntime: runtime.mode },
    horizon: {
      state: ledgerState,
      closer,
      submitter,
      sleeps,
      submitTimeoutMs: config.submitTimeoutMs,
      networkPassphrase: config.networkPassphrase,
      sandboxInfo: () => ({
        accounts,
        asset,
        contracts,
        contract_runtime: runtime.mode,
        ledger_interval_ms: config.ledgerIntervalMs,
        max_ops_per_ledger: config.maxOpsPerLedger,
        queued_transactions: closer.queueLength,
      }),
    },
    rpc: { state: ledgerState, closer, submitter, runtime, networkPassphrase: config.networkPassphrase },
    log,
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}`;

  let ledgerTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  // The next interval starts when a close has finished (contract calls may take a while).
  const scheduleClose = (): void => {
    ledgerTimer = setTimeout(() => {
      closer
        .closeLedger()
        .catch((error: unknown) => log('error', 'ledger close failed', { error: (error as Error).message }))
        .finally(() => {
          if (!stopped) scheduleClose();
        });
    }, config.ledgerIntervalMs);
  };
  scheduleClose();
  log('info', 'sandbox started', {
    url,
    dataDir: config.dataDir,
    latestLedger: ledgerState.latestLedger().sequence,
    channels: accounts.channels.length,
  });

  let closing: Promise<void> | undefined;
  const summary = (ledger: Awaited<ReturnType<LedgerCloser['closeLedger']>>): ClosedLedgerSummary => ({
    sequence: ledger.sequence,
    hash: ledger.hash,
    closedAt: isoTime(ledger.closedAt),
    transactionCount: ledger.transactionHashes.length,
  });
  return {
    url,
    rpcUrl: `${url}${RPC_PATH}`,
    host: config.host,
    port,
    networkPassphrase: config.networkPassphrase,
    dataDir: config.dataDir,
    accounts,
    asset,
    contracts,
    contractRuntime: runtime.mode,
    faults: {
      add: (spec) => faults.add(spec),
      list: () => faults.list(),
      clear: (id) => faults.clear(id),
    },
    closeLedger: async () => summary(await closer.closeLedger()),
    latestLedgerSequence: () => ledgerState.latestLedger().sequence,
    close: () => {
      closing ??= (async () => {
        stopped = true;
        if (ledgerTimer) clearTimeout(ledgerTimer);
        // A ledger being closed finishes first: its contract calls have already run.
        await closer.idle();
        closer.abandonAll();
        sleeps.cancelAll();
        releaseHungRequests();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        persister.markDirty();
        await persister.flush();
        await runtime.close?.();
        log('info', 'sandbox stopped', { latestLedger: ledgerState.latestLedger().sequence });
      })();
      return closing;
    },
  };
}

/** The secret seeds of the sandbox accounts (tests and local tools sign with them). */
export async function readSandboxKeys(dataDir: string): Promise<SandboxKeys> {
  const keys = await readKeys(dataDir);
  if (!keys) throw new Error(`no keys.json in ${dataDir}: start the sandbox first`);
  return keys;
}
