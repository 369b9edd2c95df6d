/**
 * TransactionResult XDR as core produces it. The result_codes strings Horizon derives from it
 * come from the platform's one table (@nova/domain/stellar-result-codes), which the gateway
 * reads them with too.
 */
import { xdr } from '@stellar/stellar-sdk';

export { horizonResultCodes, type HorizonResultCodes } from '@nova/domain/stellar-result-codes';

/** TransactionResultCode arms that carry no operation results. */
export type TxFailureCode =
  | 'txTooEarly'
  | 'txTooLate'
  | 'txMissingOperation'
  | 'txBadSeq'
  | 'txBadAuth'
  | 'txInsufficientBalance'
  | 'txNoAccount'
  | 'txInsufficientFee'
  | 'txBadAuthExtra'
  | 'txInternalError'
  | 'txNotSupported'
  | 'txBadMinSeqAgeOrGap'
  | 'txMalformed'
  | 'txSorobanInvalid';

export type CreateAccountCode =
  | 'createAccountSuccess'
  | 'createAccountMalformed'
  | 'createAccountUnderfunded'
  | 'createAccountLowReserve'
  | 'createAccountAlreadyExist';

export type PaymentCode =
  | 'paymentSuccess'
  | 'paymentMalformed'
  | 'paymentUnderfunded'
  | 'paymentSrcNoTrust'
  | 'paymentSrcNotAuthorized'
  | 'paymentNoDestination'
  | 'paymentNoTrust'
  | 'paymentNotAuthorized'
  | 'paymentLineFull';

export type ChangeTrustCode =
  | 'changeTrustSuccess'
  | 'changeTrustMalformed'
  | 'changeTrustNoIssuer'
  | 'changeTrustInvalidLimit'
  | 'changeTrustLowReserve';

export type InvokeHostFunctionFailureCode = 'invokeHostFunctionMalformed' | 'invokeHostFunctionTrapped';

export const operationResults = {
  badAuth: (): xdr.OperationResult => xdr.OperationResult.opBadAuth(),
  noSourceAccount: (): xdr.OperationResult => xdr.OperationResult.opNoAccount(),
  notSupported: (): xdr.OperationResult => xdr.OperationResult.opNotSupported(),
  createAccount: (code: CreateAccountCode): xdr.OperationResult =>
    xdr.OperationResult.opInner(xdr.OperationResultTr.createAccount(xdr.CreateAccountResult[code]())),
  payment: (code: PaymentCode): xdr.OperationResult =>
    xdr.OperationResult.opInner(xdr.OperationResultTr.payment(xdr.PaymentResult[code]())),
  changeTrust: (code: ChangeTrustCode): xdr.OperationResult =>
    xdr.OperationResult.opInner(xdr.OperationResultTr.changeTrust(xdr.ChangeTrustResult[code]())),
  invokeHostFunctionSuccess: (successHash: Buffer): xdr.OperationResult =>
    xdr.OperationResult.opInner(
      xdr.OperationResultTr.invokeHostFunction(xdr.InvokeHostFunctionResult.invokeHostFunctionSuccess(successHash)),
    ),
  invokeHostFunctionFailure: (code: InvokeHostFunctionFailureCode): xdr.OperationResult =>
    xdr.OperationResult.opInner(xdr.OperationResultTr.invokeHostFunction(xdr.InvokeHostFunctionResult[code]())),
};

export function isOperationSuccess(result: xdr.OperationResult): boolean {
  if (result.switch().name !== 'opInner') return false;
  return /Success$/.test((result.tr().value() as { switch(): { name: string } }).switch().name);
}

/** The outcome of a transaction's own checks: a failure code, or its operation results. */
export type TxOutcome = { code: 'txSuccess' | 'txFailed'; operations: xdr.OperationResult[] } | { code: TxFailureCode };

export function transactionResult(feeCharged: bigint, outcome: TxOutcome): xdr.TransactionResult {
  return new xdr.TransactionResult({
    feeCharged: new xdr.Int64(feeCharged),
    result: resultArm(outcome, xdr.TransactionResultResult),
    ext: new xdr.TransactionResultExt(0),
  });
}

/** Fee bumps wrap the inner outcome (the inner fee charged is 0: the fee source paid). */
export function feeBumpResult(feeCharged: bigint, innerHash: Buffer, inner: TxOutcome): xdr.TransactionResult {
  const innerResult = new xdr.InnerTransactionResult({
    feeCharged: new xdr.Int64(0n),
    result: resultArm(inner, xdr.InnerTransactionResultResult),
    ext: new xdr.InnerTransactionResultExt(0),
  });
  const pair = new xdr.InnerTransactionResultPair({ transactionHash: innerHash, result: innerResult });
  return new xdr.TransactionResult({
    feeCharged: new xdr.Int64(feeCharged),
    result:
      inner.code === 'txSuccess'
        ? xdr.TransactionResultResult.txFeeBumpInnerSuccess(pair)
        : xdr.TransactionResultResult.txFeeBumpInnerFailed(pair),
    ext: new xdr.TransactionResultExt(0),
  });
}

interface ResultArmFactory<T> {
  txSuccess(value: xdr.OperationResult[]): T;
  txFailed(value: xdr.OperationResult[]): T;
  txTooEarly(): T;
  txTooLate(): T;
  txMissingOperation(): T;
  txBadSeq(): T;
  txBadAuth(): T;
  txInsufficientBalance(): T;
  txNoAccount(): T;
  txInsufficientFee(): T;
  txBadAuthExtra(): T;
  txInternalError(): T;
  txNotSupported(): T;
  txBadMinSeqAgeOrGap(): T;
  txMalformed(): T;
  txSorobanInvalid(): T;
}

function resultArm<T>(outcome: TxOutcome, factory: ResultArmFactory<T>): T {
  if (outcome.code === 'txSuccess' || outcome.code === 'txFailed') {
    return factory[outcome.code]((outcome as { operations: xdr.OperationResult[] }).operations);
  }
  return factory[outcome.code]();
}
