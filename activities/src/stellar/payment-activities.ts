import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { StellarError, StellarUnavailableError, TransactionRejectedError } from './errors';
import type { StellarGateway } from './gateway';
import type { TransactionJournal } from './journal';
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

function heartbeat(step: string): void {
  try {
    Context.current().heartbeat(step);
  } catch {
    // Not inside an activity (e.g. a unit test calling the function directly).
  }
}

/** Stellar side effects of the reward workflows. */
export function createPaymentActivities(deps: {
  gateway: StellarGateway;
  journal: TransactionJournal;
  payments: PaymentBatchSource;
}) {
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
