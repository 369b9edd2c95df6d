import { randomUUID } from 'node:crypto';
import type { Keypair } from '@stellar/stellar-sdk';
import type { Clock } from '../clock';
import { StellarUnavailableError, TransactionRejectedError, translateStellarError, type ResultCodes } from './errors';
import type { StellarGateway, TransactionLookup } from './gateway';

export type EnvelopeStatus = 'built' | 'submitted' | 'confirmed' | 'failed' | 'expired';

export interface StoredEnvelope {
  id: string;
  businessKey: string;
  attempt: number;
  hash: string;
  envelopeXdr: string;
  feeBumpXdr: string | null;
  channelAccount: string;
  sequence: bigint;
  maxTime: Date;
  destination: string;
  amountStroops: bigint;
  memo: string;
  status: EnvelopeStatus;
  ledger: number | null;
}

/** Where envelopes are persisted before their first submission (PostgreSQL in production). */
export interface EnvelopeStore {
  /** Every envelope of a business record, oldest attempt first. */
  list(businessKey: string): Promise<StoredEnvelope[]>;
  /** False when another caller already stored this (businessKey, attempt): follow theirs. */
  insert(envelope: Omit<StoredEnvelope, 'status' | 'ledger' | 'feeBumpXdr'>): Promise<boolean>;
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
  /** Text memo (<= 28 bytes) identifying the business record on chain. */
  memo: string;
}

export interface PaymentConfirmation {
  hash: string;
  ledger: number;
  attempt: number;
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
  /** How long to wait for a free channel (heartbeating) before reporting a retryable failure; default 15 s. */
  channelWaitMs?: number;
}

/**
 * Pays exactly once per business key, whatever fails in between.
 *
 * The protocol (each call re-runs it from what is persisted, so a retry, a replay or a crash
 * recovery are all the same path):
 * 1. An envelope already confirmed -> done, nothing paid again.
 * 2. Read the latest closed ledger, THEN look every pending envelope's hash up. Found and
 *    successful -> confirmed; found and failed -> final failure. (The ledger is read first:
 *    a transaction that lands after the lookup must land in a ledger newer than the one read.)
 * 3. The newest pending envelope not found: if the ledger read in step 2 closed past its upper
 *    time bound it can never land -> expired, and a new envelope may be built; otherwise
 *    resubmit the SAME envelope.
 * 4. No pending envelope: lease a channel, read its sequence from the ledger, build and sign,
 *    PERSIST (hash, XDR, upper bound), and only then submit.
 * A timeout or 504 leaves the envelope pending and is reported as retryable.
 */
export class PaymentSubmitter {
  constructor(private readonly options: PaymentSubmitterOptions) {}

  /** @param onProgress called between network round trips (activities heartbeat there). */
  async pay(
    request: PaymentRequest,
    onProgress: (step: string) => void = () => undefined,
  ): Promise<PaymentConfirmation> {
    const { gateway, envelopes } = this.options;
    const existing = await envelopes.list(request.businessKey);
    const confirmed = existing.find((e) => e.status === 'confirmed');
    if (confirmed) return this.confirmation(confirmed, confirmed.ledger ?? 0, true);

    const pending = existing.filter((e) => e.status === 'built' || e.status === 'submitted');
    if (pending.length > 0) {
      const ledger = await gateway.latestLedger();
      for (const envelope of pending) {
        const found = await this.lookUp(envelope, onProgress);
        if (found.found && found.successful) return this.confirmation(envelope, found.ledger, true);
        if (found.found) {
          throw new TransactionRejectedError(
            `payment ${envelope.hash} failed on chain`,
            found.resultCodes,
            found.ledger,
          );
        }
      }
      const newest = pending[pending.length - 1]!;
      if (ledger.closedAt.getTime() <= newest.maxTime.getTime()) {
        return await this.submit(newest, false, onProgress);
      }
      await this.expire(pending, ledger);
    }

    const attempt = existing.reduce((max, e) => Math.max(max, e.attempt), 0) + 1;
    const built = await this.build(request, attempt, onProgress);
    if (!built) return await this.pay(request, onProgress); // a concurrent caller stored this attempt first
    return await this.submit(built, true, onProgress);
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
    const confirmed = existing.find((e) => e.status === 'confirmed');
    if (confirmed) return this.confirmation(confirmed, confirmed.ledger ?? 0, true);
    const pending = existing.filter((e) => e.status === 'built' || e.status === 'submitted');
    if (pending.length === 0) return undefined;
    const ledger = await gateway.latestLedger(); // before the lookups, as in pay()
    const notFound: StoredEnvelope[] = [];
    for (const envelope of pending) {
      const found = await this.lookUp(envelope, onProgress);
      if (found.found && found.successful) return this.confirmation(envelope, found.ledger, true);
      if (!found.found) notFound.push(envelope);
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

  private async build(
    request: PaymentRequest,
    attempt: number,
    onProgress: (step: string) => void,
  ): Promise<StoredEnvelope | undefined> {
    const { gateway } = this.options;
    const id = randomUUID();
    // The upper time bound is fixed when the lease is granted, not before waiting for one.
    const { channel, maxTime } = await this.leaseChannel(id, onProgress);
    try {
      const signer = this.options.channelSigners.get(channel);
      if (!signer) throw new Error(`no signing key for channel account ${channel}`);
      onProgress('sequence');
      const sequence = await gateway.sequenceOf(channel);
      const fee = Math.min(await gateway.recommendedFee(), this.options.maxFeePerOperation);
      const signed = gateway.buildPayment({
        channel: signer,
        channelSequence: sequence,
        from: this.options.distribution,
        destination: request.destination,
        amount: request.amount,
        memo: request.memo,
        feePerOperation: fee,
        maxTime,
      });
      const envelope = {
        id,
        businessKey: request.businessKey,
        attempt,
        hash: signed.hash,
        envelopeXdr: signed.envelopeXdr,
        channelAccount: channel,
        sequence: sequence + 1n,
        maxTime: signed.maxTime,
        destination: request.destination,
        amountStroops: request.amount,
        memo: request.memo,
      };
      if (!(await this.options.envelopes.insert(envelope))) {
        await this.options.channels.release(id);
        return undefined;
      }
      return { ...envelope, feeBumpXdr: null, status: 'built', ledger: null };
    } catch (error) {
      await this.options.channels.release(id);
      throw error;
    }
  }

  private async submit(
    envelope: StoredEnvelope,
    first: boolean,
    onProgress: (step: string) => void,
  ): Promise<PaymentConfirmation> {
    const { gateway, envelopes } = this.options;
    if (envelope.status === 'built') {
      await envelopes.setStatus(envelope.id, 'submitted');
      envelope = { ...envelope, status: 'submitted' };
    }
    onProgress(first ? 'submit' : 'resubmit');
    try {
      const { ledger } = await gateway.submit(envelope.feeBumpXdr ?? envelope.envelopeXdr, envelope.hash);
      await envelopes.recordAttempt(envelope.id, 'submit', 'included', `ledger ${ledger}`);
      await this.settle(envelope, 'confirmed', { ledger });
      return this.confirmation(envelope, ledger, false);
    } catch (raw) {
      const error = translateStellarError(raw, envelope.hash);
      await envelopes.recordAttempt(envelope.id, 'submit', error.type, error.message);
      if (error instanceof TransactionRejectedError) {
        if (error.resultCodes.transaction === 'tx_insufficient_fee' && !envelope.feeBumpXdr) {
          return await this.submit(await this.feeBump(envelope), false, onProgress);
        }
        if (!error.retryable) {
          await this.settle(envelope, 'failed', { resultCodes: error.resultCodes, ledger: error.ledger });
          throw error;
        }
      }
      // Retryable: the envelope stays pending; the next call looks its hash up first.
      throw error;
    }
  }

  private async feeBump(envelope: StoredEnvelope): Promise<StoredEnvelope> {
    const { gateway, envelopes } = this.options;
    const fee = Math.min(Math.max((await gateway.recommendedFee()) * 2, 200), this.options.maxFeePerOperation);
    // The fee bump pays for one operation plus the bump itself.
    const feeBumpXdr = gateway.feeBump(envelope.envelopeXdr, this.options.distribution, fee);
    await envelopes.setFeeBump(envelope.id, feeBumpXdr);
    await envelopes.recordAttempt(envelope.id, 'fee-bump', 'built', `fee ${fee} per operation`);
    return { ...envelope, feeBumpXdr };
  }

  /**
   * Leases a free channel until the new envelope's upper time bound plus the margin; both are
   * computed at each try, so time spent waiting never shortens (or outlives) the lease.
   */
  private async leaseChannel(
    holder: string,
    onProgress: (step: string) => void,
  ): Promise<{ channel: string; maxTime: Date }> {
    const deadline = Date.now() + (this.options.channelWaitMs ?? 15_000);
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      const maxTime = new Date(this.options.clock.now().getTime() + this.options.transactionTimeoutSeconds * 1000);
      const until = new Date(maxTime.getTime() + this.options.leaseMarginSeconds * 1000);
      const channel = await this.options.channels.lease(holder, until);
      if (channel) return { channel, maxTime };
      // About one ledger: a channel frees up when its payment is confirmed.
      if (Date.now() >= deadline) throw new StellarUnavailableError('every channel account is busy', 1);
      onProgress('waiting for a channel');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  private async settle(
    envelope: StoredEnvelope,
    status: 'confirmed' | 'failed' | 'expired',
    details?: { ledger?: number; resultCodes?: ResultCodes },
  ) {
    await this.options.envelopes.setStatus(envelope.id, status, details);
    await this.options.channels.release(envelope.id);
  }

  private confirmation(envelope: StoredEnvelope, ledger: number, alreadyPaid: boolean): PaymentConfirmation {
    return { hash: envelope.hash, ledger, attempt: envelope.attempt, alreadyPaid };
  }
}
