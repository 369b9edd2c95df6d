import { randomUUID } from 'node:crypto';
import type { Keypair } from '@stellar/stellar-sdk';
import { batchMemo } from '@nova/domain/memos';
import type { Clock } from '../clock';
import { recordChannelLeaseWait, recordPaymentBatch } from '../metrics';
import { StellarUnavailableError } from './errors';
import { MAX_OPERATIONS_PER_TRANSACTION, type StellarGateway } from './gateway';
import type { ChannelPool, EnvelopeSource, JournalItem, TransactionJournal } from './journal';

export interface PaymentRequest {
  /** The business record paying, e.g. "issuance/<id>": at most one successful payment per key. */
  businessKey: string;
  destination: string;
  amount: bigint;
  /** Text memo (<= 28 bytes) identifying the business record; the transaction's memo when it pays this record alone. */
  memo: string;
}

export interface PaymentBatchSourceOptions {
  journal: TransactionJournal;
  gateway: StellarGateway;
  channels: ChannelPool;
  distribution: Keypair;
  channelSigners: ReadonlyMap<string, Keypair>;
  clock: Clock;
  /** Upper time bound of each envelope, from the moment its channel is leased. */
  transactionTimeoutSeconds: number;
  /** A lease outlives its envelope's upper bound by this much (clock skew between us and the network). */
  leaseMarginSeconds: number;
  /** Fee per operation never goes above this. */
  maxFeePerOperation: number;
  /** How long a payment waits for a free channel before reporting a retryable failure; default 15 s. */
  channelWaitMs?: number;
  /** Payments one transaction carries at most (1 turns batching off); default 100, Stellar's limit. */
  maxPaymentsPerTransaction?: number;
}

interface QueuedPayment {
  request: PaymentRequest;
  attempt: number;
  since: number;
  resolve(item: JournalItem | undefined): void;
  reject(error: unknown): void;
}

/**
 * The journal's source of platform-built payments: batches on channel accounts. Whenever a
 * channel is free, the payments waiting for one (up to the batch size) become one transaction,
 * one payment operation each, sourced from the channel (which pays the fee and provides the
 * sequence number) and paid from the distribution account. A lone payment with a free channel
 * leaves at once; payments that wait while every channel is busy are what make batches. The
 * channel stays leased (under the transaction's id) until the journal settles it.
 */
export class PaymentBatchSource implements EnvelopeSource<PaymentRequest> {
  readonly kind = 'payment_batch' as const;
  private readonly queue: QueuedPayment[] = [];
  private pumping = false;
  private wakePump: (() => void) | undefined;

  constructor(private readonly options: PaymentBatchSourceOptions) {
    // A settled transaction frees its channel: waiting payments may leave now.
    options.journal.onSettled(() => this.wakePump?.());
  }

  /** Payments waiting for a channel account right now. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Pays exactly once per business key (see TransactionJournal). */
  pay(request: PaymentRequest, onProgress?: (step: string) => void) {
    return this.options.journal.run(request.businessKey, this, request, onProgress);
  }

  /** Waits for the payment to be built into a persisted transaction; undefined when another caller holds this attempt. */
  prepare(request: PaymentRequest, attempt: number): Promise<JournalItem | undefined> {
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
          const group = this.queue.splice(0, batchSize);
          const leasedAt = Date.now();
          for (const queued of group) recordChannelLeaseWait((leasedAt - queued.since) / 1000);
          void this.buildEnvelope(id, channel, maxTime, group);
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

  /** Builds, signs and records one transaction for `group` on the leased `channel`, and hands each caller its payment. */
  private async buildEnvelope(id: string, channel: string, maxTime: Date, group: QueuedPayment[]): Promise<void> {
    const { gateway } = this.options;
    // Callers paying the same key at once (a retry racing its predecessor) share one payment.
    const callers = new Map<string, QueuedPayment[]>();
    for (const queued of group) {
      const same = callers.get(queued.request.businessKey);
      if (same) same.push(queued);
      else callers.set(queued.request.businessKey, [queued]);
    }
    const answer = (key: string, item: JournalItem | undefined) => {
      for (const queued of callers.get(key) ?? []) queued.resolve(item);
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
        const { items, conflicts } = await this.options.journal.record(
          { id, source: 'payment_batch', envelopeXdr: signed.envelopeXdr },
          members.map((m, opIndex) => ({
            opIndex,
            businessKey: m.request.businessKey,
            attempt: m.attempt,
            destination: m.request.destination,
            amountStroops: m.request.amount,
            memo: m.request.memo,
          })),
        );
        if (conflicts.length === 0) {
          recordPaymentBatch(members.length);
          for (const item of items) answer(item.businessKey, item);
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
}
