import { randomUUID } from 'node:crypto';
import { FeeBumpTransaction, type Keypair, type Transaction, TransactionBuilder } from '@stellar/stellar-sdk';
import type { Clock } from '../clock';
import { recordJournalSubmission } from '../metrics';
import {
  ContractError,
  GatewayInternalError,
  StellarError,
  StellarUnavailableError,
  TransactionRejectedError,
  translateStellarError,
  type ResultCodes,
} from './errors';
import type { StellarGateway } from './gateway';

/** prepared -> submitted -> landed | failed | expired: the one state machine of every transaction. */
export type JournalStatus = 'prepared' | 'submitted' | 'landed' | 'failed' | 'expired';

/**
 * Where an envelope came from. A platform-built payment batch and a platform-signed contract
 * call may be rebuilt as a new attempt once the old one can never land; an envelope signed
 * elsewhere (a holder's wallet) is submit-only: resubmitted as it is, never rebuilt.
 */
export type EnvelopeSourceKind = 'payment_batch' | 'contract_call' | 'external';

export type JournalAction = 'submit' | 'lookup' | 'fee_bump' | 'expire';

/** One signed transaction: it lands, fails or expires as a whole, with every item in it. */
export interface JournalTransaction {
  id: string;
  source: EnvelopeSourceKind;
  hash: string;
  envelopeXdr: string;
  feeBumpXdr: string | null;
  sourceAccount: string;
  sequence: bigint;
  maxTime: Date;
  memo: string | null;
  contractId: string | null;
  method: string | null;
  status: JournalStatus;
  ledger: number | null;
  resultCodes: ResultCodes | null;
  contractErrorCode: number | null;
}

/** One business record's share of a transaction: operation `opIndex`, attempt `attempt` of its key. */
export interface JournalItem {
  id: string;
  transaction: JournalTransaction;
  opIndex: number;
  businessKey: string;
  attempt: number;
  destination: string | null;
  amountStroops: bigint | null;
  memo: string | null;
}

export type NewJournalTransaction = Omit<
  JournalTransaction,
  'status' | 'ledger' | 'feeBumpXdr' | 'resultCodes' | 'contractErrorCode'
>;
export type NewJournalItem = Omit<JournalItem, 'transaction'>;

export interface SettleDetails {
  ledger?: number;
  resultCodes?: ResultCodes;
  contractErrorCode?: number;
}

/** Where transactions and their items are persisted before their first submission (PostgreSQL in production). */
export interface JournalStore {
  /** Every attempt of a business record with its transaction, oldest attempt first. */
  list(businessKey: string): Promise<JournalItem[]>;
  /**
   * Stores a transaction and its items atomically. When another caller already stored an
   * attempt of the same (businessKey, attempt), nothing is stored and those keys are returned.
   */
  insert(transaction: NewJournalTransaction, items: NewJournalItem[]): Promise<{ conflicts: string[] }>;
  setStatus(id: string, status: JournalStatus, details?: SettleDetails): Promise<void>;
  setFeeBump(id: string, feeBumpXdr: string): Promise<void>;
  recordAttempt(id: string, action: JournalAction, outcome: string, detail?: string): Promise<void>;
}

/** Leases source accounts so that no two in-flight transactions share one (and its sequence number). */
export interface ChannelPool {
  /** A free account's public key, leased to `holder` until `until`; undefined if none is free. */
  lease(holder: string, until: Date): Promise<string | undefined>;
  /** Frees whatever `holder` leased (a transaction's lease is held under its id). */
  release(holder: string): Promise<void>;
}

export interface JournalConfirmation {
  hash: string;
  ledger: number;
  attempt: number;
  /** The item's operation index in its transaction. */
  opIndex: number;
  /** True when an earlier submission had already landed (a retry or replay put nothing new on chain). */
  alreadyLanded: boolean;
}

/** A signed envelope's outcome on the ledger, shared by every item it carries. */
export type TransactionOutcome =
  | { successful: true; ledger: number }
  | { successful: false; ledger?: number; resultCodes: ResultCodes; contractErrorCode?: number };

/**
 * A source of new envelopes for a business key, used when none of its attempts can still
 * land. It builds and signs, then records through `journal.record` (persisted before any
 * submission) and returns the new item; undefined when a concurrent caller stored this attempt
 * first (the journal then follows theirs).
 */
export interface EnvelopeSource<Request> {
  readonly kind: EnvelopeSourceKind;
  prepare(request: Request, attempt: number, onProgress: (step: string) => void): Promise<JournalItem | undefined>;
  /** For a source that cannot rebuild: is `item` this request's own envelope? */
  matches?(request: Request, item: JournalItem): boolean;
}

/** An externally signed envelope past its upper time bound with its hash not found: it can never land, and is never rebuilt. */
export class EnvelopeExpiredError extends StellarError {
  readonly retryable = false;
  readonly type = 'Expired';
  constructor(
    message: string,
    readonly hash: string,
  ) {
    super(message);
    this.name = 'EnvelopeExpiredError';
  }
}

/** The same business key asked to carry another envelope than the one journaled for it. */
export class EnvelopeMismatchError extends StellarError {
  readonly retryable = false;
  readonly type = 'EnvelopeMismatch';
  constructor(
    message: string,
    readonly hash: string,
  ) {
    super(message);
    this.name = 'EnvelopeMismatchError';
  }
}

/** An externally signed envelope the network failed or refused for good (never rebuilt, so final whatever the code). */
export class EnvelopeRefusedError extends StellarError {
  readonly retryable = false;
  readonly type = 'EnvelopeRefused';
  constructor(
    message: string,
    readonly resultCodes: ResultCodes,
    readonly ledger?: number,
  ) {
    super(message);
    this.name = 'EnvelopeRefusedError';
  }
}

export interface TransactionJournalOptions {
  gateway: StellarGateway;
  store: JournalStore;
  /** Releases the source-account lease a transaction holds (under its id) once it is settled. */
  leases: Pick<ChannelPool, 'release'>;
  clock: Clock;
  /** Fee bumps are paid by this account (the distribution account), at most this much per operation. */
  feeBumpSource?: Keypair;
  maxFeePerOperation: number;
}

/** Rolled back again and again (other items of its transactions failing): let the activity retry later. */
const MAX_ROUNDS = 8;
/** Waiting callers report progress this often (activities heartbeat there). */
const PROGRESS_EVERY_MS = 5_000;

/**
 * The state of item `opIndex` in a transaction that failed with `codes`: its own operation
 * failed (final), or another one did and this one was rolled back with the transaction. A
 * transaction refused as a whole (no operation results) fails every item in it.
 */
export function itemStateIn(codes: ResultCodes, opIndex: number): 'failed' | 'rolled-back' {
  if (codes.operations.length === 0) return 'failed';
  const own = codes.operations[opIndex];
  return own === undefined || own === 'op_success' ? 'rolled-back' : 'failed';
}

/**
 * The transaction journal: everything the platform puts on chain goes through here, exactly
 * once per business key, whatever fails in between. Envelope sources (payment batches,
 * contract calls, externally signed envelopes) only build; the journal persists, submits,
 * looks up, fee-bumps and expires, with every step recorded as an attempt.
 *
 * The protocol (each call re-runs it from what is persisted, so a retry, a replay or a crash
 * recovery are all the same path):
 * 1. An attempt of the key already landed -> done, nothing put on chain again.
 * 2. Read how far the ledger has got, THEN look every pending transaction holding the key up.
 *    Found and successful -> landed. Found and failed -> the item's own operation failed
 *    (final) or it was rolled back with the others of its batch (it can never land: go on).
 *    (The ledger is read first: a transaction that lands after the lookup must land in a
 *    ledger newer than the one read.)
 * 3. The newest pending transaction not found: if a ledger closed past its upper time bound it
 *    can never land -> expired (an externally signed one is then final: `Expired`); otherwise
 *    resubmit the SAME envelope.
 * 4. Nothing pending: the source builds a new attempt, which is PERSISTED before it is submitted.
 * A timeout or 504 leaves the transaction pending and is reported as retryable: never a blind
 * resubmission of something new (Stellar's "indeterminate status" rule).
 */
export class TransactionJournal {
  /** Submissions in flight in this process, shared by every item they carry. */
  private readonly submissions = new Map<string, Promise<TransactionOutcome>>();
  private readonly settledListeners: (() => void)[] = [];

  constructor(private readonly options: TransactionJournalOptions) {}

  get store(): JournalStore {
    return this.options.store;
  }

  /** Called whenever a transaction is settled (its source account is free again). */
  onSettled(listener: () => void): void {
    this.settledListeners.push(listener);
  }

  /**
   * Puts `request` on chain exactly once under `businessKey`, building new attempts with
   * `source` when nothing pending can land any more.
   * @param onProgress called between network round trips and while waiting (activities heartbeat there).
   */
  async run<Request>(
    businessKey: string,
    source: EnvelopeSource<Request>,
    request: Request,
    onProgress: (step: string) => void = () => undefined,
  ): Promise<JournalConfirmation> {
    const ticker = setInterval(() => onProgress('waiting'), PROGRESS_EVERY_MS);
    try {
      for (let round = 1; round <= MAX_ROUNDS; round++) {
        const done = await this.round(businessKey, source, request, onProgress);
        if (done) return done;
      }
      throw new StellarUnavailableError(
        `${businessKey}: rolled back ${MAX_ROUNDS} times with other items of its transactions`,
        1,
      );
    } finally {
      clearInterval(ticker);
    }
  }

  /**
   * Settles what earlier attempts left pending, without submitting or building anything: the
   * last word before giving up on a business key. Landed -> the confirmation; nothing can land
   * any more -> undefined; a transaction still within its time bound -> a retryable error
   * (wait, then ask again).
   */
  async resolve(
    businessKey: string,
    onProgress: (step: string) => void = () => undefined,
  ): Promise<JournalConfirmation | undefined> {
    const existing = await this.options.store.list(businessKey);
    const landed = existing.find((item) => item.transaction.status === 'landed');
    if (landed) return this.confirmation(landed, landed.transaction.ledger ?? 0, true);
    const pending = existing.filter(isPending);
    if (pending.length === 0) return undefined;
    const { open, notFound, found } = await this.lookUpPending(pending, onProgress);
    if (found) return found.successful ? found.confirmation : undefined;
    if (open.length > 0) {
      const first = open[0]!.transaction;
      throw new StellarUnavailableError(`${first.hash} may still land until ${first.maxTime.toISOString()}`, 1);
    }
    await this.expire(notFound);
    return undefined;
  }

  /**
   * Persists a signed envelope with its items (the one door into the journal: nothing is
   * submitted before it returns). Hash, source account, sequence and upper time bound are read
   * from the envelope itself. Returns the stored items; undefined for the keys another caller
   * stored first, listed in `conflicts`.
   */
  async record(
    input: {
      id: string;
      source: EnvelopeSourceKind;
      envelopeXdr: string;
      contractId?: string;
      method?: string;
    },
    items: Omit<NewJournalItem, 'id'>[],
  ): Promise<{ items: JournalItem[]; conflicts: string[] }> {
    const transaction = this.describe(input);
    const stored = items.map((item) => ({ ...item, id: randomUUID() }));
    const { conflicts } = await this.options.store.insert(transaction, stored);
    if (conflicts.length > 0) return { items: [], conflicts };
    const full: JournalTransaction = {
      ...transaction,
      status: 'prepared',
      ledger: null,
      feeBumpXdr: null,
      resultCodes: null,
      contractErrorCode: null,
    };
    return { items: stored.map((item) => ({ ...item, transaction: full })), conflicts: [] };
  }

  /** What a signed envelope is, read from its XDR: the journal never trusts a caller's word for it. */
  private describe(input: {
    id: string;
    source: EnvelopeSourceKind;
    envelopeXdr: string;
    contractId?: string;
    method?: string;
  }): NewJournalTransaction {
    let parsed: Transaction | FeeBumpTransaction;
    try {
      parsed = TransactionBuilder.fromXDR(input.envelopeXdr, this.options.gateway.network.networkPassphrase);
    } catch (error) {
      throw new GatewayInternalError(`not a transaction envelope: ${(error as Error).message}`);
    }
    if (parsed instanceof FeeBumpTransaction) {
      throw new GatewayInternalError('the journal stores inner transactions; fee bumps are its own doing');
    }
    const maxTime = Number(parsed.timeBounds?.maxTime ?? 0);
    if (!(maxTime > 0)) {
      // Without an upper time bound a lost transaction could never be declared lost.
      throw new GatewayInternalError('a transaction without an upper time bound cannot be journaled');
    }
    const memo = parsed.memo.type === 'text' ? String(parsed.memo.value) : null;
    return {
      id: input.id,
      source: input.source,
      hash: parsed.hash().toString('hex'),
      envelopeXdr: input.envelopeXdr,
      sourceAccount: parsed.source,
      sequence: BigInt(parsed.sequence),
      maxTime: new Date(maxTime * 1000),
      memo,
      contractId: input.contractId ?? null,
      method: input.method ?? null,
    };
  }

  /** One pass of the protocol: the confirmation, or undefined when the attempt was rolled back (go again). */
  private async round<Request>(
    businessKey: string,
    source: EnvelopeSource<Request>,
    request: Request,
    onProgress: (step: string) => void,
  ): Promise<JournalConfirmation | undefined> {
    const existing = await this.options.store.list(businessKey);
    const mismatch = existing.find((item) => source.matches && !source.matches(request, item));
    if (mismatch) {
      throw new EnvelopeMismatchError(
        `${businessKey} is journaled with envelope ${mismatch.transaction.hash}; a key never carries another`,
        mismatch.transaction.hash,
      );
    }
    const landed = existing.find((item) => item.transaction.status === 'landed');
    if (landed) return this.confirmation(landed, landed.transaction.ledger ?? 0, true);

    const pending = existing.filter(isPending);
    if (pending.length > 0) {
      const { open, notFound, found } = await this.lookUpPending(pending, onProgress);
      if (found?.successful) return found.confirmation;
      if (found) throw found.error;
      const newest = open[open.length - 1];
      if (newest) return await this.submitItem(newest, false, onProgress);
      await this.expire(notFound);
    }

    const last = existing[existing.length - 1];
    if (source.kind === 'external' && last) {
      // Signed elsewhere: never rebuilt. Its end is final, whatever it was (the row read at the
      // start of this round may predate the expiry just recorded: anything not failed expired).
      const { transaction } = last;
      if (transaction.status === 'failed') {
        throw this.rejection(last, {
          successful: false,
          resultCodes: transaction.resultCodes ?? { transaction: 'tx_failed', operations: [] },
          ...(transaction.ledger !== null ? { ledger: transaction.ledger } : {}),
        });
      }
      throw new EnvelopeExpiredError(
        `${businessKey}: envelope ${transaction.hash} did not land before ${transaction.maxTime.toISOString()}; it is never rebuilt`,
        transaction.hash,
      );
    }
    const attempt = (last?.attempt ?? 0) + 1;
    const built = await source.prepare(request, attempt, onProgress);
    if (!built) return undefined; // a concurrent caller stored this attempt first: follow theirs
    return await this.submitItem(built, true, onProgress);
  }

  /**
   * Looks every pending item's transaction up, after reading how far the ledger has got.
   * `found`: the first that settles the key (landed, or its own operation failed); `open`: not
   * found and still within its upper time bound; `notFound`: not found at all.
   */
  private async lookUpPending(
    pending: JournalItem[],
    onProgress: (step: string) => void,
  ): Promise<{
    open: JournalItem[];
    notFound: JournalItem[];
    found?: { successful: true; confirmation: JournalConfirmation } | { successful: false; error: StellarError };
  }> {
    // Horizon: the ledger first, then the lookups. Soroban RPC answers both in one response.
    const horizonLedger = pending.some((item) => transportOf(item.transaction) === 'horizon')
      ? await this.options.gateway.latestLedger()
      : undefined;
    const open: JournalItem[] = [];
    const notFound: JournalItem[] = [];
    for (const item of pending) {
      const found = await this.lookUp(item.transaction, onProgress);
      if (!found.found) {
        notFound.push(item);
        const closedAt = found.closedAt ?? horizonLedger?.closedAt;
        // Expired only once a ledger is known to have closed past the bound; an answer without a
        // usable close time proves nothing.
        const closed = closedAt?.getTime();
        if (closed === undefined || !Number.isFinite(closed) || closed <= item.transaction.maxTime.getTime()) {
          open.push(item);
        }
        continue;
      }
      if (found.outcome.successful) {
        return {
          open,
          notFound,
          found: { successful: true, confirmation: this.confirmation(item, found.outcome.ledger, true) },
        };
      }
      if (stateOf(item, found.outcome.resultCodes) === 'failed') {
        return { open, notFound, found: { successful: false, error: this.rejection(item, found.outcome) } };
      }
    }
    return { open, notFound };
  }

  /** Looks a transaction's hash up on its network, records the lookup, and settles it if it was found. */
  private async lookUp(
    transaction: JournalTransaction,
    onProgress: (step: string) => void,
  ): Promise<{ found: true; outcome: TransactionOutcome } | { found: false; closedAt?: Date }> {
    onProgress('lookup');
    const { gateway, store } = this.options;
    let result: { found: true; outcome: TransactionOutcome } | { found: false; closedAt?: Date };
    if (transportOf(transaction) === 'soroban-rpc') {
      const found = await gateway.contractTransaction(transaction.hash);
      result = !found.found
        ? { found: false, closedAt: found.latestLedgerCloseTime }
        : found.successful
          ? { found: true, outcome: { successful: true, ledger: found.ledger } }
          : {
              found: true,
              outcome: {
                successful: false,
                ledger: found.ledger,
                resultCodes: found.resultCodes,
                ...(found.contractErrorCode !== undefined ? { contractErrorCode: found.contractErrorCode } : {}),
              },
            };
    } else {
      const found = await gateway.lookup(transaction.hash);
      result = !found.found
        ? { found: false }
        : found.successful
          ? { found: true, outcome: { successful: true, ledger: found.ledger } }
          : { found: true, outcome: { successful: false, ledger: found.ledger, resultCodes: found.resultCodes } };
    }
    await store.recordAttempt(
      transaction.id,
      'lookup',
      result.found ? (result.outcome.successful ? 'found-successful' : 'found-failed') : 'not-found',
    );
    if (result.found) await this.settleOutcome(transaction, result.outcome);
    return result;
  }

  /** Transactions not found after a ledger closed past their upper bound can never land. */
  private async expire(items: JournalItem[]): Promise<void> {
    for (const { transaction } of items) {
      await this.options.store.recordAttempt(
        transaction.id,
        'expire',
        'expired',
        `not found after a ledger closed past ${transaction.maxTime.toISOString()}`,
      );
      await this.settle(transaction, 'expired');
    }
  }

  /** Submits (or resubmits) an item's transaction; undefined when the item was rolled back with it. */
  private async submitItem(
    item: JournalItem,
    first: boolean,
    onProgress: (step: string) => void,
  ): Promise<JournalConfirmation | undefined> {
    const { transaction } = item;
    let shared = this.submissions.get(transaction.id);
    if (!shared) {
      shared = this.submitTransaction(transaction, first, onProgress).finally(() =>
        this.submissions.delete(transaction.id),
      );
      this.submissions.set(transaction.id, shared);
    }
    const outcome = await shared;
    if (outcome.successful) return this.confirmation(item, outcome.ledger, false);
    if (stateOf(item, outcome.resultCodes) === 'rolled-back') return undefined;
    throw this.rejection(item, outcome);
  }

  private async submitTransaction(
    transaction: JournalTransaction,
    first: boolean,
    onProgress: (step: string) => void,
  ): Promise<TransactionOutcome> {
    const { gateway, store } = this.options;
    if (transaction.status === 'prepared') {
      await store.setStatus(transaction.id, 'submitted');
      transaction = { ...transaction, status: 'submitted' };
    }
    // A first submission usually lands within a ledger or two: the ticker in run() heartbeats
    // only when it takes longer, so the common path costs the server no heartbeat at all.
    if (!first) onProgress('resubmit');
    try {
      const { ledger } =
        transportOf(transaction) === 'soroban-rpc'
          ? await gateway.submitContractTransaction(
              { hash: transaction.hash, envelopeXdr: transaction.envelopeXdr, maxTime: transaction.maxTime },
              transaction.contractId ?? '',
            )
          : await gateway.submit(transaction.feeBumpXdr ?? transaction.envelopeXdr, transaction.hash);
      recordJournalSubmission(transaction.source, 'tx_success');
      await store.recordAttempt(transaction.id, 'submit', 'included', `ledger ${ledger}`);
      await this.settle(transaction, 'landed', { ledger });
      return { successful: true, ledger };
    } catch (raw) {
      const error = translateStellarError(raw, transaction.hash);
      recordJournalSubmission(
        transaction.source,
        error instanceof ContractError
          ? 'contract_error'
          : error instanceof TransactionRejectedError
            ? error.resultCodes.transaction
            : error.type,
      );
      await store.recordAttempt(transaction.id, 'submit', error.type, error.message);
      if (error instanceof ContractError) {
        // Included in a ledger, and the contract refused it.
        const outcome: TransactionOutcome = {
          successful: false,
          resultCodes: { transaction: 'tx_failed', operations: ['function_trapped'] },
          contractErrorCode: error.code,
        };
        await this.settleOutcome(transaction, outcome);
        return outcome;
      }
      if (error instanceof TransactionRejectedError) {
        if (
          error.ledger === undefined &&
          error.resultCodes.transaction === 'tx_insufficient_fee' &&
          transaction.source === 'payment_batch' &&
          !transaction.feeBumpXdr &&
          this.options.feeBumpSource
        ) {
          return await this.submitTransaction(await this.feeBump(transaction), false, onProgress);
        }
        if (
          error.ledger === undefined &&
          error.resultCodes.transaction === 'tx_bad_seq' &&
          transaction.source === 'external'
        ) {
          const settled = await this.settleBadSequence(transaction, error, onProgress);
          if (settled) return settled;
        }
        // Included and failed, or refused at the door for good. A retryable refusal (tx_bad_seq,
        // try_again_later, ...) leaves it pending: an earlier copy may be in a ledger already,
        // and the next call looks its hash up first.
        if (error.ledger === undefined && !error.retryable) {
          // Refused at the door for good -- unless an earlier copy of it is in a ledger already
          // (a resubmission of a landed transaction may be refused on other grounds).
          const found = await this.lookUp(transaction, onProgress);
          if (found.found) return found.outcome;
        }
        if (error.ledger !== undefined || !error.retryable) {
          const outcome: TransactionOutcome = {
            successful: false,
            resultCodes: error.resultCodes,
            ...(error.ledger !== undefined ? { ledger: error.ledger } : {}),
          };
          await this.settleOutcome(transaction, outcome);
          return outcome;
        }
      }
      // Retryable: the transaction stays pending; the next call looks its hash up first.
      throw error;
    }
  }

  /**
   * A holder-signed envelope refused tx_bad_seq: nobody can rebuild it, so once the holder's
   * account has used its sequence number (read FIRST) and its hash is not found (looked up
   * AFTER: had it landed with that number, it would be found), it can never land: final. A
   * sequence number still ahead of the account (a gap), or an answer from a node that has not
   * seen the ledger that changed the account, leaves it pending (to its time bound at most).
   */
  private async settleBadSequence(
    transaction: JournalTransaction,
    error: TransactionRejectedError,
    onProgress: (step: string) => void,
  ): Promise<TransactionOutcome | undefined> {
    const account = await this.options.gateway.accountSequence(transaction.sourceAccount);
    const found = await this.lookUp(transaction, onProgress);
    if (found.found) return found.outcome;
    if (account.sequence < transaction.sequence) return undefined;
    // Behind a load balancer the lookup may have asked a node that has not ingested the ledger
    // that used the sequence number: only a node that has seen it may say the hash is not there.
    const latest = await this.options.gateway.latestLedger();
    if (latest.sequence < account.lastModifiedLedger) return undefined;
    const outcome: TransactionOutcome = { successful: false, resultCodes: error.resultCodes };
    await this.settleOutcome(transaction, outcome);
    return outcome;
  }

  private async feeBump(transaction: JournalTransaction): Promise<JournalTransaction> {
    const { gateway, store, feeBumpSource, maxFeePerOperation } = this.options;
    const fee = Math.min(Math.max((await gateway.recommendedFee()) * 2, 200), maxFeePerOperation);
    // The fee bump pays for every operation plus the bump itself, at `fee` each.
    const feeBumpXdr = gateway.feeBump(transaction.envelopeXdr, feeBumpSource!, fee);
    await store.setFeeBump(transaction.id, feeBumpXdr);
    await store.recordAttempt(transaction.id, 'fee_bump', 'built', `fee ${fee} per operation`);
    return { ...transaction, feeBumpXdr };
  }

  private async settleOutcome(transaction: JournalTransaction, outcome: TransactionOutcome): Promise<void> {
    if (outcome.successful) {
      await this.settle(transaction, 'landed', { ledger: outcome.ledger });
      return;
    }
    await this.settle(transaction, 'failed', {
      resultCodes: outcome.resultCodes,
      ...(outcome.ledger !== undefined ? { ledger: outcome.ledger } : {}),
      ...(outcome.contractErrorCode !== undefined ? { contractErrorCode: outcome.contractErrorCode } : {}),
    });
  }

  private async settle(
    transaction: JournalTransaction,
    status: 'landed' | 'failed' | 'expired',
    details?: SettleDetails,
  ): Promise<void> {
    await this.options.store.setStatus(transaction.id, status, details);
    await this.options.leases.release(transaction.id);
    for (const listener of this.settledListeners) listener();
  }

  /** An item's own failure: the contract's error, or its operation's code (the transaction's when refused as a whole). */
  private rejection(item: JournalItem, outcome: Extract<TransactionOutcome, { successful: false }>): StellarError {
    const { transaction } = item;
    if (outcome.contractErrorCode !== undefined) {
      return new ContractError(
        `contract error #${outcome.contractErrorCode}`,
        transaction.contractId ?? '',
        outcome.contractErrorCode,
      );
    }
    const codes = outcome.resultCodes;
    if (transaction.source === 'external') {
      return new EnvelopeRefusedError(
        `${item.businessKey}: envelope ${transaction.hash} failed on chain: ${[codes.transaction, ...codes.operations].join(', ')}`,
        codes,
        outcome.ledger,
      );
    }
    const own = codes.operations[item.opIndex];
    return new TransactionRejectedError(
      `${item.businessKey} (operation ${item.opIndex} of ${transaction.hash}) failed on chain: ${own ?? codes.transaction}`,
      { transaction: codes.transaction, operations: own === undefined ? [] : [own] },
      outcome.ledger,
    );
  }

  private confirmation(item: JournalItem, ledger: number, alreadyLanded: boolean): JournalConfirmation {
    return { hash: item.transaction.hash, ledger, attempt: item.attempt, opIndex: item.opIndex, alreadyLanded };
  }
}

/** An externally signed envelope is never rebuilt: whatever failed it, it failed for good. */
function stateOf(item: JournalItem, codes: ResultCodes): 'failed' | 'rolled-back' {
  return item.transaction.source === 'external' ? 'failed' : itemStateIn(codes, item.opIndex);
}

function isPending(item: JournalItem): boolean {
  return item.transaction.status === 'prepared' || item.transaction.status === 'submitted';
}

/** Contract calls go through Soroban RPC (their results and contract errors live there); the rest through Horizon. */
function transportOf(transaction: JournalTransaction): 'horizon' | 'soroban-rpc' {
  return transaction.source === 'contract_call' ? 'soroban-rpc' : 'horizon';
}

/**
 * Envelopes signed elsewhere (a holder's wallet): recorded as they are on the first call and
 * resubmitted as they are; never rebuilt, so once expired or failed they are final.
 */
export class SignedEnvelopeSource implements EnvelopeSource<{ envelopeXdr: string; businessKey: string }> {
  readonly kind = 'external' as const;

  constructor(private readonly journal: TransactionJournal) {}

  matches(request: { envelopeXdr: string; businessKey: string }, item: JournalItem): boolean {
    return item.transaction.envelopeXdr === request.envelopeXdr;
  }

  async prepare(
    request: { envelopeXdr: string; businessKey: string },
    attempt: number,
  ): Promise<JournalItem | undefined> {
    const { items } = await this.journal.record(
      { id: randomUUID(), source: 'external', envelopeXdr: request.envelopeXdr },
      [{ opIndex: 0, businessKey: request.businessKey, attempt, destination: null, amountStroops: null, memo: null }],
    );
    return items[0];
  }
}
