/**
 * Applies one operation to an overlay with core's semantics and result codes. The caller
 * commits the overlay only when the operation succeeded (and the whole transaction only
 * when every operation did), so a failure here never leaves partial effects.
 */
import { MAX_STROOPS } from '@nova/domain';
import { Address, StrKey, xdr } from '@stellar/stellar-sdk';
import type { ContractFailure, ContractRuntime, EmittedContractEvent } from './contracts-interface';
import { baseAccountOf, sha256 } from './envelope';
import { accountIdFromXdr } from './ledger-entries-xdr';
import { AUTHORIZED_FLAG, trustlineKey, type EntryOverlay } from './ledger-state';
import { operationResults } from './result-codes';
import { availableBalance, minimumBalance } from './transaction-validator';

export interface OperationContext {
  ledgerSeq: number;
  closeTime: bigint;
  runtime: ContractRuntime;
}

/** History the ledger keeps about a successful or failed payment-like operation. */
export type PaymentEffect =
  | { type: 'payment'; from: string; to: string; amount: bigint; assetCode?: string; assetIssuer?: string }
  | { type: 'create_account'; funder: string; account: string; startingBalance: bigint };

export interface ContractInvocationEffect {
  contractId: string;
  functionName: string;
  args: xdr.ScVal[];
  returnValue: xdr.ScVal;
  events: EmittedContractEvent[];
}

export interface AppliedOperation {
  success: boolean;
  result: xdr.OperationResult;
  payment?: PaymentEffect;
  invocation?: ContractInvocationEffect;
  /** A contract call that failed: what the host reports (the transaction's diagnostic events). */
  invocationFailure?: { contractId: string; failure: ContractFailure };
}

/** Asynchronous only for contract calls, which the runtime may run out of process. */
export async function applyOperation(
  overlay: EntryOverlay,
  operation: xdr.Operation,
  source: string,
  context: OperationContext,
): Promise<AppliedOperation> {
  const body = operation.body();
  switch (body.switch().name) {
    case 'createAccount':
      return applyCreateAccount(overlay, body.createAccountOp(), source, context);
    case 'payment':
      return applyPayment(overlay, body.paymentOp(), source);
    case 'changeTrust':
      return applyChangeTrust(overlay, body.changeTrustOp(), source);
    case 'invokeHostFunction':
      return applyInvokeHostFunction(body.invokeHostFunctionOp(), source, context);
    default:
      return { success: false, result: operationResults.notSupported() };
  }
}

function applyCreateAccount(
  overlay: EntryOverlay,
  op: xdr.CreateAccountOp,
  source: string,
  context: OperationContext,
): AppliedOperation {
  const destination = accountIdFromXdr(op.destination());
  const startingBalance = BigInt(op.startingBalance().toString());
  const payment: PaymentEffect = { type: 'create_account', funder: source, account: destination, startingBalance };
  if (overlay.peekAccount(destination)) {
    return { success: false, result: operationResults.createAccount('createAccountAlreadyExist'), payment };
  }
  if (startingBalance < minimumBalance({ numSubEntries: 0 })) {
    return { success: false, result: operationResults.createAccount('createAccountLowReserve'), payment };
  }
  const funder = overlay.peekAccount(source);
  if (!funder || availableBalance(funder) < startingBalance) {
    return { success: false, result: operationResults.createAccount('createAccountUnderfunded'), payment };
  }
  const loadedFunder = overlay.loadAccount(source);
  if (loadedFunder) loadedFunder.balance -= startingBalance;
  overlay.create({
    type: 'account',
    accountId: destination,
    balance: startingBalance,
    // New accounts start at ledgerSeq << 32, as on the network.
    seqNum: BigInt(context.ledgerSeq) << 32n,
    numSubEntries: 0,
    seqLedger: 0,
    seqTime: 0n,
    lastModifiedLedger: context.ledgerSeq,
  });
  return { success: true, result: operationResults.createAccount('createAccountSuccess'), payment };
}

function applyPayment(overlay: EntryOverlay, op: xdr.PaymentOp, source: string): AppliedOperation {
  const destination = baseAccountOf(op.destination());
  const amount = BigInt(op.amount().toString());
  const asset = op.asset();
  if (asset.switch().name === 'assetTypeNative') {
    const payment: PaymentEffect = { type: 'payment', from: source, to: destination, amount };
    const receiver = overlay.peekAccount(destination);
    if (!receiver) return { success: false, result: operationResults.payment('paymentNoDestination'), payment };
    if (receiver.balance + amount > MAX_STROOPS) {
      return { success: false, result: operationResults.payment('paymentLineFull'), payment };
    }
    const sender = overlay.peekAccount(source);
    if (!sender || availableBalance(sender) < amount) {
      return { success: false, result: operationResults.payment('paymentUnderfunded'), payment };
    }
    const loadedReceiver = overlay.loadAccount(destination);
    if (loadedReceiver) loadedReceiver.balance += amount;
    const loadedSender = overlay.loadAccount(source);
    if (loadedSender) loadedSender.balance -= amount;
    return { success: true, result: operationResults.payment('paymentSuccess'), payment };
  }

  const alpha = asset.switch().name === 'assetTypeCreditAlphanum4' ? asset.alphaNum4() : asset.alphaNum12();
  const assetCode = alpha.assetCode().toString('latin1').replace(/\0+$/, '');
  const assetIssuer = accountIdFromXdr(alpha.issuer());
  const payment: PaymentEffect = { type: 'payment', from: source, to: destination, amount, assetCode, assetIssuer };
  // Core's order: destination exists, destination can receive, then source can send.
  if (!overlay.peekAccount(destination)) {
    return { success: false, result: operationResults.payment('paymentNoDestination'), payment };
  }
  // The issuer holds no trustline to its own asset: paying it burns, paying from it mints.
  if (destination !== assetIssuer) {
    const line = overlay.peekTrustline(destination, assetCode, assetIssuer);
    if (!line) return { success: false, result: operationResults.payment('paymentNoTrust'), payment };
    if ((line.flags & AUTHORIZED_FLAG) === 0) {
      return { success: false, result: operationResults.payment('paymentNotAuthorized'), payment };
    }
    if (line.balance + amount > line.limit) {
      return { success: false, result: operationResults.payment('paymentLineFull'), payment };
    }
  }
  if (source !== assetIssuer) {
    const line = overlay.peekTrustline(source, assetCode, assetIssuer);
    if (!line) return { success: false, result: operationResults.payment('paymentSrcNoTrust'), payment };
    if ((line.flags & AUTHORIZED_FLAG) === 0) {
      return { success: false, result: operationResults.payment('paymentSrcNotAuthorized'), payment };
    }
    if (line.balance < amount)
      return { success: false, result: operationResults.payment('paymentUnderfunded'), payment };
  }
  if (destination !== assetIssuer) {
    const line = overlay.loadTrustline(destination, assetCode, assetIssuer);
    if (line) line.balance += amount;
  }
  if (source !== assetIssuer) {
    const line = overlay.loadTrustline(source, assetCode, assetIssuer);
    if (line) line.balance -= amount;
  }
  return { success: true, result: operationResults.payment('paymentSuccess'), payment };
}

function applyChangeTrust(overlay: EntryOverlay, op: xdr.ChangeTrustOp, source: string): AppliedOperation {
  const line = op.line();
  const alpha = line.switch().name === 'assetTypeCreditAlphanum4' ? line.alphaNum4() : line.alphaNum12();
  const assetCode = alpha.assetCode().toString('latin1').replace(/\0+$/, '');
  const assetIssuer = accountIdFromXdr(alpha.issuer());
  const limit = BigInt(op.limit().toString());
  const existing = overlay.peekTrustline(source, assetCode, assetIssuer);

  if (limit === 0n) {
    // Removing a line: it must exist and be empty (core answers INVALID_LIMIT otherwise).
    if (!existing || existing.balance > 0n) {
      return { success: false, result: operationResults.changeTrust('changeTrustInvalidLimit') };
    }
    overlay.erase(trustlineKey(source, assetCode, assetIssuer));
    const owner = overlay.loadAccount(source);
    if (owner) owner.numSubEntries -= 1;
    return { success: true, result: operationResults.changeTrust('changeTrustSuccess') };
  }
  if (existing) {
    if (limit < existing.balance)
      return { success: false, result: operationResults.changeTrust('changeTrustInvalidLimit') };
    const loaded = overlay.loadTrustline(source, assetCode, assetIssuer);
    if (loaded) loaded.limit = limit;
    return { success: true, result: operationResults.changeTrust('changeTrustSuccess') };
  }
  if (!overlay.peekAccount(assetIssuer))
    return { success: false, result: operationResults.changeTrust('changeTrustNoIssuer') };
  const owner = overlay.peekAccount(source);
  if (!owner || owner.balance < minimumBalance(owner, 1)) {
    return { success: false, result: operationResults.changeTrust('changeTrustLowReserve') };
  }
  const loadedOwner = overlay.loadAccount(source);
  if (loadedOwner) loadedOwner.numSubEntries += 1;
  overlay.create({
    type: 'trustline',
    accountId: source,
    assetCode,
    assetIssuer,
    balance: 0n,
    limit,
    flags: AUTHORIZED_FLAG,
    lastModifiedLedger: 0,
  });
  return { success: true, result: operationResults.changeTrust('changeTrustSuccess') };
}

async function applyInvokeHostFunction(
  op: xdr.InvokeHostFunctionOp,
  source: string,
  context: OperationContext,
): Promise<AppliedOperation> {
  const hostFunction = op.hostFunction();
  if (hostFunction.switch().name !== 'hostFunctionTypeInvokeContract') {
    return { success: false, result: operationResults.notSupported() };
  }
  const call = decodeInvokeContract(hostFunction.invokeContract());
  if (!call) return { success: false, result: operationResults.invokeHostFunctionFailure('invokeHostFunctionTrapped') };
  const outcome = await context.runtime.invoke({
    ...call,
    invoker: source,
    ledgerSequence: context.ledgerSeq,
    closeTime: Number(context.closeTime),
  });
  if (!outcome.ok) {
    return {
      success: false,
      result: operationResults.invokeHostFunctionFailure('invokeHostFunctionTrapped'),
      invocationFailure: { contractId: call.contractId, failure: outcome.failure },
    };
  }
  const preimage = new xdr.InvokeHostFunctionSuccessPreImage({
    returnValue: outcome.returnValue,
    events: outcome.events.map(contractEventXdr),
  });
  return {
    success: true,
    result: operationResults.invokeHostFunctionSuccess(sha256(preimage.toXDR())),
    invocation: { ...call, returnValue: outcome.returnValue, events: outcome.events },
  };
}

/** The contract, function and arguments of an invokeContract host function; undefined if not addressed to a contract. */
export function decodeInvokeContract(
  args: xdr.InvokeContractArgs,
): { contractId: string; functionName: string; args: xdr.ScVal[] } | undefined {
  let contractId: string;
  try {
    contractId = Address.fromScAddress(args.contractAddress()).toString();
  } catch {
    return undefined;
  }
  if (!StrKey.isValidContract(contractId)) return undefined;
  const name = args.functionName() as Buffer | string;
  return {
    contractId,
    functionName: Buffer.isBuffer(name) ? name.toString('utf8') : name,
    args: args.args(),
  };
}

export function contractEventXdr(event: EmittedContractEvent): xdr.ContractEvent {
  return new xdr.ContractEvent({
    ext: new xdr.ExtensionPoint(0),
    // The typings declare Hash as Opaque[]; at run time js-xdr takes (and returns) a Buffer.
    contractId: StrKey.decodeContract(event.contractId) as unknown as xdr.ContractId,
    type: xdr.ContractEventType.contract(),
    body: new xdr.ContractEventBody(0, new xdr.ContractEventV0({ topics: event.topics, data: event.data })),
  });
}
