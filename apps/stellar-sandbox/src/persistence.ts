/**
 * The ledger on disk: one JSON document written to a temp file and renamed over the old one
 * (a crash never leaves a half-written ledger), plus keys.json (0600) and contracts.json.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  entryKey,
  LedgerState,
  type ContractDeployment,
  type ContractEventRecord,
  type EntryRecord,
  type InvocationRecord,
  type LedgerRecord,
  type PaymentLikeOperationRecord,
  type SandboxAccounts,
  type TransactionRecord,
} from './ledger-state';

export const STATE_FILE = 'ledger-state.json';
export const KEYS_FILE = 'keys.json';
export const CONTRACTS_FILE = 'contracts.json';
const FORMAT = 'nova-stellar-sandbox/1';

export interface KeyPairRecord {
  publicKey: string;
  secretKey: string;
}

export interface SandboxKeys {
  issuer: KeyPairRecord;
  distribution: KeyPairRecord;
  channels: KeyPairRecord[];
}

type StoredEntry =
  | (Omit<Extract<EntryRecord, { type: 'account' }>, 'balance' | 'seqNum' | 'seqTime'> & {
      balance: string;
      seqNum: string;
      seqTime: string;
    })
  | (Omit<Extract<EntryRecord, { type: 'trustline' }>, 'balance' | 'limit'> & { balance: string; limit: string });

interface StoredState {
  format: typeof FORMAT;
  networkPassphrase: string;
  accounts: SandboxAccounts;
  contracts: ContractDeployment[];
  entries: StoredEntry[];
  ledgers: LedgerRecord[];
  transactions: TransactionRecord[];
  payments: PaymentLikeOperationRecord[];
  events: ContractEventRecord[];
  invocations: InvocationRecord[];
}

type HistoryKey = 'ledgers' | 'transactions' | 'payments' | 'events' | 'invocations';
const HISTORY_KEYS: readonly HistoryKey[] = ['ledgers', 'transactions', 'payments', 'events', 'invocations'];

/**
 * Renders the state document. History only grows and its records never change, so each
 * record is stringified once and cached; only the current entries are encoded every save.
 */
export class StateDocument {
  private readonly rendered: Record<HistoryKey, string[]> = {
    ledgers: [],
    transactions: [],
    payments: [],
    events: [],
    invocations: [],
  };

  /** The JSON document as a few large chunks (no single giant string needed). */
  render(state: LedgerState): string[] {
    const head: Omit<StoredState, HistoryKey> = {
      format: FORMAT,
      networkPassphrase: state.networkPassphrase,
      accounts: state.accounts,
      contracts: state.contracts,
      entries: [...state.entries.values()].map(storeEntry),
    };
    const chunks = [JSON.stringify(head).slice(0, -1)];
    for (const key of HISTORY_KEYS) {
      const records: readonly unknown[] = state[key];
      const cache = this.rendered[key];
      for (let index = cache.length; index < records.length; index += 1) cache.push(JSON.stringify(records[index]));
      chunks.push(`,${JSON.stringify(key)}:[`, cache.join(','), ']');
    }
    chunks.push('}');
    return chunks;
  }
}

export function serializeState(state: LedgerState): string {
  return new StateDocument().render(state).join('');
}

function storeEntry(entry: EntryRecord): StoredEntry {
  if (entry.type === 'account') {
    return {
      ...entry,
      balance: entry.balance.toString(),
      seqNum: entry.seqNum.toString(),
      seqTime: entry.seqTime.toString(),
    };
  }
  return { ...entry, balance: entry.balance.toString(), limit: entry.limit.toString() };
}

function restoreEntry(entry: StoredEntry): EntryRecord {
  if (entry.type === 'account') {
    return { ...entry, balance: BigInt(entry.balance), seqNum: BigInt(entry.seqNum), seqTime: BigInt(entry.seqTime) };
  }
  return { ...entry, balance: BigInt(entry.balance), limit: BigInt(entry.limit) };
}

export function deserializeState(text: string, expectedPassphrase: string, file: string): LedgerState {
  const stored = JSON.parse(text) as Partial<StoredState>;
  if (stored.format !== FORMAT) throw new Error(`${file} is not a ${FORMAT} document`);
  if (stored.networkPassphrase !== expectedPassphrase) {
    // Hashes and signatures depend on the passphrase: the stored ledger belongs to another network.
    throw new Error(
      `${file} holds the ledger of network "${String(stored.networkPassphrase)}", not "${expectedPassphrase}"; use another SANDBOX_DATA_DIR`,
    );
  }
  const state = new LedgerState(expectedPassphrase);
  state.accounts = stored.accounts ?? { issuer: '', distribution: '', channels: [] };
  state.contracts.push(...(stored.contracts ?? []));
  for (const entry of stored.entries ?? []) {
    const restored = restoreEntry(entry);
    state.write(entryKey(restored), restored);
  }
  for (const ledger of stored.ledgers ?? []) state.addLedger(ledger);
  for (const transaction of stored.transactions ?? []) state.addTransaction(transaction);
  for (const payment of stored.payments ?? []) state.addPayment(payment);
  state.events.push(...(stored.events ?? []));
  state.invocations.push(...(stored.invocations ?? []));
  return state;
}

export async function loadState(dataDir: string, networkPassphrase: string): Promise<LedgerState | undefined> {
  const file = path.join(dataDir, STATE_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return deserializeState(text, networkPassphrase, file);
}

async function writeAtomically(file: string, content: string | string[], mode = 0o644): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, content, { mode });
  await fs.rename(temp, file);
}

/** Coalesces saves: one write at a time, and one more if something changed meanwhile. */
export class StatePersister {
  private dirty = false;
  private writing: Promise<void> | undefined;
  private readonly document = new StateDocument();

  constructor(
    private readonly dataDir: string,
    private readonly state: LedgerState,
    private readonly onError: (error: Error) => void,
  ) {}

  markDirty(): void {
    this.dirty = true;
    if (!this.writing) this.writing = this.drain();
  }

  /** Resolves once everything marked dirty so far is on disk. */
  async flush(): Promise<void> {
    if (this.writing) await this.writing;
    if (this.dirty) {
      this.writing = this.drain();
      await this.writing;
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        await writeAtomically(path.join(this.dataDir, STATE_FILE), this.document.render(this.state));
      }
    } catch (error) {
      this.onError(error as Error);
    } finally {
      this.writing = undefined;
    }
  }
}

export async function readKeys(dataDir: string): Promise<SandboxKeys | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dataDir, KEYS_FILE), 'utf8')) as SandboxKeys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function writeKeys(dataDir: string, keys: SandboxKeys): Promise<void> {
  const file = path.join(dataDir, KEYS_FILE);
  await writeAtomically(file, `${JSON.stringify(keys, null, 2)}\n`, 0o600);
  // rename keeps the temp file's mode, but a pre-existing umask may have widened it.
  await fs.chmod(file, 0o600);
}

export async function writeContracts(dataDir: string, deployments: readonly ContractDeployment[]): Promise<void> {
  const document = Object.fromEntries(
    deployments.map((deployment) => [
      deployment.name,
      {
        contractId: deployment.contractId,
        wasmHash: deployment.wasmHash,
        deployedAtLedger: deployment.deployedAtLedger,
      },
    ]),
  );
  await writeAtomically(path.join(dataDir, CONTRACTS_FILE), `${JSON.stringify(document, null, 2)}\n`);
}
