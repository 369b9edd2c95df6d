/**
 * Transaction validity as stellar-core checks it, with core's result codes, in core's order:
 * fee-bump outer checks, then (inner) preconditions, fee, source account, sequence, source
 * signature, fee balance, each operation's source/signature/shape, and unused signatures.
 * Run at submission (against state plus queued transactions) and again when a ledger closes.
 */
import { Keypair, StrKey, type xdr } from '@stellar/stellar-sdk';
import type { ParsedEnvelope, TransactionFrame } from './envelope';
import { operationSource, sha256 } from './envelope';
import type { AccountEntryRecord } from './ledger-state';
import { feeBumpResult, operationResults, transactionResult, type TxFailureCode, type TxOutcome } from './result-codes';

export const BASE_FEE = 100n;
export const BASE_RESERVE = 5_000_000n;
export const MAX_OPERATIONS_PER_TRANSACTION = 100;

/** Minimum balance: (2 + subentries) x base reserve (no sponsorship or liabilities in the sandbox). */
export function minimumBalance(account: Pick<AccountEntryRecord, 'numSubEntries'>, extraSubEntries = 0): bigint {
  return BigInt(2 + account.numSubEntries + extraSubEntries) * BASE_RESERVE;
}

export function availableBalance(account: AccountEntryRecord): bigint {
  return account.balance - minimumBalance(account);
}

export interface ValidationContext {
  account(accountId: string): AccountEntryRecord | undefined;
  /** The sequence number the next transaction of this account builds on (queued ones included at submit). */
  currentSequence(accountId: string): bigint;
  /** Close-time window the transaction must fit: [earliest, latest] possible close time. */
  closeTimeLowerBound: bigint;
  closeTimeUpperBound: bigint;
  ledgerSeq: number;
  /** Signatures are immutable here (no setOptions), so application skips re-verifying them. */
  checkSignatures: boolean;
}

export type Validation = { ok: true } | { ok: false; result: xdr.TransactionResult };

export function validateTransaction(envelope: ParsedEnvelope, context: ValidationContext): Validation {
  const inner = envelope.inner;
  const feeBump = envelope.feeBump;
  if (feeBump) {
    const outer = validateFeeBumpOuter(envelope, context);
    if (outer) return { ok: false, result: transactionResult(0n, { code: outer }) };
    const innerOutcome = validateFrame(inner, context, true);
    if (innerOutcome) return { ok: false, result: feeBumpResult(0n, inner.hashBytes, innerOutcome) };
    return { ok: true };
  }
  const outcome = validateFrame(inner, context, false);
  return outcome ? { ok: false, result: transactionResult(0n, outcome) } : { ok: true };
}

/** Inclusion fee the network charges: base fee per operation (+1 for the fee-bump wrapper) plus declared Soroban resources. */
export function requiredFee(envelope: ParsedEnvelope): bigint {
  const inner = envelope.inner;
  const operations = BigInt(inner.operations.length + (envelope.feeBump ? 1 : 0));
  return BASE_FEE * operations + resourceFeeOf(inner);
}

export function resourceFeeOf(frame: TransactionFrame): bigint {
  return frame.sorobanData ? BigInt(frame.sorobanData.resourceFee().toString()) : 0n;
}

function validateFeeBumpOuter(envelope: ParsedEnvelope, context: ValidationContext): TxFailureCode | undefined {
  const feeBump = envelope.feeBump;
  if (!feeBump) return undefined;
  if (envelope.inner.operations.length === 0) return 'txMissingOperation';
  if (feeBump.fee < requiredFee(envelope)) return 'txInsufficientFee';
  const feeSource = context.account(feeBump.feeSource);
  if (!feeSource) return 'txNoAccount';
  if (context.checkSignatures) {
    const checker = new SignatureChecker(envelope.hashBytes, feeBump.signatures);
    if (!checker.signedBy(feeBump.feeSource)) return 'txBadAuth';
    if (!checker.allUsed()) return 'txBadAuthExtra';
  }
  if (availableBalance(feeSource) < feeBump.fee) return 'txInsufficientBalance';
  return undefined;
}

function validateFrame(frame: TransactionFrame, context: ValidationContext, feeBumped: boolean): TxOutcome | undefined {
  const operationCount = frame.operations.length;
  if (operationCount === 0) return { code: 'txMissingOperation' };
  if (operationCount > MAX_OPERATIONS_PER_TRANSACTION) return { code: 'txMalformed' };
  const sorobanMalformed = checkSorobanShape(frame);
  if (sorobanMalformed) return { code: sorobanMalformed };

  if (frame.timeBounds) {
    const { minTime, maxTime } = frame.timeBounds;
    if (minTime > context.closeTimeUpperBound) return { code: 'txTooEarly' };
    if (maxTime !== 0n && maxTime < context.closeTimeLowerBound) return { code: 'txTooLate' };
  }
  if (frame.ledgerBounds) {
    const { minLedger, maxLedger } = frame.ledgerBounds;
    if (minLedger > context.ledgerSeq) return { code: 'txTooEarly' };
    if (maxLedger !== 0 && maxLedger <= context.ledgerSeq) return { code: 'txTooLate' };
  }
  if (!feeBumped && frame.fee < BASE_FEE * BigInt(operationCount) + resourceFeeOf(frame)) {
    return { code: 'txInsufficientFee' };
  }

  const source = context.account(frame.source);
  if (!source) return { code: 'txNoAccount' };
  const current = context.currentSequence(frame.source);
  const sequenceOk =
    frame.minSeqNum === undefined
      ? frame.seqNum === current + 1n
      : frame.minSeqNum <= current && current < frame.seqNum;
  if (!sequenceOk) return { code: 'txBadSeq' };
  if (frame.minSeqAge > 0n && context.closeTimeLowerBound - source.seqTime < frame.minSeqAge) {
    return { code: 'txBadMinSeqAgeOrGap' };
  }
  if (frame.minSeqLedgerGap > 0 && context.ledgerSeq - source.seqLedger < frame.minSeqLedgerGap) {
    return { code: 'txBadMinSeqAgeOrGap' };
  }

  const checker = context.checkSignatures ? new SignatureChecker(frame.hashBytes, frame.signatures) : undefined;
  if (checker) {
    if (!checker.signedBy(frame.source)) return { code: 'txBadAuth' };
    for (const signer of frame.extraSigners) {
      if (!checker.satisfies(signer)) return { code: 'txBadAuth' };
    }
  }
  if (!feeBumped && availableBalance(source) < frame.fee) return { code: 'txInsufficientBalance' };

  const operationOutcomes = frame.operations.map((operation) => checkOperation(operation, frame, context, checker));
  if (operationOutcomes.some((outcome) => outcome.failed)) {
    return { code: 'txFailed', operations: operationOutcomes.map((outcome) => outcome.result) };
  }
  if (checker && !checker.allUsed()) return { code: 'txBadAuthExtra' };
  return undefined;
}

const SOROBAN_OPERATIONS = new Set(['invokeHostFunction', 'extendFootprintTtl', 'restoreFootprint']);

function checkSorobanShape(frame: TransactionFrame): TxFailureCode | undefined {
  const soroban = frame.operations.some((operation) => SOROBAN_OPERATIONS.has(operation.body().switch().name));
  if (soroban && (frame.operations.length !== 1 || !frame.sorobanData)) return 'txMalformed';
  if (!soroban && frame.sorobanData) return 'txMalformed';
  if (frame.sorobanData && resourceFeeOf(frame) < 0n) return 'txSorobanInvalid';
  return undefined;
}

interface OperationCheck {
  failed: boolean;
  result: xdr.OperationResult;
}

/** Supported subset: createAccount, payment, changeTrust, invokeHostFunction(invokeContract). */
function checkOperation(
  operation: xdr.Operation,
  frame: TransactionFrame,
  context: ValidationContext,
  checker: SignatureChecker | undefined,
): OperationCheck {
  const source = operationSource(operation, frame.source);
  if (!context.account(source)) return { failed: true, result: operationResults.noSourceAccount() };
  if (checker && source !== frame.source && !checker.signedBy(source)) {
    return { failed: true, result: operationResults.badAuth() };
  }
  const body = operation.body();
  switch (body.switch().name) {
    case 'createAccount': {
      const op = body.createAccountOp();
      const malformed =
        BigInt(op.startingBalance().toString()) < 0n ||
        StrKey.encodeEd25519PublicKey(op.destination().ed25519()) === source;
      return malformed
        ? { failed: true, result: operationResults.createAccount('createAccountMalformed') }
        : { failed: false, result: operationResults.createAccount('createAccountSuccess') };
    }
    case 'payment': {
      const op = body.paymentOp();
      const malformed = BigInt(op.amount().toString()) <= 0n || !validAsset(op.asset());
      return malformed
        ? { failed: true, result: operationResults.payment('paymentMalformed') }
        : { failed: false, result: operationResults.payment('paymentSuccess') };
    }
    case 'changeTrust': {
      const op = body.changeTrustOp();
      const line = op.line();
      const kind = line.switch().name;
      if (kind === 'assetTypePoolShare') return { failed: true, result: operationResults.notSupported() };
      const alpha =
        kind === 'assetTypeCreditAlphanum4'
          ? line.alphaNum4()
          : kind === 'assetTypeCreditAlphanum12'
            ? line.alphaNum12()
            : undefined;
      const malformed =
        !alpha ||
        !validAssetCode(alpha.assetCode(), kind === 'assetTypeCreditAlphanum4' ? 4 : 12) ||
        BigInt(op.limit().toString()) < 0n ||
        StrKey.encodeEd25519PublicKey(alpha.issuer().ed25519()) === source;
      return malformed
        ? { failed: true, result: operationResults.changeTrust('changeTrustMalformed') }
        : { failed: false, result: operationResults.changeTrust('changeTrustSuccess') };
    }
    case 'invokeHostFunction': {
      const op = body.invokeHostFunctionOp();
      if (op.hostFunction().switch().name !== 'hostFunctionTypeInvokeContract') {
        return { failed: true, result: operationResults.notSupported() };
      }
      return { failed: false, result: operationResults.invokeHostFunctionSuccess(Buffer.alloc(32)) };
    }
    default:
      return { failed: true, result: operationResults.notSupported() };
  }
}

function validAsset(asset: xdr.Asset): boolean {
  switch (asset.switch().name) {
    case 'assetTypeNative':
      return true;
    case 'assetTypeCreditAlphanum4':
      return validAssetCode(asset.alphaNum4().assetCode(), 4);
    case 'assetTypeCreditAlphanum12':
      return validAssetCode(asset.alphaNum12().assetCode(), 12);
    default:
      return false;
  }
}

/** Core's rule: [a-zA-Z0-9]+ left-aligned, NUL padded (alphanum12 codes are 5-12 chars). */
function validAssetCode(raw: Buffer, width: 4 | 12): boolean {
  const text = raw.toString('latin1');
  const code = text.replace(/\0+$/, '');
  if (!/^[a-zA-Z0-9]+$/.test(code)) return false;
  return width === 4 ? code.length >= 1 : code.length >= 5;
}

/**
 * Matches decorated signatures to signers (by hint, then stellar-base's `Keypair.verify`, an
 * ed25519 check over the network hash) and tracks which were used.
 */
export class SignatureChecker {
  private readonly used: boolean[];
  private readonly verdicts = new Map<string, boolean>();

  constructor(
    private readonly hash: Buffer,
    private readonly signatures: readonly xdr.DecoratedSignature[],
  ) {
    this.used = signatures.map(() => false);
  }

  signedBy(accountId: string): boolean {
    const cached = this.verdicts.get(accountId);
    if (cached !== undefined) return cached;
    const keypair = Keypair.fromPublicKey(accountId);
    const hint = keypair.signatureHint();
    let found = false;
    this.signatures.forEach((signature, index) => {
      if (!signature.hint().equals(hint)) return;
      if (keypair.verify(this.hash, signature.signature())) {
        this.used[index] = true;
        found = true;
      }
    });
    this.verdicts.set(accountId, found);
    return found;
  }

  /** CAP-21 extra signers: ed25519 keys and hash(x) preimages are supported. */
  satisfies(signer: xdr.SignerKey): boolean {
    switch (signer.switch().name) {
      case 'signerKeyTypeEd25519':
        return this.signedBy(StrKey.encodeEd25519PublicKey(signer.ed25519()));
      case 'signerKeyTypeHashX': {
        const expected = signer.hashX();
        let found = false;
        this.signatures.forEach((signature, index) => {
          if (signature.hint().equals(expected.subarray(28)) && sha256(signature.signature()).equals(expected)) {
            this.used[index] = true;
            found = true;
          }
        });
        return found;
      }
      default:
        return false;
    }
  }

  allUsed(): boolean {
    return this.used.every(Boolean);
  }
}

export function feeSourceOf(envelope: ParsedEnvelope): string {
  return envelope.feeBump ? envelope.feeBump.feeSource : envelope.inner.source;
}
