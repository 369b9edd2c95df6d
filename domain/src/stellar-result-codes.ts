/**
 * Stellar result codes under Horizon's names, as Horizon itself defines them (stellar-horizon
 * internal/codes: `String`, `ForOperationResult`; internal/txsub: `TransactionResultCodes`,
 * `OperationResultCodes`). Clients branch on these exact strings, and not all of them follow
 * the XDR names (`txNO_ACCOUNT` is `tx_no_source_account`, `invokeHostFunctionTrapped` is
 * `function_trapped`), so they are listed here, never derived from the enum names.
 *
 * The gateway, its error translation and the sandbox's Horizon all read codes through this one
 * module. Node only (it decodes XDR with the Stellar SDK): not exported from `@nova/domain`,
 * whose index the workflow bundle imports.
 */
import { xdr } from '@stellar/stellar-sdk';

type TransactionCodeName = xdr.TransactionResultCode['name'];

/** Every TransactionResultCode arm. */
export const HORIZON_TRANSACTION_CODES: Readonly<Record<TransactionCodeName, string>> = {
  txFeeBumpInnerSuccess: 'tx_fee_bump_inner_success',
  txSuccess: 'tx_success',
  txFailed: 'tx_failed',
  txTooEarly: 'tx_too_early',
  txTooLate: 'tx_too_late',
  txMissingOperation: 'tx_missing_operation',
  txBadSeq: 'tx_bad_seq',
  txBadAuth: 'tx_bad_auth',
  txInsufficientBalance: 'tx_insufficient_balance',
  txNoAccount: 'tx_no_source_account',
  txInsufficientFee: 'tx_insufficient_fee',
  txBadAuthExtra: 'tx_bad_auth_extra',
  txInternalError: 'tx_internal_error',
  txNotSupported: 'tx_not_supported',
  txFeeBumpInnerFailed: 'tx_fee_bump_inner_failed',
  txBadSponsorship: 'tx_bad_sponsorship',
  txBadMinSeqAgeOrGap: 'tx_bad_minseq_age_or_gap',
  txMalformed: 'tx_malformed',
  txSorobanInvalid: 'tx_soroban_invalid',
  // Newer than Horizon's table (CAP-77); core's name in Horizon's form.
  txFrozenKeyAccessed: 'tx_frozen_key_accessed',
};

/** OperationResultCode: why an operation did not run at all (opInner carries the operation's own code). */
export const HORIZON_OPERATION_CODES: Readonly<Record<xdr.OperationResultCode['name'], string>> = {
  opInner: 'op_inner',
  opBadAuth: 'op_bad_auth',
  opNoAccount: 'op_no_source_account',
  opNotSupported: 'op_not_supported',
  opTooManySubentries: 'op_too_many_subentries',
  opExceededWorkLimit: 'op_exceeded_work_limit',
  // Horizon's table has no arm for it (its String() answers ErrUnknownCode); core's name in Horizon's form.
  opTooManySponsoring: 'op_too_many_sponsoring',
};

/** The operation results of every operation type the platform submits, keyed by xdr.OperationType name. */
export const HORIZON_INNER_OPERATION_CODES: {
  readonly createAccount: Readonly<Record<xdr.CreateAccountResultCode['name'], string>>;
  readonly payment: Readonly<Record<xdr.PaymentResultCode['name'], string>>;
  readonly changeTrust: Readonly<Record<xdr.ChangeTrustResultCode['name'], string>>;
  readonly invokeHostFunction: Readonly<Record<xdr.InvokeHostFunctionResultCode['name'], string>>;
  readonly extendFootprintTtl: Readonly<Record<xdr.ExtendFootprintTtlResultCode['name'], string>>;
  readonly restoreFootprint: Readonly<Record<xdr.RestoreFootprintResultCode['name'], string>>;
} = {
  createAccount: {
    createAccountSuccess: 'op_success',
    createAccountMalformed: 'op_malformed',
    createAccountUnderfunded: 'op_underfunded',
    createAccountLowReserve: 'op_low_reserve',
    createAccountAlreadyExist: 'op_already_exists',
  },
  payment: {
    paymentSuccess: 'op_success',
    paymentMalformed: 'op_malformed',
    paymentUnderfunded: 'op_underfunded',
    paymentSrcNoTrust: 'op_src_no_trust',
    paymentSrcNotAuthorized: 'op_src_not_authorized',
    paymentNoDestination: 'op_no_destination',
    paymentNoTrust: 'op_no_trust',
    paymentNotAuthorized: 'op_not_authorized',
    paymentLineFull: 'op_line_full',
    paymentNoIssuer: 'op_no_issuer',
  },
  changeTrust: {
    changeTrustSuccess: 'op_success',
    changeTrustMalformed: 'op_malformed',
    changeTrustNoIssuer: 'op_no_issuer',
    changeTrustInvalidLimit: 'op_invalid_limit',
    changeTrustLowReserve: 'op_low_reserve',
    changeTrustSelfNotAllowed: 'op_self_not_allowed',
    changeTrustTrustLineMissing: 'op_trust_line_missing',
    changeTrustCannotDelete: 'op_cannot_delete',
    // Horizon's spelling (sic).
    changeTrustNotAuthMaintainLiabilities: 'op_not_aut_maintain_liabilities',
  },
  invokeHostFunction: {
    invokeHostFunctionSuccess: 'op_success',
    invokeHostFunctionMalformed: 'op_malformed',
    invokeHostFunctionTrapped: 'function_trapped',
    invokeHostFunctionResourceLimitExceeded: 'resource_limit_exceeded',
    invokeHostFunctionEntryArchived: 'entry_archived',
    invokeHostFunctionInsufficientRefundableFee: 'insufficient_refundable_fee',
  },
  extendFootprintTtl: {
    extendFootprintTtlSuccess: 'op_success',
    extendFootprintTtlMalformed: 'op_malformed',
    extendFootprintTtlResourceLimitExceeded: 'resource_limit_exceeded',
    extendFootprintTtlInsufficientRefundableFee: 'insufficient_refundable_fee',
  },
  restoreFootprint: {
    restoreFootprintSuccess: 'op_success',
    restoreFootprintMalformed: 'op_malformed',
    restoreFootprintResourceLimitExceeded: 'resource_limit_exceeded',
    restoreFootprintInsufficientRefundableFee: 'insufficient_refundable_fee',
  },
};

/** `extras.result_codes` of Horizon's transaction_failed problem. */
export interface HorizonResultCodes {
  transaction: string;
  /** Set for a fee bump: the inner transaction's code (`transaction` is then tx_fee_bump_inner_*). */
  inner_transaction?: string;
  /** One per operation, present only when the (inner) transaction got as far as its operations. */
  operations?: string[];
}

export function transactionCodeString(code: xdr.TransactionResultCode): string {
  return HORIZON_TRANSACTION_CODES[code.name];
}

/**
 * An operation's code. An operation type the platform never submits keeps its XDR name
 * (e.g. `manageDataNameNotFound`), which no Horizon code can be mistaken for.
 */
export function operationCodeString(result: xdr.OperationResult): string {
  const outer = result.switch().name;
  if (outer !== 'opInner') return HORIZON_OPERATION_CODES[outer];
  const tr = result.tr();
  const table = (HORIZON_INNER_OPERATION_CODES as Partial<Record<string, Readonly<Record<string, string>>>>)[
    tr.switch().name
  ];
  const code = (tr.value() as { switch(): { name: string } }).switch().name;
  return table?.[code] ?? code;
}

type ResultArm = xdr.TransactionResultResult | xdr.InnerTransactionResultResult;

function operationCodesOf(arm: ResultArm): string[] | undefined {
  const name = arm.switch().name;
  return name === 'txSuccess' || name === 'txFailed' ? arm.results().map(operationCodeString) : undefined;
}

/** Horizon's `result_codes` for a transaction result; a fee bump's operations are its inner transaction's. */
export function horizonResultCodes(result: xdr.TransactionResult): HorizonResultCodes {
  const arm = result.result();
  const code = arm.switch();
  const codes: HorizonResultCodes = { transaction: transactionCodeString(code) };
  let operationsArm: ResultArm = arm;
  if (code.name === 'txFeeBumpInnerSuccess' || code.name === 'txFeeBumpInnerFailed') {
    operationsArm = arm.innerResultPair().result().result();
    codes.inner_transaction = transactionCodeString(operationsArm.switch());
  }
  const operations = operationCodesOf(operationsArm);
  if (operations) codes.operations = operations;
  return codes;
}

/** As horizonResultCodes, from a base64 TransactionResult (Horizon's result_xdr, RPC's resultXdr). */
export function horizonResultCodesFromXdr(resultXdr: string): HorizonResultCodes {
  return horizonResultCodes(xdr.TransactionResult.fromXDR(resultXdr, 'base64'));
}

/**
 * The codes that decide what happened: for a fee bump the inner transaction's (the outer
 * tx_fee_bump_inner_failed only says that the inner one failed), with its operations.
 */
export function decisiveResultCodes(codes: HorizonResultCodes): { transaction: string; operations: string[] } {
  return { transaction: codes.inner_transaction ?? codes.transaction, operations: codes.operations ?? [] };
}
