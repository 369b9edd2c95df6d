/**
 * The ledger: current entries (accounts, trustlines) plus the history the sandbox serves
 * (ledgers, transactions, payments, contract events and invocations), with the indexes
 * Horizon and RPC lookups need. Amounts and sequence numbers are bigint.
 */

export interface AccountEntryRecord {
  type: 'account';
  accountId: string;
  balance: bigint;
  seqNum: bigint;
  numSubEntries: number;
  /** Ledger and close time of the last sequence bump (CAP-21 minSeqAge / minSeqLedgerGap). */
  seqLedger: number;
  seqTime: bigint;
  lastModifiedLedger: number;
}

export interface TrustlineEntryRecord {
  type: 'trustline';
  accountId: string;
  assetCode: string;
  assetIssuer: string;
  balance: bigint;
  limit: bigint;
  /** Stellar TrustLineFlags; the sandbox's assets need no authorization, so lines start authorized (1). */
  flags: number;
  lastModifiedLedger: number;
}

export type EntryRecord = AccountEntryRecord | TrustlineEntryRecord;

export const AUTHORIZED_FLAG = 1;

export function accountKey(accountId: string): string {
  return `account:${accountId}`;
}

export function trustlineKey(accountId: string, assetCode: string, assetIssuer: string): string {
  return `trustline:${accountId}:${assetCode}:${assetIssuer}`;
}

export function entryKey(entry: EntryRecord): string {
  return entry.type === 'account'
    ? accountKey(entry.accountId)
    : trustlineKey(entry.accountId, entry.assetCode, entry.assetIssuer);
}

export interface EntryReader {
  peek(key: string): EntryRecord | undefined;
}

export interface EntryWriter extends EntryReader {
  write(key: string, entry: EntryRecord | null): void;
}

export interface EntryChange {
  key: string;
  before: EntryRecord | undefined;
  after: EntryRecord | undefined;
}

/**
 * A nested write set over a parent (like core's LedgerTxn): operations mutate copies,
 * and the set is either committed into the parent or dropped, which gives atomic
 * transactions and per-operation meta (before/after of each touched entry).
 */
export class EntryOverlay implements EntryWriter {
  private readonly touched = new Map<string, EntryRecord | null>();

  constructor(
    private readonly parent: EntryWriter,
    private readonly ledgerSeq: number,
  ) {}

  peek(key: string): EntryRecord | undefined {
    if (this.touched.has(key)) return this.touched.get(key) ?? undefined;
    return this.parent.peek(key);
  }

  write(key: string, entry: EntryRecord | null): void {
    this.touched.set(key, entry);
  }

  peekAccount(accountId: string): AccountEntryRecord | undefined {
    const entry = this.peek(accountKey(accountId));
    return entry?.type === 'account' ? entry : undefined;
  }

  peekTrustline(accountId: string, assetCode: string, assetIssuer: string): TrustlineEntryRecord | undefined {
    const entry = this.peek(trustlineKey(accountId, assetCode, assetIssuer));
    return entry?.type === 'trustline' ? entry : undefined;
  }

  /** A mutable copy owned by this overlay (its lastModifiedLedger becomes this ledger). */
  loadAccount(accountId: string): AccountEntryRecord | undefined {
    const entry = this.load(accountKey(accountId));
    return entry?.type === 'account' ? entry : undefined;
  }

  loadTrustline(accountId: string, assetCode: string, assetIssuer: string): TrustlineEntryRecord | undefined {
    const entry = this.load(trustlineKey(accountId, assetCode, assetIssuer));
    return entry?.type === 'trustline' ? entry : undefined;
  }

  create(entry: EntryRecord): void {
    entry.lastModifiedLedger = this.ledgerSeq;
    this.touched.set(entryKey(entry), entry);
  }

  erase(key: string): void {
    this.touched.set(key, null);
  }

  changes(): EntryChange[] {
    return [...this.touched].map(([key, after]) => ({ key, before: this.parent.peek(key), after: after ?? undefined }));
  }

  commit(): void {
    for (const [key, entry] of this.touched) this.parent.write(key, entry);
    this.touched.clear();
  }

  private load(key: string): EntryRecord | undefined {
    if (this.touched.has(key)) return this.touched.get(key) ?? undefined;
    const base = this.parent.peek(key);
    if (!base) return undefined;
    const copy: EntryRecord = { ...base, lastModifiedLedger: this.ledgerSeq };
    this.touched.set(key, copy);
    return copy;
  }
}

export type MemoType = 'none' | 'text' | 'id' | 'hash' | 'return';

export interface TransactionRecord {
  /** The envelope's hash: the fee-bump hash for fee bumps. */
  hash: string;
  /** Set for fee bumps: the inner transaction's hash (lookups by it find this record). */
  innerHash?: string;
  ledger: number;
  /** 1-based position in the ledger (Horizon's TOID and RPC applicationOrder). */
  applicationOrder: number;
  createdAt: number;
  successful: boolean;
  sourceAccount: string;
  sourceAccountSequence: string;
  feeAccount: string;
  feeCharged: string;
  maxFee: string;
  innerMaxFee?: string;
  operationCount: number;
  memoType: MemoType;
  memo?: string;
  memoBytes?: string;
  signatures: string[];
  innerSignatures?: string[];
  timeBounds?: { minTime: string; maxTime: string };
  ledgerBounds?: { minLedger: number; maxLedger: number };
  envelopeXdr: string;
  resultXdr: string;
  resultMetaXdr: string;
  feeMetaXdr: string;
  /** Accounts involved (sources, fee source, destinations): drives /accounts/:id/transactions. */
  participants: string[];
}

interface OperationRecordBase {
  /** Horizon operation id (TOID), also its paging token. */
  id: string;
  transactionHash: string;
  transactionSuccessful: boolean;
  ledger: number;
  createdAt: number;
  sourceAccount: string;
}

export interface PaymentOperationRecord extends OperationRecordBase {
  type: 'payment';
  from: string;
  to: string;
  amount: string;
  assetCode?: string;
  assetIssuer?: string;
}

export interface CreateAccountOperationRecord extends OperationRecordBase {
  type: 'create_account';
  funder: string;
  account: string;
  startingBalance: string;
}

/** Operations listed by /payments (the sandbox's payment-like subset). */
export type PaymentLikeOperationRecord = PaymentOperationRecord | CreateAccountOperationRecord;

export interface ContractEventRecord {
  /** RPC event id: "<TOID, 19 digits>-<event index, 10 digits>", also the paging cursor. */
  id: string;
  ledger: number;
  ledgerClosedAt: number;
  contractId: string;
  txHash: string;
  transactionIndex: number;
  operationIndex: number;
  inSuccessfulContractCall: boolean;
  /** base64 ScVal XDR. */
  topics: string[];
  value: string;
}

export interface InvocationRecord {
  contract: string;
  contractId: string;
  functionName: string;
  /** base64 ScVal XDR of each argument. */
  args: string[];
  invoker: string;
  txHash: string;
  ledger: number;
}

export interface LedgerRecord {
  sequence: number;
  hash: string;
  prevHash: string;
  closedAt: number;
  headerXdr: string;
  successfulTransactionCount: number;
  failedTransactionCount: number;
  operationCount: number;
  txSetOperationCount: number;
  totalCoins: string;
  feePool: string;
  baseFee: number;
  baseReserve: number;
  maxTxSetSize: number;
  protocolVersion: number;
  transactionHashes: string[];
}

export interface ContractDeployment {
  name: string;
  contractId: string;
  /** The code this instance points at; interface-only until a contract host is plugged in. */
  wasmHash: string;
  deployedAtLedger: number;
}

export interface SandboxAccounts {
  issuer: string;
  distribution: string;
  channels: string[];
}

/** stellar-rpc's default retention: 7 days of 5-second ledgers. */
export const DEFAULT_RPC_RETENTION_LEDGERS = 120_960;

export class LedgerState implements EntryWriter {
  readonly entries = new Map<string, EntryRecord>();
  private readonly trustlinesByAccount = new Map<string, Set<string>>();
  readonly ledgers: LedgerRecord[] = [];
  readonly transactions: TransactionRecord[] = [];
  private readonly transactionsByHash = new Map<string, TransactionRecord>();
  private readonly transactionsByAccount = new Map<string, TransactionRecord[]>();
  private readonly transactionsByMemo = new Map<string, TransactionRecord[]>();
  readonly payments: PaymentLikeOperationRecord[] = [];
  private readonly paymentsByAccount = new Map<string, PaymentLikeOperationRecord[]>();
  readonly events: ContractEventRecord[] = [];
  readonly invocations: InvocationRecord[] = [];
  readonly contracts: ContractDeployment[] = [];
  accounts: SandboxAccounts = { issuer: '', distribution: '', channels: [] };
  /**
   * How many of the latest ledgers Soroban RPC serves events of (stellar-rpc's retention
   * window); Horizon keeps all history. Changed at run time by PUT /sandbox/rpc-retention.
   */
  rpcRetentionLedgers: number = DEFAULT_RPC_RETENTION_LEDGERS;

  constructor(readonly networkPassphrase: string) {}

  /** The oldest ledger Soroban RPC still serves: the retention window back from the latest. */
  oldestRetainedLedger(): LedgerRecord {
    const latest = this.latestLedger();
    const first = this.ledgers[0] ?? latest;
    const oldest = Math.max(first.sequence, latest.sequence - this.rpcRetentionLedgers + 1);
    return this.ledger(oldest) ?? first;
  }

  peek(key: string): EntryRecord | undefined {
    return this.entries.get(key);
  }

  write(key: string, entry: EntryRecord | null): void {
    const previous = this.entries.get(key);
    if (entry === null) {
      this.entries.delete(key);
      if (previous?.type === 'trustline') this.trustlinesByAccount.get(previous.accountId)?.delete(key);
      return;
    }
    this.entries.set(key, entry);
    if (entry.type === 'trustline') {
      let keys = this.trustlinesByAccount.get(entry.accountId);
      if (!keys) {
        keys = new Set();
        this.trustlinesByAccount.set(entry.accountId, keys);
      }
      keys.add(key);
    }
  }

  account(accountId: string): AccountEntryRecord | undefined {
    const entry = this.entries.get(accountKey(accountId));
    return entry?.type === 'account' ? entry : undefined;
  }

  trustline(accountId: string, assetCode: string, assetIssuer: string): TrustlineEntryRecord | undefined {
    const entry = this.entries.get(trustlineKey(accountId, assetCode, assetIssuer));
    return entry?.type === 'trustline' ? entry : undefined;
  }

  trustlinesOf(accountId: string): TrustlineEntryRecord[] {
    const keys = this.trustlinesByAccount.get(accountId);
    if (!keys) return [];
    const lines: TrustlineEntryRecord[] = [];
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry?.type === 'trustline') lines.push(entry);
    }
    return lines;
  }

  latestLedger(): LedgerRecord {
    const latest = this.ledgers[this.ledgers.length - 1];
    if (!latest) throw new Error('the ledger has no history yet');
    return latest;
  }

  ledger(sequence: number): LedgerRecord | undefined {
    const candidate = this.ledgers[sequence - 1];
    return candidate?.sequence === sequence ? candidate : this.ledgers.find((l) => l.sequence === sequence);
  }

  addLedger(ledger: LedgerRecord): void {
    this.ledgers.push(ledger);
  }

  /** By envelope hash or, for fee bumps, by inner hash (as Horizon and RPC resolve both). */
  transaction(hash: string): TransactionRecord | undefined {
    return this.transactionsByHash.get(hash.toLowerCase());
  }

  addTransaction(record: TransactionRecord): void {
    this.transactions.push(record);
    this.transactionsByHash.set(record.hash, record);
    if (record.innerHash) this.transactionsByHash.set(record.innerHash, record);
    for (const account of record.participants) appendTo(this.transactionsByAccount, account, record);
    if (record.memoType === 'text' && record.memo !== undefined) appendTo(this.transactionsByMemo, record.memo, record);
  }

  transactionsOf(accountId: string): TransactionRecord[] {
    return this.transactionsByAccount.get(accountId) ?? [];
  }

  transactionsWithMemo(memo: string): TransactionRecord[] {
    return this.transactionsByMemo.get(memo) ?? [];
  }

  addPayment(record: PaymentLikeOperationRecord): void {
    this.payments.push(record);
    const accounts =
      record.type === 'payment'
        ? [record.sourceAccount, record.from, record.to]
        : [record.sourceAccount, record.funder, record.account];
    for (const account of new Set(accounts)) appendTo(this.paymentsByAccount, account, record);
  }

  paymentsOf(accountId: string): PaymentLikeOperationRecord[] {
    return this.paymentsByAccount.get(accountId) ?? [];
  }
}

function appendTo<T>(index: Map<string, T[]>, key: string, value: T): void {
  const list = index.get(key);
  if (list) list.push(value);
  else index.set(key, [value]);
}

/** Horizon's TOID: ledger (32 bits) | transaction order (20 bits) | operation order (12 bits). */
export function toid(ledger: number, transactionOrder: number, operationOrder: number): bigint {
  return (BigInt(ledger) << 32n) | (BigInt(transactionOrder) << 12n) | BigInt(operationOrder);
}
