import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { HOLDER_PAYMENT_REFUSALS, redemptionKeys } from '@nova/domain';
import { StellarError, StellarUnavailableError, TransactionRejectedError } from './errors';
import type { StellarGateway } from './gateway';
import {
  EnvelopeExpiredError,
  EnvelopeMismatchError,
  EnvelopeRefusedError,
  SignedEnvelopeSource,
  type TransactionJournal,
} from './journal';
import type { PaymentBatchSource } from './payment-batch-source';

export interface TrustlineCheckInput {
  walletAddress: string;
  /** Stroops, as a decimal string (activity payloads are JSON: no bigint). */
  amountStroops: string;
}

export type TrustlineCheckResult =
  | { status: 'ok' }
  | { status: 'account-missing' }
  | { status: 'trustline-missing' }
  | { status: 'not-authorized' }
  | { status: 'limit-exceeded'; headroomStroops: string };

export interface PaymentInput {
  businessKey: string;
  walletAddress: string;
  amountStroops: string;
  memo: string;
}

export interface PaymentResult {
  txHash: string;
  ledger: number;
  attempt: number;
  /** The payment's operation index in its transaction (a transaction may pay several records). */
  opIndex?: number;
  alreadyPaid: boolean;
}

/** Turns a gateway error into the failure Temporal acts on: retry (with the server's delay) or stop. */
export function toActivityFailure(error: unknown): unknown {
  if (!(error instanceof StellarError)) return error;
  const details =
    error instanceof TransactionRejectedError ? [{ resultCodes: error.resultCodes, ledger: error.ledger }] : [];
  return ApplicationFailure.create({
    message: error.message,
    type: error.type,
    nonRetryable: !error.retryable,
    details,
    ...(error instanceof StellarUnavailableError && error.retryAfterSeconds !== undefined
      ? { nextRetryDelay: `${error.retryAfterSeconds} seconds` }
      : {}),
  });
}

/**
 * Heartbeats when called inside an activity (the journal reports progress through it; the
 * reconciliation its position, which a retry reads back from the heartbeat details).
 */
export function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Not inside an activity (e.g. a unit test calling the function directly).
  }
}

/**
 * A holder's envelope that can never land, as the redemption sees it: typed by Horizon's
 * decisive code (HOLDER_PAYMENT_REFUSALS), QuoteExpired past its own time bound, final.
 */
export function holderPaymentFailure(error: unknown): unknown {
  if (error instanceof EnvelopeExpiredError) {
    return ApplicationFailure.nonRetryable(error.message, 'QuoteExpired', { hash: error.hash });
  }
  if (error instanceof EnvelopeRefusedError) {
    const { resultCodes } = error;
    const decisive = resultCodes.operations.find((code) => code !== 'op_success') ?? resultCodes.transaction;
    const type = (HOLDER_PAYMENT_REFUSALS as Record<string, string>)[decisive] ?? 'PaymentRefused';
    return ApplicationFailure.nonRetryable(`${error.message} (${decisive})`, type, {
      resultCodes,
      ledger: error.ledger,
    });
  }
  if (error instanceof EnvelopeMismatchError) {
    return ApplicationFailure.nonRetryable(error.message, 'PaymentRefused', { hash: error.hash });
  }
  return toActivityFailure(error);
}

/** Stellar side effects of the reward workflows. */
export function createPaymentActivities(deps: {
  gateway: StellarGateway;
  journal: TransactionJournal;
  payments: PaymentBatchSource;
}) {
  const signedEnvelopes = new SignedEnvelopeSource(deps.journal);
  return {
    async checkTrustline(input: TrustlineCheckInput): Promise<TrustlineCheckResult> {
      try {
        const check = await deps.gateway.checkTrustline(input.walletAddress, BigInt(input.amountStroops));
        if (check.status === 'limit-exceeded')
          return { status: check.status, headroomStroops: check.headroom.toString() };
        return { status: check.status };
      } catch (error) {
        throw toActivityFailure(error);
      }
    },

    /** Pays exactly once per business key (see TransactionJournal); safe to retry and to replay. */
    async submitPayment(input: PaymentInput): Promise<PaymentResult> {
      try {
        const confirmation = await deps.payments.pay(
          {
            businessKey: input.businessKey,
            destination: input.walletAddress,
            amount: BigInt(input.amountStroops),
            memo: input.memo,
          },
          heartbeat,
        );
        return {
          txHash: confirmation.hash,
          ledger: confirmation.ledger,
          attempt: confirmation.attempt,
          opIndex: confirmation.opIndex,
          alreadyPaid: confirmation.alreadyLanded,
        };
      } catch (error) {
        throw toActivityFailure(error);
      }
    },

    /**
     * Submits the holder's signed payment of a redemption exactly once: journaled as it is on
     * the first call, resubmitted as it is on timeouts (never rebuilt); its own upper time bound
     * is the limit, past which it is QuoteExpired.
     */
    async submitHolderPayment(input: { redemptionId: string; envelopeXdr: string }): Promise<PaymentResult> {
      try {
        const confirmation = await deps.journal.run(
          redemptionKeys.payment(input.redemptionId),
          signedEnvelopes,
          { businessKey: redemptionKeys.payment(input.redemptionId), envelopeXdr: input.envelopeXdr },
          heartbeat,
        );
        return {
          txHash: confirmation.hash,
          ledger: confirmation.ledger,
          attempt: confirmation.attempt,
          alreadyPaid: confirmation.alreadyLanded,
        };
      } catch (error) {
        throw holderPaymentFailure(error);
      }
    },

    /** Before failing a business record: was it paid after all? Retries while an envelope may still land. */
    async resolvePayment(input: { businessKey: string }): Promise<PaymentResolution> {
      try {
        const confirmation = await deps.journal.resolve(input.businessKey, heartbeat);
        if (!confirmation) return { paid: false };
        return {
          paid: true,
          txHash: confirmation.hash,
          ledger: confirmation.ledger,
          attempt: confirmation.attempt,
          opIndex: confirmation.opIndex,
          alreadyPaid: true,
        };
      } catch (error) {
        throw toActivityFailure(error);
      }
    },
  };
}

export type PaymentResolution = ({ paid: true } & PaymentResult) | { paid: false };

export type PaymentActivities = ReturnType<typeof createPaymentActivities>;
