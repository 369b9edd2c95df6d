import { PAYMENT_REFUSALS } from '@nova/domain';
import { decisiveResultCodes, type HorizonResultCodes } from '@nova/domain/stellar-result-codes';

/**
 * Every failure the Stellar gateway reports is one of these classes, decided once here at
 * the boundary, so activities never inspect SDK or HTTP errors themselves.
 *
 * retryable: the same step may succeed later (rate limit, outage, timeout).
 * final: the network refused the transaction for a reason that retrying cannot change.
 */
export abstract class StellarError extends Error {
  abstract readonly retryable: boolean;
  /** A stable name that activities use as the ApplicationFailure type. */
  abstract readonly type: string;
}

/** Horizon or Soroban RPC did not answer usefully (5xx, 429, connection refused, read timeout). */
export class StellarUnavailableError extends StellarError {
  readonly retryable = true;
  readonly type = 'StellarUnavailable';
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'StellarUnavailableError';
  }
}

/**
 * A submission whose outcome is unknown (504, timeout, connection dropped after sending).
 * The transaction may still land: look its hash up and resubmit the SAME envelope; never
 * build a new one until a ledger has closed past the envelope's upper time bound.
 */
export class SubmissionIndeterminateError extends StellarError {
  readonly retryable = true;
  readonly type = 'SubmissionIndeterminate';
  constructor(
    message: string,
    readonly hash: string,
  ) {
    super(message);
    this.name = 'SubmissionIndeterminateError';
  }
}

/** Horizon's codes that decide a failure: for a fee bump, its inner transaction's. */
export interface ResultCodes {
  transaction: string;
  operations: string[];
}

/** Result codes that are worth another try with the same intent (possibly a new envelope). */
const RETRYABLE_CODES = new Set([
  'tx_insufficient_fee', // fee bump and resubmit
  'tx_bad_seq', // the channel's sequence moved: the envelope can never land; wait for its bound
  'tx_too_late', // the envelope expired before inclusion: build a new one
  'tx_too_early',
  'try_again_later',
]);

/** Business-level names for the final refusals a merchant or admin needs to tell apart. */
const FINAL_TYPES: Readonly<Record<string, string>> = PAYMENT_REFUSALS;

/** The network refused or failed the transaction; `resultCodes` are Horizon's. */
export class TransactionRejectedError extends StellarError {
  readonly retryable: boolean;
  readonly type: string;
  constructor(
    message: string,
    readonly resultCodes: ResultCodes,
    /** Set when the transaction was included in a ledger (failed ops still consume fee and sequence). */
    readonly ledger?: number,
  ) {
    super(message);
    this.name = 'TransactionRejectedError';
    const decisive = resultCodes.operations.find((code) => code !== 'op_success') ?? resultCodes.transaction;
    this.retryable = RETRYABLE_CODES.has(resultCodes.transaction);
    this.type = this.retryable ? 'TransactionRetryable' : (FINAL_TYPES[decisive] ?? 'TransactionFailed');
  }
}

/** The server refused the request itself (4xx other than the above): a bug or bad input, not worth a retry. */
export class StellarRequestError extends StellarError {
  readonly retryable = false;
  readonly type = 'StellarRequestRefused';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'StellarRequestError';
  }
}

/** Simulation refused the call (unknown function, wrong argument types, a host error): retrying the same call cannot help. */
export class SimulationFailedError extends StellarError {
  readonly retryable = false;
  readonly type = 'SimulationFailed';
  constructor(message: string) {
    super(message);
    this.name = 'SimulationFailedError';
  }
}

/** The gateway failed before anything reached the network (a programming error or bad input). */
export class GatewayInternalError extends StellarError {
  readonly retryable = false;
  readonly type = 'GatewayInternalError';
  constructor(message: string) {
    super(message);
    this.name = 'GatewayInternalError';
  }
}

/** A Soroban contract returned one of its numbered errors (always final: the contract said no). */
export class ContractError extends StellarError {
  readonly retryable = false;
  readonly type = 'ContractError';
  constructor(
    message: string,
    readonly contractId: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'ContractError';
  }
}

/**
 * Soroban RPC no longer holds the ledger a getEvents request starts at (its cursor or
 * startLedger): it fell out of the RPC's retention window. Final for that request; the caller
 * decides what to do about the ledgers it can no longer read (the indexer records a gap).
 */
export class EventsOutsideRetentionError extends StellarError {
  readonly retryable = false;
  readonly type = 'ContractEventsOutsideRetention';
  constructor(
    message: string,
    /** The ledger the request started at. */
    readonly requestedLedger: number,
    /** The oldest and latest ledgers the RPC serves now. */
    readonly oldestLedger: number,
    readonly latestLedger: number,
  ) {
    super(message);
    this.name = 'EventsOutsideRetentionError';
  }
}

interface HttpLikeError {
  code?: string;
  message?: string;
  response?: {
    status?: number;
    headers?: Record<string, unknown>;
    data?: {
      title?: string;
      detail?: string;
      extras?: { result_codes?: Partial<HorizonResultCodes> };
    };
  };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_NETWORK',
  'ERR_CANCELED',
]);

function retryAfter(headers: Record<string, unknown> | undefined): number | undefined {
  const raw = headers?.['retry-after'];
  const seconds = Number(typeof raw === 'string' || typeof raw === 'number' ? raw : NaN);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/**
 * Translates whatever the SDK threw into a StellarError.
 * @param submittedHash set when translating the error of a submission: then a timeout or a
 *   504 means "indeterminate", since the transaction may have reached the network.
 */
export function translateStellarError(error: unknown, submittedHash?: string): StellarError {
  if (error instanceof StellarError) return error;
  const e = (error ?? {}) as HttpLikeError;
  const status = e.response?.status;
  const codes = e.response?.data?.extras?.result_codes;
  if (status === 400 && codes?.transaction) {
    // A fee bump's answer is tx_fee_bump_inner_failed; what happened is in inner_transaction.
    const decisive = decisiveResultCodes({ ...codes, transaction: codes.transaction });
    const outer = codes.inner_transaction ? `${codes.transaction} > ` : '';
    return new TransactionRejectedError(
      `transaction refused: ${outer}${decisive.transaction}${decisive.operations.length ? ` [${decisive.operations.join(', ')}]` : ''}`,
      decisive,
    );
  }
  if (status === 429) {
    return new StellarUnavailableError('rate limited (429)', retryAfter(e.response?.headers));
  }
  if (submittedHash && (status === 504 || status === undefined)) {
    return new SubmissionIndeterminateError(
      `submission outcome unknown (${status ?? e.code ?? e.message ?? 'no response'}): look the hash up`,
      submittedHash,
    );
  }
  if (status !== undefined && status >= 500) {
    return new StellarUnavailableError(
      `server error ${status}${e.response?.data?.title ? `: ${e.response.data.title}` : ''}`,
    );
  }
  if (
    status === undefined &&
    (NETWORK_CODES.has(e.code ?? '') || /timeout|socket hang up|network/i.test(e.message ?? ''))
  ) {
    return new StellarUnavailableError(`network error: ${e.code ?? e.message}`);
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return new StellarRequestError(
      `request refused (${status}): ${e.response?.data?.detail ?? e.response?.data?.title ?? e.message ?? ''}`,
      status,
    );
  }
  if (status === undefined) {
    // Not an answer from the network: a local fault (a bug, bad input). Retrying cannot help.
    return new GatewayInternalError(e.message ?? String(error));
  }
  return new StellarUnavailableError(`unexpected response ${status}: ${e.message ?? ''}`.trim());
}
