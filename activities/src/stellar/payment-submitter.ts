import { randomUUID } from 'node:crypto';
import type { Keypair } from '@stellar/stellar-sdk';
import { batchMemo } from '@nova/domain/memos';
import type { Clock } from '../clock';
import { StellarUnavailableError, TransactionRejectedError, translateStellarError, type ResultCodes } from './errors';
import { MAX_OPERATIONS_PER_TRANSACTION, type StellarGateway, type TransactionLookup } from './gateway';

export type EnvelopeStatus = 'built' | 'submitted' | 'confirmed' | 'failed' | 'expired';

/** One signed transaction: it lands, fails or expires as a whole, with every payment in it. */
export interface StoredEnvelope {
  id: string;
  hash: string;
  envelopeXdr: string;
  feeBumpXdr: string | null;
  channelAccount: string;
  sequence: bigint;
  maxTime: Date;
  memo: string;
  status: EnvelopeStatus;
  ledger: number | null;
  resultCodes: ResultCodes | null;
}

/** One payment: operation `opIndex` of its envelope, attempt `attempt` of its business key. */
export interface StoredPayment {
  id: string;
  envelope: StoredEnvelope;
  opIndex: number;
  businessKey: string;
  attempt: number;
  destination: string;
  amountStroops: bigint;
  memo: string;
}

export type NewEnvelope = Omit<StoredEnvelope, 'status' | 'ledger' | 'feeBumpXdr' | 'resultCodes'>;
export type NewPayment = Omit<StoredPayment, 'envelope'>;

/** Where envelopes and their payments are persisted before their first submission (PostgreSQL in production). */
export interface EnvelopeStore {
  /** Every payment attempt of a business record with its envelope, oldest attempt first. */
  list(businessKey: string): Promise<StoredPayment[]>;
  /**
   * Stores an envelope and its payments atomically. When another caller already stored an
   * attempt of the same (businessKey, attempt), nothing is stored and those keys are returned.
   */
  insert(envelope: NewEnvelope, payments: NewPayment[]): Promise<{ conflicts: string[] }>;
  setStatus(
    id: string,
    status: EnvelopeStatus,
    details?: { ledger?: number; resultCodes?: ResultCodes },
  ): Promise<void>;
  setFeeBump(id: string, feeBumpXdr: string): Promise<void>;
  recordAttempt(
    id: string,
    action: 'submit' | 'lookup' | 'expire' | 'fee-bump',
    outcome: string,
    detail?: string,
  ): Promise<void>;
}

/** Leases channel accounts so that no two in-flight transactions share a source account. */
export interface ChannelPool {
  /** A free channel's public key, leased to `holder` until `until`; undefined if none is free. */
  lease(holder: string, until: Date): Promise<string | undefined>;
  release(holder: string): Promise<void>;
}

export interface PaymentRequest {
  /** The business record paying, e.g. "issuance/<id>": at most one successful payment per key. */
  businessKey: string;
  destination: string;
  amount: bigint;
  /** Text memo (<= 28 bytes) identifying the business record; the transaction's memo when it pays this record alone. */
  memo: string;
}

export interface PaymentConfirmation {
  hash: string;
  ledger: number;
  attempt: number;
  /** The payment's operation index in its transaction. */
  opIndex: number;
  /** True when an earlier submission had already landed (a retry or replay paid nothing new). */
  alreadyPaid: boolean;
}

export interface PaymentSubmitterOptions {
  gateway: StellarGateway;
  envelopes: EnvelopeStore;
  channels: ChannelPool;
  distribution: Keypair;
  channelSigners: ReadonlyMap<string, Keypair>;
  clock: Clock;
  /** Upper time bound of each envelope, from its build time. */
  transactionTimeoutSeconds: number;
  /** A lease outlives its envelope's upper bound by this much (clock skew between us and the network). */
  leaseMarginSeconds: number;
  /** Fee per operation never goes above this, fee bumps included. */
  maxFeePerOperation: number;
  /** How long a payment waits for a free channel before reporting a retryable failure; default 15 s. */
  channelWaitMs?: number;
  /** Payments one transaction carries at most (1 turns batching off); default 100, Stellar's limit. */
  maxPaymentsPerTransaction?: number;
}

/** What became of a payment whose envelope was found or submitted. */
type PaymentState = 'confirmed' | 'failed' | 'rolled-back';

/** The outcome of an envelope on the ledger, shared by every payment it carries. */
type EnvelopeOutcome =
  { successful: true; ledger: number } | { successful: false; ledger?: number; resultCodes: ResultCodes };

interface QueuedPayment {
  request: PaymentRequest;
  attempt: number;
  since: number;
  resolve(payment: StoredPayment | undefined): void;
  reject(error: unknown): void;
}

/** Rolled back again and again (other payments of its batches failing): let the activity retry later. */
const MAX_ROUNDS = 8;
/** Waiting callers report progress this often (activities heartbeat there). */
const PROGRESS_EVERY_MS = 5_000;

/**
 * The state of payment `opIndex` in a transaction that failed with `codes`: its own operation
 * failed (final), or another one did and this one was rolled back with the transaction. A
 * transaction refused as a whole (no operation results) fails every payment in it.
 */
export function paymentStateIn(codes: ResultCodes, opIndex: number): Exclude<PaymentState, 'confirmed'> {
  if (codes.operations.length === 0) return 'failed';
  const own = codes.operations[opIndex];
  return own === undefined || own === 'op_success' ? 'rolled-back' : 'failed';
}

/**
 * Pays exactly once per business key, whatever fails in between, batching the payments that
 * wait for a channel into one transaction (one operation each).
 *
 * The protocol (each call re-runs it from what is persisted, so a retry, a replay or a crash
 * recovery are all the same path):
 * 1. A payment of the key already confirmed -> done, nothing paid again.
 * 2. Read the latest closed ledger, THEN look every pending envelope holding the key up.
 *    Found and successful -> confirmed. Found and failed -> this payment's own operation
 *    failed (final failure) or it was rolled back because another operation of its batch
 *    failed (it can never land: go on). (The ledger is read first: a transaction that lands
 *    after the lookup must land in a ledger newer than the one read.)
 * 3. The newest pending envelope not found: if the ledger read in step 2 closed past its upper
 *    time bound it can never land -> expired, and a new attempt may be built; otherwise
 *    resubmit the SAME envelope.
 * 4. No pending attempt: queue the payment. Whenever a channel is free, the queued payments
 *    (up to the batch size) become one envelope: read the channel's sequence from the ledger,
 *    build and sign, PERSIST the envelope with every payment in one database transaction, and
 *    only then submit. A rolled-back payment goes round again with its next attempt.
 * A timeout or 504 leaves the envelope pending and is reported as retryable.
 */
export class PaymentSubmitter {
  private readonly queue: QueuedPayment[] = [];
  private pumping = false;
  private wakePump: (() => void) | undefined;
  /** Envelope submissions in flight in this process, shared by every payment they carry. */
  private readonly submissions = new Map<string, Promise<EnvelopeOutcome>>();

  constructor(private readonly options: PaymentSubmitterOptions) {}

  /** @param onProgress called between network round trips and while waiting (activities heartbeat there). */
  async pay(
    request: PaymentRequest,
    onProgress: (step: string) => void = () => undefined,
  ): Promise<PaymentConfirmation> {
    const ticker = setInterval(() => onProgress('waiting'), PROGRESS_EVERY_MS);
    try {
      for (let round = 1; round <= MAX_ROUNDS; round++) {
        const paid = await this.payRound(request, onProgress);
        if (paid) return paid;
      }
      throw new StellarUnavailableError(
        `${request.businessKey}: rolled back ${MAX_ROUNDS} times with other payments of its transactions`,
        1,
      );
    } finally {
      clearInterval(ticker);
    }
  }

  /** One pass of the protocol: the confirmation, or undefined when the attempt was rolled back (go again). */
  private async payRound(
    request: PaymentRequest,
    onProgress: (step: string) => void,
  ): Promise<PaymentConfirmation | undefined> {
    const existing = await this.options.envelopes.list(request.businessKey);
    const confirmed = existing.find((p) => p.envelope.status === 'confirmed');
    if (confirmed) return this.confirmation(confirmed, confirmed.envelope.ledger ?? 0, true);

    const pending = existing.filter((p) => p.envelope.status === 'built' || p.envelope.status === 'submitted');
    if (pending.length > 0) {
      const ledger = await this.options.gateway.latestLedger();
      const notFound: StoredPayment[] = [];
      for (const payment of pending) {
        const found = await this.lookUp(payment.envelope, onProgress);
        if (!found.found) notFound.push(payment);
        else if (found.successful) return this.confirmation(payment, found.ledger, true);
        else if (paymentStateIn(found.resultCodes, payment.opIndex) === 'failed')
          throw this.rejection(payment, found.resultCodes, found.ledger);
      }
      const newest = notFound[notFound.length - 1];
      if (newest && ledger.closedAt.getTime() <= newest.envelope.maxTime.getTime()) {
        return await this.submitPayment(newest, false, onProgress);
      }
      await this.expire(
        notFound.map((p) => p.envelope),
        ledger,
      );
    }

    const attempt = existing.reduce((max, p) => Math.max(max, p.attempt), 0) + 1;
    const built = await this.enqueue(request, attempt);
    if (!built) return undefined; // a concurrent caller stored this attempt first: follow theirs
    return await this.submitPayment(built, true, onProgress);
  }

  /**
   * Settles what earlier attempts left pending, without submitting or building anything:
   * the last word before giving up on a business key. Paid -> the confirmation; nothing can
   * land any more -> undefined; an envelope still within its time bound -> a retryable
   * error (wait, then ask again).
   */
  async resolve(
    businessKey: string,
    onProgress: (step: string) => void = () => undefined,
  ): Promise<PaymentConfirmation | undefined> {
    const { gateway, envelopes } = this.options;
    const existing = await envelopes.list(businessKey);
    const confirmed = existing.find((p) => p.envelope.status === 'confirmed');
    if (confirmed) return this.confirmation(confirmed, confirmed.envelope.ledger ?? 0, true);
    const pending = existing.filter((p) => p.envelope.status === 'built' || p.envelope.status === 'submitted');
    if (pending.length === 0) return undefined;
    const ledger = await gateway.latestLedger(); // before the lookups, as in pay()
    const notFound: StoredEnvelope[] = [];
    for (const payment of pending) {
      const found = await this.lookUp(payment.envelope, onProgress);
      if (found.found && found.successful) return this.confirmation(payment, found.ledger, true);
      if (!found.found) notFound.push(payment.envelope);
    }
    const open = notFound.filter((e) => ledger.closedAt.getTime() <= e.maxTime.getTime());
    if (open.length > 0) {
      throw new StellarUnavailableError(
        `envelope ${open[0]!.hash} may still land until ${open[0]!.maxTime.toISOString()}`,
        1,
      );
    }
    await this.expire(notFound, ledger);
    return undefined;
  }

  /** Looks an envelope's hash up, records the lookup, and settles the envelope if it was found. */
  private async lookUp(envelope: StoredEnvelope, onProgress: (step: string) => void): Promise<TransactionLookup> {
    onProgress('lookup');
    const found = await this.options.gateway.lookup(envelope.hash);
    await this.options.envelopes.recordAttempt(
      envelope.id,
      'lookup',
      found.found ? (found.successful ? 'found-successful' : 'found-failed') : 'not-found',
    );
    if (found.found && found.successful) await this.settle(envelope, 'confirmed', { ledger: found.ledger });
    else if (found.found)
      await this.settle(envelope, 'failed', { ledger: found.ledger, resultCodes: found.resultCodes });
    return found;
  }

  /** Envelopes not found after `ledger` closed past their upper bound can never land. */
  private async expire(expired: StoredEnvelope[], ledger: { sequence: number; closedAt: Date }): Promise<void> {
    for (const envelope of expired) {
      await this.options.envelopes.recordAttempt(
        envelope.id,
        'expire',
        'expired',
        `ledger ${ledger.sequence} closed at ${ledger.closedAt.toISOString()}`,
      );
      await this.settle(envelope, 'expired');
    }
  }

  /** Waits for the payment to be built into a persisted envelope; undefined when another caller holds this attempt. */
  private enqueue(request: PaymentRequest, attempt: number): Promise<StoredPayment | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, attempt, since: Date.now(), resolve, reject });
      void this.pump();
    });
  }

  /**
   * Turns queued payments into envelopes while there are any: one channel lease per
   * envelope, as many queued payments as fit. Payments that wait while every channel is busy
   * are what make batches; a lone payment with a free channel leaves at once.
   */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    const batchSize = Math.min(
      Math.max(1, this.options.maxPaymentsPerTransaction ?? MAX_OPERATIONS_PER_TRANSACTION),
      MAX_OPERATIONS_PER_TRANSACTION,
    );
    const waitMs = this.options.channelWaitMs ?? 15_000;
    try {
      for (let delay = 20; this.queue.length > 0;) {
        const id = randomUUID();
        // The upper time bound is fixed when the lease is granted, not before waiting for one.
        const maxTime = new Date(this.options.clock.now().getTime() + this.options.transactionTimeoutSeconds * 1000);
        const until = new Date(maxTime.getTime() + this.options.leaseMarginSeconds * 1000);
        let channel: string | undefined;
        try {
          channel = await this.options.channels.lease(id, until);
        } catch (error) {
          for (const queued of this.queue.splice(0)) queued.reject(error);
          return;
        }
        if (channel) {
          delay = 20;
          void this.buildEnvelope(id, channel, maxTime, this.queue.splice(0, batchSize));
          continue;
        }
        // About one ledger: a channel frees up when its envelope is settled (which wakes us).
        const now = Date.now();
        for (let i = this.queue.length - 1; i >= 0; i--) {
          if (now - this.queue[i]!.since >= waitMs) {
            this.queue.splice(i, 1)[0]!.reject(new StellarUnavailableError('every channel account is busy', 1));
          }
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakePump = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakePump = undefined;
        delay = Math.min(delay * 2, 250);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Builds, signs and persists one envelope for `group` on the leased `channel`, and hands each caller its payment. */
  private async buildEnvelope(id: string, channel: string, maxTime: Date, group: QueuedPayment[]): Promise<void> {
    const { gateway, envelopes } = this.options;
    // Callers paying the same key at once (a retry racing its predecessor) share one payment.
    const callers = new Map<string, QueuedPayment[]>();
    for (const queued of group) {
      const same = callers.get(queued.request.businessKey);
      if (same) same.push(queued);
      else callers.set(queued.request.businessKey, [queued]);
    }
    const answer = (key: string, payment: StoredPayment | undefined) => {
      for (const queued of callers.get(key) ?? []) queued.resolve(payment);
    };
    try {
      const signer = this.options.channelSigners.get(channel);
      if (!signer) throw new Error(`no signing key for channel account ${channel}`);
      const [sequence, recommended] = await Promise.all([gateway.sequenceOf(channel), gateway.recommendedFee()]);
      for (let members = [...callers.values()].map((same) => same[0]!); ;) {
        const memo = members.length === 1 ? members[0]!.request.memo : batchMemo(id);
        const signed = gateway.buildPayments({
          channel: signer,
          channelSequence: sequence,
          from: this.options.distribution,
          payments: members.map((m) => ({ destination: m.request.destination, amount: m.request.amount })),
          memo,
          feePerOperation: Math.min(recommended, this.options.maxFeePerOperation),
          maxTime,
        });
        const envelope: StoredEnvelope = {
          id,
          hash: signed.hash,
          envelopeXdr: signed.envelopeXdr,
          channelAccount: channel,
          sequence: sequence + 1n,
          maxTime: signed.maxTime,
          memo,
          feeBumpXdr: null,
          status: 'built',
          ledger: null,
          resultCodes: null,
        };
        const payments: StoredPayment[] = members.map((m, opIndex) => ({
          id: randomUUID(),
          envelope,
          opIndex,
          businessKey: m.request.businessKey,
          attempt: m.attempt,
          destination: m.request.destination,
          amountStroops: m.request.amount,
          memo: m.request.memo,
        }));
        const { conflicts } = await envelopes.insert(
          envelope,
          payments.map(({ envelope: _, ...payment }) => payment),
        );
        if (conflicts.length === 0) {
          for (const payment of payments) answer(payment.businessKey, payment);
          return;
        }
        // Another caller stored these attempts first: they follow that one; the rest are rebuilt.
        for (const key of conflicts) answer(key, undefined);
        members = members.filter((m) => !conflicts.includes(m.request.businessKey));
        if (members.length === 0) {
          await this.options.channels.release(id);
          this.wakePump?.();
          return;
        }
      }
    } catch (error) {
      await this.options.channels.release(id).catch(() => undefined);
      this.wakePump?.();
      for (const queued of group) queued.reject(error);
    }
  }

  /** Submits (or resubmits) a payment's envelope; undefined when the payment was rolled back with it. */
  private async submitPayment(
    payment: StoredPayment,
    first: boolean,
    onProgress: (step: string) => void,
  ): Promise<PaymentConfirmation | undefined> {
    const { envelope } = payment;
    let shared = this.submissions.get(envelope.id);
    if (!shared) {
      shared = this.submitEnvelope(envelope, first, onProgress).finally(() => this.submissions.delete(envelope.id));
      this.submissions.set(envelope.id, shared);
    }
    const outcome = await shared;
    if (outcome.successful) return this.confirmation(payment, outcome.ledger, false);
    if (paymentStateIn(outcome.resultCodes, payment.opIndex) === 'rolled-back') return undefined;
    throw this.rejection(payment, outcome.resultCodes, outcome.ledger);
  }

  private async submitEnvelope(
    envelope: StoredEnvelope,
    first: boolean,
    onProgress: (step: string) => void,
  ): Promise<EnvelopeOutcome> {
    const { gateway, envelopes } = this.options;
    if (envelope.status === 'built') {
      await envelopes.setStatus(envelope.id, 'submitted');
      envelope = { ...envelope, status: 'submitted' };
    }
    // A first submission usually lands within a ledger or two: the ticker in pay() heartbeats
    // only when it takes longer, so the common path costs the server no heartbeat at all.
    if (!first) onProgress('resubmit');
    try {
      const { ledger } = await gateway.submit(envelope.feeBumpXdr ?? envelope.envelopeXdr, envelope.hash);
      await envelopes.recordAttempt(envelope.id, 'submit', 'included', `ledger ${ledger}`);
      await this.settle(envelope, 'confirmed', { ledger });
      return { successful: true, ledger };
    } catch (raw) {
      const error = translateStellarError(raw, envelope.hash);
      await envelopes.recordAttempt(envelope.id, 'submit', error.type, error.message);
      if (error instanceof TransactionRejectedError) {
        if (error.resultCodes.transaction === 'tx_insufficient_fee' && !envelope.feeBumpXdr) {
          return await this.submitEnvelope(await this.feeBump(envelope), false, onProgress);
        }
        if (!error.retryable) {
          await this.settle(envelope, 'failed', {
            resultCodes: error.resultCodes,
            ...(error.ledger !== undefined ? { ledger: error.ledger } : {}),
          });
          return {
            successful: false,
            resultCodes: error.resultCodes,
            ...(error.ledger !== undefined ? { ledger: error.ledger } : {}),
          };
        }
      }
      // Retryable: the envelope stays pending; the next call looks its hash up first.
      throw error;
    }
  }

  private async feeBump(envelope: StoredEnvelope): Promise<StoredEnvelope> {
    const { gateway, envelopes } = this.options;
    const fee = Math.min(Math.max((await gateway.recommendedFee()) * 2, 200), this.options.maxFeePerOperation);
    // The fee bump pays for every operation plus the bump itself, at `fee` each.
    const feeBumpXdr = gateway.feeBump(envelope.envelopeXdr, this.options.distribution, fee);
    await envelopes.setFeeBump(envelope.id, feeBumpXdr);
    await envelopes.recordAttempt(envelope.id, 'fee-bump', 'built', `fee ${fee} per operation`);
    return { ...envelope, feeBumpXdr };
  }

  private async settle(
    envelope: StoredEnvelope,
    status: 'confirmed' | 'failed' | 'expired',
    details?: { ledger?: number; resultCodes?: ResultCodes },
  ) {
    await this.options.envelopes.setStatus(envelope.id, status, details);
    await this.options.channels.release(envelope.id);
    this.wakePump?.();
  }

  /** A payment's own failure: its operation's code (the transaction's when it was refused as a whole). */
  private rejection(payment: StoredPayment, codes: ResultCodes, ledger?: number): TransactionRejectedError {
    const own = codes.operations[payment.opIndex];
    const operations = own === undefined ? [] : [own];
    return new TransactionRejectedError(
      `payment ${payment.businessKey} (operation ${payment.opIndex} of ${payment.envelope.hash}) failed on chain: ${own ?? codes.transaction}`,
      { transaction: codes.transaction, operations },
      ledger,
    );
  }

  private confirmation(payment: StoredPayment, ledger: number, alreadyPaid: boolean): PaymentConfirmation {
    return { hash: payment.envelope.hash, ledger, attempt: payment.attempt, opIndex: payment.opIndex, alreadyPaid };
  }
}
