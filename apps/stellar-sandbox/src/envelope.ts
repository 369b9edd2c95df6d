/**
 * Reads a submitted TransactionEnvelope with stellar-base: `TransactionBuilder.fromXDR` and the
 * Transaction / FeeBumpTransaction accessors, whose `hash()` is the network hash (signatures are
 * over sha256(networkId || envelope type || tx), so a wrong passphrase shows up as bad auth).
 */
import { createHash } from 'node:crypto';
import {
  extractBaseAddress,
  FeeBumpTransaction,
  SignerKey,
  StrKey,
  TransactionBuilder,
  xdr,
  type Memo,
  type Transaction,
} from '@stellar/stellar-sdk';
import type { MemoType } from './ledger-state';

export class MalformedEnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedEnvelopeError';
  }
}

export interface MemoInfo {
  type: MemoType;
  /** text memos: the UTF-8 text; id: decimal; hash/return: base64 (as Horizon prints them). */
  value?: string;
  /** text memos: the raw bytes, base64 (Horizon's memo_bytes). */
  bytes?: string;
}

export interface TransactionFrame {
  hash: string;
  hashBytes: Buffer;
  /** The base G... account (a muxed source acts on it). */
  source: string;
  seqNum: bigint;
  fee: bigint;
  /**
   * The operations as XDR, as core checks and applies them: stellar-base's `operations` are
   * decoded views that lose what validity depends on (asset codes' NUL padding and width).
   */
  operations: xdr.Operation[];
  signatures: xdr.DecoratedSignature[];
  memo: MemoInfo;
  timeBounds?: { minTime: bigint; maxTime: bigint };
  ledgerBounds?: { minLedger: number; maxLedger: number };
  minSeqNum?: bigint;
  minSeqAge: bigint;
  minSeqLedgerGap: number;
  /** CAP-21 extra signers. */
  extraSigners: xdr.SignerKey[];
  sorobanData?: xdr.SorobanTransactionData;
}

export interface ParsedEnvelope {
  /** The envelope as submitted, re-encoded canonically. */
  envelopeXdr: string;
  /** The hash the network knows this envelope by (the fee-bump hash for fee bumps). */
  hash: string;
  hashBytes: Buffer;
  feeBump?: {
    /** The base G... account that pays. */
    feeSource: string;
    fee: bigint;
    signatures: xdr.DecoratedSignature[];
  };
  /** The transaction whose operations run (the inner one for fee bumps). */
  inner: TransactionFrame;
}

export function networkIdOf(passphrase: string): Buffer {
  return sha256(Buffer.from(passphrase, 'utf8'));
}

export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

export function parseEnvelope(envelopeXdr: string, networkPassphrase: string): ParsedEnvelope {
  let envelope: xdr.TransactionEnvelope;
  let transaction: Transaction | FeeBumpTransaction;
  try {
    envelope = xdr.TransactionEnvelope.fromXDR(envelopeXdr.trim(), 'base64');
  } catch (error) {
    throw new MalformedEnvelopeError(`cannot decode the transaction envelope: ${(error as Error).message}`);
  }
  try {
    transaction = TransactionBuilder.fromXDR(envelope, networkPassphrase);
  } catch (error) {
    // Valid XDR that stellar-base refuses to read, e.g. an asset code outside [a-zA-Z0-9].
    throw new MalformedEnvelopeError(`cannot read the transaction: ${(error as Error).message}`);
  }
  const canonicalXdr = envelope.toXDR('base64');
  if (transaction instanceof FeeBumpTransaction) {
    const innerTx = envelope.feeBump().tx().innerTx().v1().tx();
    const inner = frameOf(transaction.innerTransaction, innerTx.operations(), sorobanDataOf(innerTx));
    const hashBytes = transaction.hash();
    return {
      envelopeXdr: canonicalXdr,
      hash: hashBytes.toString('hex'),
      hashBytes,
      feeBump: {
        feeSource: extractBaseAddress(transaction.feeSource),
        fee: BigInt(transaction.fee),
        signatures: transaction.signatures,
      },
      inner,
    };
  }
  const inner =
    envelope.switch().name === 'envelopeTypeTxV0'
      ? frameOf(transaction, envelope.v0().tx().operations(), undefined)
      : frameOf(transaction, envelope.v1().tx().operations(), sorobanDataOf(envelope.v1().tx()));
  return { envelopeXdr: canonicalXdr, hash: inner.hash, hashBytes: inner.hashBytes, inner };
}

function sorobanDataOf(tx: xdr.Transaction): xdr.SorobanTransactionData | undefined {
  const ext = tx.ext();
  return ext.switch() === 1 ? ext.sorobanData() : undefined;
}

function frameOf(
  transaction: Transaction,
  operations: xdr.Operation[],
  sorobanData: xdr.SorobanTransactionData | undefined,
): TransactionFrame {
  const hashBytes = transaction.hash();
  const frame: TransactionFrame = {
    hash: hashBytes.toString('hex'),
    hashBytes,
    source: extractBaseAddress(transaction.source),
    seqNum: BigInt(transaction.sequence),
    fee: BigInt(transaction.fee),
    operations,
    signatures: transaction.signatures,
    memo: memoInfo(transaction.memo),
    // Typed as numbers and strings, but stellar-base hands over the XDR values (Duration, SignerKey).
    minSeqAge: BigInt(String(transaction.minAccountSequenceAge ?? 0)),
    minSeqLedgerGap: Number(transaction.minAccountSequenceLedgerGap ?? 0),
    extraSigners: (transaction.extraSigners ?? []).map((signer: string | xdr.SignerKey) =>
      typeof signer === 'string' ? SignerKey.decodeAddress(signer) : signer,
    ),
  };
  if (transaction.timeBounds) {
    frame.timeBounds = {
      minTime: BigInt(transaction.timeBounds.minTime),
      maxTime: BigInt(transaction.timeBounds.maxTime),
    };
  }
  if (transaction.ledgerBounds) frame.ledgerBounds = { ...transaction.ledgerBounds };
  if (transaction.minAccountSequence !== undefined) frame.minSeqNum = BigInt(transaction.minAccountSequence);
  if (sorobanData) frame.sorobanData = sorobanData;
  return frame;
}

/** The G... account behind a (possibly muxed) account: balances live on the base account. */
export function baseAccountOf(account: xdr.MuxedAccount): string {
  return account.switch().name === 'keyTypeMuxedEd25519'
    ? StrKey.encodeEd25519PublicKey(account.med25519().ed25519())
    : StrKey.encodeEd25519PublicKey(account.ed25519());
}

export function operationSource(operation: xdr.Operation, txSource: string): string {
  const source = operation.sourceAccount();
  return source ? baseAccountOf(source) : txSource;
}

function memoInfo(memo: Memo): MemoInfo {
  const value: unknown = memo.value;
  switch (memo.type) {
    case 'text': {
      const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8');
      return { type: 'text', value: bytes.toString('utf8'), bytes: bytes.toString('base64') };
    }
    case 'id':
      return { type: 'id', value: String(value) };
    case 'hash':
    case 'return':
      return { type: memo.type, value: (value as Buffer).toString('base64') };
    default:
      return { type: 'none' };
  }
}

/** Every account whose key signs or pays: used by targeted faults and participant indexes. */
export function accountsInvolved(envelope: ParsedEnvelope): string[] {
  const accounts = new Set<string>([envelope.inner.source]);
  if (envelope.feeBump) accounts.add(envelope.feeBump.feeSource);
  for (const operation of envelope.inner.operations) accounts.add(operationSource(operation, envelope.inner.source));
  return [...accounts];
}
