/**
 * @nova/stellar-sandbox: a local Stellar network (Horizon + Soroban RPC subset) for
 * development and tests. `startSandbox` runs it in-process; src/main.ts is the CLI.
 */
import { promises as fs } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolveOptions, type LogRecord, type SandboxOptions } from './config';
import { InterfaceOnlyContractRuntime, type ContractRuntime } from './contracts-interface';
import { networkIdOf } from './envelope';
import { FaultRegistry, type ActiveFault, type FaultSpec } from './faults';
import { ASSET_CODE, createGenesisLedger, ensureGenesis, extendKeys, generateKeys } from './genesis';
import { CancellableSleeps } from './http-kit';
import { isoTime } from './horizon-json';
import { LedgerCloser } from './ledger-closer';
import { LedgerState } from './ledger-state';
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
} from './contracts-interface';
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
  readonly faults: {
    add(spec: FaultSpec): ActiveFault;
    list(): ActiveFault[];
    clear(id?: number): number;
  };
  /** Closes a ledger now (as POST /sandbox/close-ledger). */
  closeLedger(): ClosedLedgerSummary;
  latestLedgerSequence(): number;
  /** Stops the ledger clock and the server, and saves the ledger. */
  close(): Promise<void>;
}

export interface StartSandboxExtras {
  /** Replaces the interface-only contract runtime (e.g. a native contract host). */
  contractRuntime?: (state: { deployments: LedgerState['contracts'] }) => ContractRuntime;
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
  const runtime =
    extras.contractRuntime?.({ deployments: ledgerState.contracts }) ??
    new InterfaceOnlyContractRuntime(ledgerState.contracts);
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
  const networkId = networkIdOf(config.networkPassphrase);
  const submitter = new TransactionSubmitter({
    state: ledgerState,
    closer,
    faults,
    networkId,
    ledgerIntervalMs: config.ledgerIntervalMs,
    log,
  });

  const changed = ensureGenesis({ state: ledgerState, closer, submitter, keys });
  if (fresh || changed) persister.markDirty();
  await persister.flush();
  await writeContracts(config.dataDir, ledgerState.contracts);

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
    control: { state: ledgerState, closer, faults },
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
        ledger_interval_ms: config.ledgerIntervalMs,
        max_ops_per_ledger: config.maxOpsPerLedger,
        queued_transactions: closer.queueLength,
      }),
    },
    rpc: { state: ledgerState, closer, submitter, runtime, networkId, networkPassphrase: config.networkPassphrase },
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
  const scheduleClose = (): void => {
    ledgerTimer = setTimeout(() => {
      try {
        closer.closeLedger();
      } catch (error) {
        log('error', 'ledger close failed', { error: (error as Error).message });
      }
      scheduleClose();
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
  const summary = (ledger: ReturnType<LedgerCloser['closeLedger']>): ClosedLedgerSummary => ({
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
    faults: {
      add: (spec) => faults.add(spec),
      list: () => faults.list(),
      clear: (id) => faults.clear(id),
    },
    closeLedger: () => summary(closer.closeLedger()),
    latestLedgerSequence: () => ledgerState.latestLedger().sequence,
    close: () => {
      closing ??= (async () => {
        if (ledgerTimer) clearTimeout(ledgerTimer);
        closer.abandonAll();
        sleeps.cancelAll();
        releaseHungRequests();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        persister.markDirty();
        await persister.flush();
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
