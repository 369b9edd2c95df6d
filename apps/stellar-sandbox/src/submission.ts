/**
 * One submission path for Horizon (sync and async) and RPC sendTransaction: decode, apply
 * the faults that target the submission, answer duplicates from history or the queue,
 * refuse envelopes that are invalid right now (as core's queue does), then enqueue.
 */
import type { xdr } from '@stellar/stellar-sdk';
import { accountsInvolved, MalformedEnvelopeError, parseEnvelope, type ParsedEnvelope } from './envelope';
import type { ActiveFault, FaultKind, FaultRegistry, FaultTarget } from './faults';
import type { LedgerCloser, PendingTransaction } from './ledger-closer';
import type { LedgerState, TransactionRecord } from './ledger-state';
import { validateTransaction } from './transaction-validator';

export type SubmissionDecision =
  | { kind: 'malformed'; message: string; envelopeXdr: string }
  /** A targeted stopResponding fault: the caller must never answer. */
  | { kind: 'hang' }
  | { kind: 'rateLimited'; retryAfterSeconds: number }
  | { kind: 'known'; hash: string; record: TransactionRecord }
  | { kind: 'pending'; hash: string; pending: PendingTransaction }
  | { kind: 'rejected'; hash: string; envelopeXdr: string; result: xdr.TransactionResult }
  | { kind: 'tryAgainLater'; hash: string }
  | {
      kind: 'accepted';
      hash: string;
      envelopeXdr: string;
      /** Undefined when a drop fault swallowed the submission: it will never land. */
      pending?: PendingTransaction;
      respond504: boolean;
    };

export interface TransactionSubmitterOptions {
  state: LedgerState;
  closer: LedgerCloser;
  faults: FaultRegistry;
  networkPassphrase: string;
  ledgerIntervalMs: number;
  log: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

export class TransactionSubmitter {
  constructor(private readonly options: TransactionSubmitterOptions) {}

  /** `applyFaults: false` is for the sandbox's own submissions (genesis, friendbot). */
  submit(envelopeXdr: string, { applyFaults = true }: { applyFaults?: boolean } = {}): SubmissionDecision {
    const { state, closer, faults, log } = this.options;
    let envelope: ParsedEnvelope;
    try {
      envelope = parseEnvelope(envelopeXdr, this.options.networkPassphrase);
    } catch (error) {
      if (error instanceof MalformedEnvelopeError) return { kind: 'malformed', message: error.message, envelopeXdr };
      throw error;
    }
    const hash = envelope.hash;
    const target: FaultTarget = { accounts: accountsInvolved(envelope) };
    if (envelope.inner.memo.type === 'text' && envelope.inner.memo.value !== undefined) {
      target.memoText = envelope.inner.memo.value;
    }
    const take = (kind: FaultKind, targetedOnly = false): ActiveFault | undefined => {
      if (!applyFaults) return undefined;
      const fault = faults.takeForSubmission(kind, target, targetedOnly);
      if (fault) log('info', 'fault fired', { fault: kind, faultId: fault.id, hash });
      return fault;
    };

    // Transport-level faults that target this submission (untargeted ones were applied per request).
    if (take('stopResponding', true)) return { kind: 'hang' };
    const rateLimit = take('rateLimit', true);
    if (rateLimit) {
      return { kind: 'rateLimited', retryAfterSeconds: rateLimit.retryAfterSeconds ?? 1 };
    }

    const known = state.transaction(hash);
    if (known) return { kind: 'known', hash, record: known };
    const pending = closer.pending(hash);
    if (pending) return { kind: 'pending', hash, pending };

    const nowSeconds = closer.nowSeconds();
    const validity = validateTransaction(envelope, {
      account: (id) => state.account(id),
      currentSequence: (id) => closer.currentSequence(id),
      closeTimeLowerBound: nowSeconds,
      // The next ledger may close up to one interval from now.
      closeTimeUpperBound: nowSeconds + BigInt(Math.ceil(this.options.ledgerIntervalMs / 1000)),
      ledgerSeq: closer.nextLedgerSequence(),
      checkSignatures: true,
    });
    if (!validity.ok) {
      return { kind: 'rejected', hash, envelopeXdr: envelope.envelopeXdr, result: validity.result };
    }

    if (take('tryAgainLater')) return { kind: 'tryAgainLater', hash };
    const respond504 = take('respond504ButApply') !== undefined;
    if (take('drop')) return { kind: 'accepted', hash, envelopeXdr: envelope.envelopeXdr, respond504 };
    const delay = take('delayInclusion');
    const queued: PendingTransaction = {
      envelope,
      notBeforeLedger: closer.nextLedgerSequence() + (delay?.ledgers ?? 0),
      waiters: [],
    };
    if (target.memoText !== undefined) queued.memoText = target.memoText;
    closer.enqueue(queued);
    return { kind: 'accepted', hash, envelopeXdr: envelope.envelopeXdr, pending: queued, respond504 };
  }
}
