/**
 * The transaction queue and ledger closing. Submissions wait in arrival order; every
 * interval a ledger closes with at most maxOpsPerLedger operations, re-validating each
 * transaction against the closing ledger (sequence, time bounds, fee balance) exactly as
 * core does when it applies a transaction set. Invalid ones are dropped with their code
 * (no fee, no sequence bump); valid ones are charged, bump their sequence and apply their
 * operations atomically, successful or not.
 *
 * A close is asynchronous only because contract calls may run out of process (the native
 * contract host). Closes run one at a time, transactions in set order, each contract call
 * awaited before the next transaction applies, so the outcome is what a synchronous close
 * gives. Effects collect in the ledger's own write set and are published in one synchronous
 * step at the end: readers and submissions see the state before or after a ledger, never
 * half of one.
 */
import { StrKey, xdr } from '@stellar/stellar-sdk';
import {
  applyOperation,
  contractEventXdr,
  type AppliedOperation,
  type ContractInvocationEffect,
} from './apply-operations';
import { MAX_TRANSACTIONS_PER_LEDGER } from './config';
import { contractNameOf, failureDiagnosticEvent, type ContractRuntime } from './contracts-interface';
import { accountsInvolved, baseAccountOf, operationSource, sha256, type ParsedEnvelope } from './envelope';
import { entryChangesXdr } from './ledger-entries-xdr';
import {
  EntryOverlay,
  toid,
  type EntryChange,
  type LedgerRecord,
  type LedgerState,
  type PaymentLikeOperationRecord,
  type TransactionRecord,
} from './ledger-state';
import { feeBumpResult, transactionResult, type TxOutcome } from './result-codes';
import {
  BASE_FEE,
  BASE_RESERVE,
  feeSourceOf,
  requiredFee,
  validateTransaction,
  type ValidationContext,
} from './transaction-validator';

export const PROTOCOL_VERSION = 23;
/** 100 billion XLM, the network's fixed supply, all of it held by the root account at genesis. */
export const TOTAL_COINS = 1_000_000_000_000_000_000n;

export type InclusionOutcome =
  | { kind: 'applied'; record: TransactionRecord }
  | { kind: 'rejected'; result: xdr.TransactionResult }
  | { kind: 'shutdown' };

export interface PendingTransaction {
  envelope: ParsedEnvelope;
  memoText?: string;
  /** First ledger this transaction may be included in (delayInclusion moves it later). */
  notBeforeLedger: number;
  waiters: Array<(outcome: InclusionOutcome) => void>;
}

/** A transaction applied in a closing ledger, with what is recorded when the ledger is published. */
interface AppliedTransaction {
  record: TransactionRecord;
  result: xdr.TransactionResult;
  feeCharged: bigint;
  operations: AppliedOperation[];
  invocation: ContractInvocationEffect | undefined;
}

export interface LedgerCloserOptions {
  maxOpsPerLedger: number;
  runtime: ContractRuntime;
  log: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
  /** Called after every close; `changed` is false for empty ledgers. */
  onLedgerClosed: (ledger: LedgerRecord, changed: boolean) => void;
  now?: () => number;
}

export class LedgerCloser {
  private queue: PendingTransaction[] = [];
  private readonly pendingByHash = new Map<string, PendingTransaction>();
  /** Sequence numbers queued per source account, in order (the next submission builds on the last). */
  private readonly queuedSequences = new Map<string, bigint[]>();
  private readonly now: () => number;
  /** The close in progress (or the last one): the next close starts after it. */
  private closing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly state: LedgerState,
    private readonly options: LedgerCloserOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get queueLength(): number {
    return this.queue.length;
  }

  nextLedgerSequence(): number {
    return this.state.latestLedger().sequence + 1;
  }

  nowSeconds(): bigint {
    return BigInt(Math.floor(this.now() / 1000));
  }

  /** The sequence number a new transaction from this account must follow. */
  currentSequence(accountId: string): bigint {
    const queued = this.queuedSequences.get(accountId);
    const last = queued?.[queued.length - 1];
    if (last !== undefined) return last;
    return this.state.account(accountId)?.seqNum ?? 0n;
  }

  pending(hash: string): PendingTransaction | undefined {
    return this.pendingByHash.get(hash.toLowerCase());
  }

  enqueue(pending: PendingTransaction): void {
    this.queue.push(pending);
    this.pendingByHash.set(pending.envelope.hash, pending);
    const source = pending.envelope.inner.source;
    const list = this.queuedSequences.get(source);
    if (list) list.push(pending.envelope.inner.seqNum);
    else this.queuedSequences.set(source, [pending.envelope.inner.seqNum]);
  }

  /** Resolves when the transaction is applied or dropped, or with 'timeout'. */
  waitFor(pending: PendingTransaction, timeoutMs: number): Promise<InclusionOutcome | { kind: 'timeout' }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.waiters = pending.waiters.filter((waiter) => waiter !== onOutcome);
        resolve({ kind: 'timeout' });
      }, timeoutMs);
      const onOutcome = (outcome: InclusionOutcome): void => {
        clearTimeout(timer);
        resolve(outcome);
      };
      pending.waiters.push(onOutcome);
    });
  }

  /** Ends every wait (shutdown): queued transactions are not persisted, like core's mempool. */
  abandonAll(): void {
    for (const pending of this.queue) for (const waiter of pending.waiters) waiter({ kind: 'shutdown' });
    this.queue = [];
    this.pendingByHash.clear();
    this.queuedSequences.clear();
  }

  /** Closes one ledger, after any close in progress: closes never overlap and run in call order. */
  closeLedger(): Promise<LedgerRecord> {
    const closed = this.closing.then(() => this.closeNow());
    this.closing = closed.catch(() => undefined);
    return closed;
  }

  /** Resolves once no ledger is closing (closes requested meanwhile included). */
  async idle(): Promise<void> {
    let current: Promise<unknown>;
    do {
      current = this.closing;
      await current;
    } while (current !== this.closing);
  }

  private async closeNow(): Promise<LedgerRecord> {
    const previous = this.state.latestLedger();
    const sequence = previous.sequence + 1;
    // Close times are whole seconds and never go backwards; sub-second ledgers share a second.
    const closeTime = BigInt(Math.max(Math.floor(this.now() / 1000), previous.closedAt));
    const selected = this.selectTransactionSet(sequence);

    // This ledger's write set: every transaction builds on it, the state sees it only when published.
    const ledgerEntries = new EntryOverlay(this.state, sequence);
    const validation: ValidationContext = {
      account: (id) => ledgerEntries.peekAccount(id),
      currentSequence: (id) => ledgerEntries.peekAccount(id)?.seqNum ?? 0n,
      closeTimeLowerBound: closeTime,
      closeTimeUpperBound: closeTime,
      ledgerSeq: sequence,
      checkSignatures: false,
    };
    const applied: Array<{ pending: PendingTransaction } & AppliedTransaction> = [];
    const rejected: Array<{ pending: PendingTransaction; result: xdr.TransactionResult }> = [];
    let feePool = BigInt(previous.feePool);
    let operationCount = 0;
    let txSetOperationCount = 0;
    for (const pending of selected) {
      const validity = validateTransaction(pending.envelope, validation);
      if (!validity.ok) {
        rejected.push({ pending, result: validity.result });
        continue;
      }
      const outcome = await this.applyTransaction(ledgerEntries, pending, sequence, closeTime, applied.length + 1);
      feePool += outcome.feeCharged;
      txSetOperationCount += pending.envelope.inner.operations.length;
      if (outcome.record.successful) operationCount += pending.envelope.inner.operations.length;
      applied.push({ pending, ...outcome });
    }

    const ledger = this.buildLedger(
      previous,
      sequence,
      closeTime,
      feePool,
      applied,
      operationCount,
      txSetOperationCount,
    );
    // Publish: from here to the end nothing awaits.
    ledgerEntries.commit();
    this.state.addLedger(ledger);
    for (const { record, operations, invocation } of applied) {
      this.state.addTransaction(record);
      this.recordOperations(record, operations);
      if (record.successful && invocation) this.recordInvocation(record, invocation);
    }
    for (const pending of selected) this.forgetQueued(pending);

    for (const { pending, record } of applied)
      for (const waiter of pending.waiters) waiter({ kind: 'applied', record });
    for (const { pending, result } of rejected) {
      this.options.log('info', 'transaction dropped at ledger close', {
        hash: pending.envelope.hash,
        ledger: sequence,
        result: result.result().switch().name,
      });
      for (const waiter of pending.waiters) waiter({ kind: 'rejected', result });
    }
    this.options.onLedgerClosed(ledger, applied.length > 0);
    return ledger;
  }

  /** Arrival order, up to capacity; once a transaction does not fit, the rest wait (keeps per-account order). */
  private selectTransactionSet(sequence: number): PendingTransaction[] {
    const selected: PendingTransaction[] = [];
    const waiting: PendingTransaction[] = [];
    let operations = 0;
    let full = false;
    for (const pending of this.queue) {
      if (full || pending.notBeforeLedger > sequence) {
        waiting.push(pending);
        continue;
      }
      const size = pending.envelope.inner.operations.length + (pending.envelope.feeBump ? 1 : 0);
      // A transaction larger than a whole ledger still goes alone, or it would wait forever.
      const fits = selected.length === 0 || operations + size <= this.options.maxOpsPerLedger;
      if (!fits || selected.length >= MAX_TRANSACTIONS_PER_LEDGER) {
        full = true;
        waiting.push(pending);
        continue;
      }
      selected.push(pending);
      operations += size;
    }
    this.queue = waiting;
    return selected;
  }

  private forgetQueued(pending: PendingTransaction): void {
    this.pendingByHash.delete(pending.envelope.hash);
    const source = pending.envelope.inner.source;
    const list = this.queuedSequences.get(source);
    if (!list) return;
    const index = list.indexOf(pending.envelope.inner.seqNum);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.queuedSequences.delete(source);
  }

  private async applyTransaction(
    ledgerEntries: EntryOverlay,
    pending: PendingTransaction,
    ledgerSeq: number,
    closeTime: bigint,
    applicationOrder: number,
  ): Promise<AppliedTransaction> {
    const envelope = pending.envelope;
    const inner = envelope.inner;
    const feeSourceId = feeSourceOf(envelope);

    // Fee processing: the network charges the inclusion fee (no surge pricing here), never more than bid.
    const feeOverlay = new EntryOverlay(ledgerEntries, ledgerSeq);
    const feeSource = feeOverlay.loadAccount(feeSourceId);
    const bid = envelope.feeBump ? envelope.feeBump.fee : inner.fee;
    const due = requiredFee(envelope) < bid ? requiredFee(envelope) : bid;
    const feeCharged = feeSource && feeSource.balance < due ? feeSource.balance : due;
    if (feeSource) feeSource.balance -= feeCharged;
    const feeChanges = feeOverlay.changes();
    feeOverlay.commit();

    // The sequence number is consumed whatever the operations do.
    const sequenceOverlay = new EntryOverlay(ledgerEntries, ledgerSeq);
    const source = sequenceOverlay.loadAccount(inner.source);
    if (source) {
      source.seqNum = inner.seqNum;
      source.seqLedger = ledgerSeq;
      source.seqTime = closeTime;
    }
    const sequenceChanges = sequenceOverlay.changes();
    sequenceOverlay.commit();

    const operationsOverlay = new EntryOverlay(ledgerEntries, ledgerSeq);
    const results: xdr.OperationResult[] = [];
    const operationChanges: EntryChange[][] = [];
    const appliedOperations: AppliedOperation[] = [];
    let allSucceeded = true;
    for (const operation of inner.operations) {
      const operationOverlay = new EntryOverlay(operationsOverlay, ledgerSeq);
      const outcome = await applyOperation(operationOverlay, operation, operationSource(operation, inner.source), {
        ledgerSeq,
        closeTime,
        runtime: this.options.runtime,
      });
      results.push(outcome.result);
      appliedOperations.push(outcome);
      if (outcome.success) {
        operationChanges.push(operationOverlay.changes());
        operationOverlay.commit();
      } else {
        allSucceeded = false;
        operationChanges.push([]);
      }
    }
    if (allSucceeded) operationsOverlay.commit();

    const outcome: TxOutcome = { code: allSucceeded ? 'txSuccess' : 'txFailed', operations: results };
    const result = envelope.feeBump
      ? feeBumpResult(feeCharged, inner.hashBytes, outcome)
      : transactionResult(feeCharged, outcome);
    const invocation = appliedOperations.find((operation) => operation.invocation)?.invocation;
    const invocationFailure = appliedOperations.find((operation) => operation.invocationFailure)?.invocationFailure;
    const isSoroban = inner.sorobanData !== undefined;
    const meta = new xdr.TransactionMeta(
      3,
      new xdr.TransactionMetaV3({
        ext: new xdr.ExtensionPoint(0),
        txChangesBefore: entryChangesXdr(sequenceChanges),
        operations: allSucceeded
          ? operationChanges.map((changes) => new xdr.OperationMeta({ changes: entryChangesXdr(changes) }))
          : [],
        txChangesAfter: [],
        sorobanMeta: isSoroban
          ? new xdr.SorobanTransactionMeta({
              ext: new xdr.SorobanTransactionMetaExt(0),
              events: allSucceeded && invocation ? invocation.events.map(contractEventXdr) : [],
              returnValue: allSucceeded && invocation ? invocation.returnValue : xdr.ScVal.scvVoid(),
              // What the host reports about a failed call (RPC serves them as diagnosticEventsXdr).
              diagnosticEvents: invocationFailure
                ? [failureDiagnosticEvent(invocationFailure.contractId, invocationFailure.failure)]
                : [],
            })
          : null,
      }),
    );

    const record = this.transactionRecord(envelope, {
      ledgerSeq,
      applicationOrder,
      closeTime,
      successful: allSucceeded,
      feeCharged,
      resultXdr: result.toXDR('base64'),
      resultMetaXdr: meta.toXDR('base64'),
      feeMetaXdr: feeChangesXdr(feeChanges),
    });
    return { record, result, feeCharged, operations: appliedOperations, invocation };
  }

  private transactionRecord(
    envelope: ParsedEnvelope,
    facts: {
      ledgerSeq: number;
      applicationOrder: number;
      closeTime: bigint;
      successful: boolean;
      feeCharged: bigint;
      resultXdr: string;
      resultMetaXdr: string;
      feeMetaXdr: string;
    },
  ): TransactionRecord {
    const inner = envelope.inner;
    const participants = new Set(accountsInvolved(envelope));
    for (const operation of inner.operations) {
      const destination = destinationOf(operation);
      if (destination) participants.add(destination);
    }
    const record: TransactionRecord = {
      hash: envelope.hash,
      ledger: facts.ledgerSeq,
      applicationOrder: facts.applicationOrder,
      createdAt: Number(facts.closeTime),
      successful: facts.successful,
      sourceAccount: inner.source,
      sourceAccountSequence: inner.seqNum.toString(),
      feeAccount: feeSourceOf(envelope),
      feeCharged: facts.feeCharged.toString(),
      maxFee: (envelope.feeBump ? envelope.feeBump.fee : inner.fee).toString(),
      operationCount: inner.operations.length,
      memoType: inner.memo.type,
      signatures: (envelope.feeBump ? envelope.feeBump.signatures : inner.signatures).map((signature) =>
        signature.signature().toString('base64'),
      ),
      envelopeXdr: envelope.envelopeXdr,
      resultXdr: facts.resultXdr,
      resultMetaXdr: facts.resultMetaXdr,
      feeMetaXdr: facts.feeMetaXdr,
      participants: [...participants],
    };
    if (inner.memo.value !== undefined) record.memo = inner.memo.value;
    if (inner.memo.bytes !== undefined) record.memoBytes = inner.memo.bytes;
    if (envelope.feeBump) {
      record.innerHash = inner.hash;
      record.innerMaxFee = inner.fee.toString();
      record.innerSignatures = inner.signatures.map((signature) => signature.signature().toString('base64'));
    }
    if (inner.timeBounds) {
      record.timeBounds = {
        minTime: inner.timeBounds.minTime.toString(),
        maxTime: inner.timeBounds.maxTime.toString(),
      };
    }
    if (inner.ledgerBounds) record.ledgerBounds = { ...inner.ledgerBounds };
    return record;
  }

  private recordOperations(record: TransactionRecord, operations: AppliedOperation[]): void {
    const applicationOrder = record.applicationOrder;
    operations.forEach((operation, index) => {
      const payment = operation.payment;
      if (!payment) return;
      const base = {
        id: toid(record.ledger, applicationOrder, index + 1).toString(),
        transactionHash: record.hash,
        transactionSuccessful: record.successful,
        ledger: record.ledger,
        createdAt: record.createdAt,
        sourceAccount: payment.type === 'payment' ? payment.from : payment.funder,
      };
      const history: PaymentLikeOperationRecord =
        payment.type === 'payment'
          ? {
              ...base,
              type: 'payment',
              from: payment.from,
              to: payment.to,
              amount: payment.amount.toString(),
              ...(payment.assetCode !== undefined
                ? { assetCode: payment.assetCode, assetIssuer: payment.assetIssuer }
                : {}),
            }
          : {
              ...base,
              type: 'create_account',
              funder: payment.funder,
              account: payment.account,
              startingBalance: payment.startingBalance.toString(),
            };
      this.state.addPayment(history);
    });
  }

  private recordInvocation(record: TransactionRecord, invocation: ContractInvocationEffect): void {
    const applicationOrder = record.applicationOrder;
    const contract = contractNameOf(this.state.contracts, invocation.contractId) ?? 'unknown';
    this.state.invocations.push({
      contract,
      contractId: invocation.contractId,
      functionName: invocation.functionName,
      args: invocation.args.map((value) => value.toXDR('base64')),
      invoker: record.sourceAccount,
      txHash: record.hash,
      ledger: record.ledger,
    });
    // Soroban transactions hold exactly one operation, so the operation index is 0.
    const eventToid = toid(record.ledger, applicationOrder, 0);
    invocation.events.forEach((event, index) => {
      this.state.events.push({
        id: `${eventToid.toString().padStart(19, '0')}-${index.toString().padStart(10, '0')}`,
        ledger: record.ledger,
        ledgerClosedAt: record.createdAt,
        contractId: event.contractId,
        txHash: record.hash,
        transactionIndex: applicationOrder - 1,
        operationIndex: 0,
        inSuccessfulContractCall: true,
        topics: event.topics.map((topic) => topic.toXDR('base64')),
        value: event.data.toXDR('base64'),
      });
    });
  }

  private buildLedger(
    previous: LedgerRecord,
    sequence: number,
    closeTime: bigint,
    feePool: bigint,
    applied: ReadonlyArray<{ record: TransactionRecord; result: xdr.TransactionResult }>,
    operationCount: number,
    txSetOperationCount: number,
  ): LedgerRecord {
    const previousHash = Buffer.from(previous.hash, 'hex');
    const txSetHash = sha256(
      Buffer.concat([previousHash, ...applied.map(({ record }) => Buffer.from(record.hash, 'hex'))]),
    );
    const txSetResultHash = sha256(
      Buffer.concat(
        applied.map(({ record, result }) =>
          new xdr.TransactionResultPair({ transactionHash: Buffer.from(record.hash, 'hex'), result }).toXDR(),
        ),
      ),
    );
    return ledgerRecord({
      sequence,
      previousHash: previous.hash,
      closeTime,
      txSetHash,
      txSetResultHash,
      totalCoins: BigInt(previous.totalCoins),
      feePool,
      maxTxSetSize: this.options.maxOpsPerLedger,
      transactionHashes: applied.map(({ record }) => record.hash),
      successful: applied.filter(({ record }) => record.successful).length,
      failed: applied.filter(({ record }) => !record.successful).length,
      operationCount,
      txSetOperationCount,
    });
  }
}

/** A ledger header (real XDR, hashed like core) and the summary Horizon serves. */
export function ledgerRecord(facts: {
  sequence: number;
  previousHash: string;
  closeTime: bigint;
  txSetHash: Buffer;
  txSetResultHash: Buffer;
  totalCoins: bigint;
  feePool: bigint;
  maxTxSetSize: number;
  transactionHashes: string[];
  successful: number;
  failed: number;
  operationCount: number;
  txSetOperationCount: number;
}): LedgerRecord {
  const header = new xdr.LedgerHeader({
    ledgerVersion: PROTOCOL_VERSION,
    previousLedgerHash: Buffer.from(facts.previousHash, 'hex'),
    scpValue: new xdr.StellarValue({
      txSetHash: facts.txSetHash,
      closeTime: new xdr.Uint64(facts.closeTime),
      upgrades: [],
      ext: xdr.StellarValueExt.stellarValueBasic(),
    }),
    txSetResultHash: facts.txSetResultHash,
    bucketListHash: sha256(Buffer.concat([facts.txSetHash, facts.txSetResultHash])),
    ledgerSeq: facts.sequence,
    totalCoins: new xdr.Int64(facts.totalCoins),
    feePool: new xdr.Int64(facts.feePool),
    inflationSeq: 0,
    idPool: new xdr.Uint64(0n),
    baseFee: Number(BASE_FEE),
    baseReserve: Number(BASE_RESERVE),
    maxTxSetSize: facts.maxTxSetSize,
    skipList: [Buffer.alloc(32), Buffer.alloc(32), Buffer.alloc(32), Buffer.alloc(32)],
    ext: new xdr.LedgerHeaderExt(0),
  });
  const headerBytes = header.toXDR();
  return {
    sequence: facts.sequence,
    hash: sha256(headerBytes).toString('hex'),
    prevHash: facts.previousHash,
    closedAt: Number(facts.closeTime),
    headerXdr: headerBytes.toString('base64'),
    successfulTransactionCount: facts.successful,
    failedTransactionCount: facts.failed,
    operationCount: facts.operationCount,
    txSetOperationCount: facts.txSetOperationCount,
    totalCoins: facts.totalCoins.toString(),
    feePool: facts.feePool.toString(),
    baseFee: Number(BASE_FEE),
    baseReserve: Number(BASE_RESERVE),
    maxTxSetSize: facts.maxTxSetSize,
    protocolVersion: PROTOCOL_VERSION,
    transactionHashes: facts.transactionHashes,
  };
}

/** LedgerEntryChanges as base64; OperationMeta is exactly that array on the wire. */
function feeChangesXdr(changes: EntryChange[]): string {
  return new xdr.OperationMeta({ changes: entryChangesXdr(changes) }).toXDR('base64');
}

function destinationOf(operation: xdr.Operation): string | undefined {
  const body = operation.body();
  switch (body.switch().name) {
    case 'createAccount':
      return StrKey.encodeEd25519PublicKey(body.createAccountOp().destination().ed25519());
    case 'payment':
      return baseAccountOf(body.paymentOp().destination());
    default:
      return undefined;
  }
}
