import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { xdr } from '@stellar/stellar-sdk';
import {
  decisiveResultCodes,
  horizonResultCodes,
  horizonResultCodesFromXdr,
  operationCodeString,
} from '@nova/domain/stellar-result-codes';

// Written by hand from Horizon's own definitions (stellar-horizon internal/codes/main.go,
// `String` and `ForOperationResult`), keyed by the SDK's XDR enum names. Not derived from the
// module under test: a wrong or missing entry there must fail here.
const TRANSACTION_CODES: Record<string, string> = {
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
  // Not (yet) in Horizon's table: core's txFROZEN_KEY_ACCESSED in Horizon's form.
  txFrozenKeyAccessed: 'tx_frozen_key_accessed',
};

const OPERATION_CODES: Record<string, string> = {
  opBadAuth: 'op_bad_auth',
  opNoAccount: 'op_no_source_account',
  opNotSupported: 'op_not_supported',
  opTooManySubentries: 'op_too_many_subentries',
  opExceededWorkLimit: 'op_exceeded_work_limit',
  // Not in Horizon's table (its String() has no arm for it): core's opTOO_MANY_SPONSORING in Horizon's form.
  opTooManySponsoring: 'op_too_many_sponsoring',
};

const INNER_OPERATION_CODES: Record<string, Record<string, string>> = {
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

/** The SDK's union and enum of each operation type's result. */
const OPERATION_RESULT_XDR = {
  createAccount: { union: xdr.CreateAccountResult, codes: xdr.CreateAccountResultCode },
  payment: { union: xdr.PaymentResult, codes: xdr.PaymentResultCode },
  changeTrust: { union: xdr.ChangeTrustResult, codes: xdr.ChangeTrustResultCode },
  invokeHostFunction: { union: xdr.InvokeHostFunctionResult, codes: xdr.InvokeHostFunctionResultCode },
  extendFootprintTtl: { union: xdr.ExtendFootprintTtlResult, codes: xdr.ExtendFootprintTtlResultCode },
  restoreFootprint: { union: xdr.RestoreFootprintResult, codes: xdr.RestoreFootprintResultCode },
} as const;

/** Every member of an XDR enum, as the SDK defines it. */
function enumNames(xdrEnum: unknown): string[] {
  return (xdrEnum as { values(): { name: string }[] })
    .values()
    .map((member) => member.name)
    .sort();
}

type ArmFactory<T> = Record<string, (value?: unknown) => T>;

function innerOperationResult(type: keyof typeof OPERATION_RESULT_XDR, code: string): xdr.OperationResult {
  const union = OPERATION_RESULT_XDR[type].union as unknown as ArmFactory<unknown>;
  // The only arm here with a value: a successful host function carries its result's hash.
  const inner = code === 'invokeHostFunctionSuccess' ? union[code]!(Buffer.alloc(32)) : union[code]!();
  const tr = (xdr.OperationResultTr as unknown as ArmFactory<xdr.OperationResultTr>)[type]!(inner);
  return xdr.OperationResult.opInner(tr);
}

function transactionResult(result: xdr.TransactionResultResult): xdr.TransactionResult {
  return new xdr.TransactionResult({
    feeCharged: new xdr.Int64(100n),
    result,
    ext: new xdr.TransactionResultExt(0),
  });
}

function feeBump(
  arm: 'txFeeBumpInnerSuccess' | 'txFeeBumpInnerFailed',
  inner: xdr.InnerTransactionResultResult,
): xdr.TransactionResult {
  const pair = new xdr.InnerTransactionResultPair({
    transactionHash: Buffer.alloc(32, 7),
    result: new xdr.InnerTransactionResult({
      feeCharged: new xdr.Int64(0n),
      result: inner,
      ext: new xdr.InnerTransactionResultExt(0),
    }),
  });
  return transactionResult(xdr.TransactionResultResult[arm](pair));
}

/** Decoded as the gateway does: from the base64 XDR that Horizon and RPC serve. */
const decode = (result: xdr.TransactionResult) => horizonResultCodesFromXdr(result.toXDR('base64'));

const paymentNoTrust = () => innerOperationResult('payment', 'paymentNoTrust');
const paymentSuccess = () => innerOperationResult('payment', 'paymentSuccess');

describe('Stellar result codes under Horizon names', () => {
  describe('the table covers the SDK', () => {
    it('every TransactionResultCode', () => {
      assert.deepEqual(Object.keys(TRANSACTION_CODES).sort(), enumNames(xdr.TransactionResultCode));
    });
    it('every OperationResultCode but opInner (which carries the operation’s own code)', () => {
      assert.deepEqual(
        Object.keys(OPERATION_CODES).sort(),
        enumNames(xdr.OperationResultCode).filter((name) => name !== 'opInner'),
      );
    });
    for (const type of Object.keys(OPERATION_RESULT_XDR) as (keyof typeof OPERATION_RESULT_XDR)[]) {
      it(`every ${type} result code`, () => {
        assert.deepEqual(Object.keys(INNER_OPERATION_CODES[type]!).sort(), enumNames(OPERATION_RESULT_XDR[type].codes));
      });
    }
  });

  describe('transaction codes', () => {
    for (const name of enumNames(xdr.TransactionResultCode)) {
      it(`${name} -> ${TRANSACTION_CODES[name]}`, () => {
        const arms = xdr.TransactionResultResult as unknown as ArmFactory<xdr.TransactionResultResult>;
        let result: xdr.TransactionResult;
        if (name === 'txSuccess') result = transactionResult(arms[name]!([paymentSuccess()]));
        else if (name === 'txFailed') result = transactionResult(arms[name]!([paymentNoTrust()]));
        else if (name === 'txFeeBumpInnerSuccess')
          result = feeBump(name, xdr.InnerTransactionResultResult.txSuccess([paymentSuccess()]));
        else if (name === 'txFeeBumpInnerFailed')
          result = feeBump(name, xdr.InnerTransactionResultResult.txFailed([paymentNoTrust()]));
        else result = transactionResult(arms[name]!());
        assert.equal(decode(result).transaction, TRANSACTION_CODES[name]);
      });
    }
  });

  describe('operation codes', () => {
    for (const name of Object.keys(OPERATION_CODES)) {
      it(`${name} -> ${OPERATION_CODES[name]}`, () => {
        const outer = (xdr.OperationResult as unknown as ArmFactory<xdr.OperationResult>)[name]!();
        const codes = decode(transactionResult(xdr.TransactionResultResult.txFailed([outer])));
        assert.deepEqual(codes.operations, [OPERATION_CODES[name]]);
      });
    }
    for (const type of Object.keys(OPERATION_RESULT_XDR) as (keyof typeof OPERATION_RESULT_XDR)[]) {
      for (const code of enumNames(OPERATION_RESULT_XDR[type].codes)) {
        const expected = INNER_OPERATION_CODES[type]![code];
        it(`${type}: ${code} -> ${expected}`, () => {
          const codes = decode(
            transactionResult(xdr.TransactionResultResult.txFailed([innerOperationResult(type, code)])),
          );
          assert.deepEqual(codes, { transaction: 'tx_failed', operations: [expected] });
        });
      }
    }

    it('an operation type the platform never submits keeps its XDR name, never a Horizon-looking code', () => {
      const manageData = xdr.OperationResult.opInner(
        xdr.OperationResultTr.manageData(xdr.ManageDataResult.manageDataNameNotFound()),
      );
      assert.equal(operationCodeString(manageData), 'manageDataNameNotFound');
    });
  });

  describe('result_codes as Horizon reports them', () => {
    it('operations only when the transaction got as far as its operations', () => {
      assert.deepEqual(horizonResultCodes(transactionResult(xdr.TransactionResultResult.txBadSeq())), {
        transaction: 'tx_bad_seq',
      });
      assert.deepEqual(
        horizonResultCodes(
          transactionResult(
            xdr.TransactionResultResult.txFailed([
              paymentSuccess(),
              paymentNoTrust(),
              xdr.OperationResult.opNoAccount(),
            ]),
          ),
        ),
        { transaction: 'tx_failed', operations: ['op_success', 'op_no_trust', 'op_no_source_account'] },
      );
    });

    it('a fee bump: the outer code, the inner code, and the inner transaction’s operations', () => {
      const failed = feeBump('txFeeBumpInnerFailed', xdr.InnerTransactionResultResult.txFailed([paymentNoTrust()]));
      assert.deepEqual(decode(failed), {
        transaction: 'tx_fee_bump_inner_failed',
        inner_transaction: 'tx_failed',
        operations: ['op_no_trust'],
      });
      const refused = feeBump('txFeeBumpInnerFailed', xdr.InnerTransactionResultResult.txNoAccount());
      assert.deepEqual(decode(refused), {
        transaction: 'tx_fee_bump_inner_failed',
        inner_transaction: 'tx_no_source_account',
      });
      const landed = feeBump('txFeeBumpInnerSuccess', xdr.InnerTransactionResultResult.txSuccess([paymentSuccess()]));
      assert.deepEqual(decode(landed), {
        transaction: 'tx_fee_bump_inner_success',
        inner_transaction: 'tx_success',
        operations: ['op_success'],
      });
    });

    it('what decides is the inner transaction of a fee bump, and the transaction itself otherwise', () => {
      assert.deepEqual(
        decisiveResultCodes({ transaction: 'tx_fee_bump_inner_failed', inner_transaction: 'tx_no_source_account' }),
        { transaction: 'tx_no_source_account', operations: [] },
      );
      assert.deepEqual(
        decisiveResultCodes({
          transaction: 'tx_fee_bump_inner_failed',
          inner_transaction: 'tx_failed',
          operations: ['op_no_trust'],
        }),
        { transaction: 'tx_failed', operations: ['op_no_trust'] },
      );
      assert.deepEqual(decisiveResultCodes({ transaction: 'tx_insufficient_fee' }), {
        transaction: 'tx_insufficient_fee',
        operations: [],
      });
    });
  });
});
