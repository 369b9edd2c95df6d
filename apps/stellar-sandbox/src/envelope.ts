/**
 * Decodes a submitted TransactionEnvelope and computes its network hashes (signatures are
 * over sha256(networkId || envelope type || tx), so a wrong passphrase shows up as bad auth).
 */
import { createHash } from 'node:crypto';
import { StrKey, xdr } from '@stellar/stellar-sdk';
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
  /** The v1 form of the transaction (v0 envelopes are converted, as core does for hashing). */
  tx: xdr.Transaction;
  source: string;
  seqNum: bigint;
  fee: bigint;
  operations: xdr.Operation[];
  signatures: xdr.DecoratedSignature[];
  memo: MemoInfo;
  timeBounds?: { minTime: bigint; maxTime: bigint };
  ledgerBounds?: { minLedger: number; maxLedger: number };
  minSeqNum?: bigint;
  minSeqAge: bigint;
  minSeqLedgerGap: number;
  extraSigners: xdr.SignerKey[];
  sorobanData?: xdr.SorobanTransactionData;
}

export interface ParsedEnvelope {
  envelope: xdr.TransactionEnvelope;
  envelopeXdr: string;
  /** The hash the network knows this envelope by (the fee-bump hash for fee bumps). */
  hash: string;
  hashBytes: Buffer;
  feeBump?: {
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

export function parseEnvelope(envelopeXdr: string, networkId: Buffer): ParsedEnvelope {
  let envelope: xdr.TransactionEnvelope;
  try {
    envelope = xdr.TransactionEnvelope.fromXDR(envelopeXdr.trim(), 'base64');
  } catch (error) {
    throw new MalformedEnvelopeError(`cannot decode the transaction envelope: ${(error as Error).message}`);
  }
  const canonicalXdr = envelope.toXDR('base64');
  switch (envelope.switch().name) {
    case 'envelopeTypeTxV0': {
      const v0 = envelope.v0();
      const tx = transactionFromV0(v0.tx());
      const inner = frameOf(tx, v0.signatures(), networkId);
      return { envelope, envelopeXdr: canonicalXdr, hash: inner.hash, hashBytes: inner.hashBytes, inner };
    }
    case 'envelopeTypeTx': {
      const v1 = envelope.v1();
      const inner = frameOf(v1.tx(), v1.signatures(), networkId);
      return { envelope, envelopeXdr: canonicalXdr, hash: inner.hash, hashBytes: inner.hashBytes, inner };
    }
    case 'envelopeTypeTxFeeBump': {
      const feeBumpEnvelope = envelope.feeBump();
      const feeBumpTx = feeBumpEnvelope.tx();
      const innerEnvelope = feeBumpTx.innerTx().v1();
      const inner = frameOf(innerEnvelope.tx(), innerEnvelope.signatures(), networkId);
      const payload = new xdr.TransactionSignaturePayload({
        networkId,
        taggedTransaction: xdr.TransactionSignaturePayloadTaggedTransaction.envelopeTypeTxFeeBump(feeBumpTx),
      });
      const hashBytes = sha256(payload.toXDR());
      return {
        envelope,
        envelopeXdr: canonicalXdr,
        hash: hashBytes.toString('hex'),
        hashBytes,
        feeBump: {
          feeSource: baseAccountOf(feeBumpTx.feeSource()),
          fee: BigInt(feeBumpTx.fee().toString()),
          signatures: feeBumpEnvelope.signatures(),
        },
        inner,
      };
    }
    default:
      throw new MalformedEnvelopeError(`unsupported envelope type ${envelope.switch().name}`);
  }
}

function transactionFromV0(v0: xdr.TransactionV0): xdr.Transaction {
  const timeBounds = v0.timeBounds();
  return new xdr.Transaction({
    sourceAccount: xdr.MuxedAccount.keyTypeEd25519(v0.sourceAccountEd25519()),
    fee: v0.fee(),
    seqNum: v0.seqNum(),
    cond: timeBounds ? xdr.Preconditions.precondTime(timeBounds) : xdr.Preconditions.precondNone(),
    memo: v0.memo(),
    operations: v0.operations(),
    ext: new xdr.TransactionExt(0),
  });
}

function frameOf(tx: xdr.Transaction, signatures: xdr.DecoratedSignature[], networkId: Buffer): TransactionFrame {
  const payload = new xdr.TransactionSignaturePayload({
    networkId,
    taggedTransaction: xdr.TransactionSignaturePayloadTaggedTransaction.envelopeTypeTx(tx),
  });
  const hashBytes = sha256(payload.toXDR());
  const frame: TransactionFrame = {
    hash: hashBytes.toString('hex'),
    hashBytes,
    tx,
    source: baseAccountOf(tx.sourceAccount()),
    seqNum: BigInt(tx.seqNum().toString()),
    fee: BigInt(tx.fee()),
    operations: tx.operations(),
    signatures,
    memo: memoInfo(tx.memo()),
    minSeqAge: 0n,
    minSeqLedgerGap: 0,
    extraSigners: [],
  };
  const cond = tx.cond();
  switch (cond.switch().name) {
    case 'precondTime':
      frame.timeBounds = timeBoundsOf(cond.timeBounds());
      break;
    case 'precondV2': {
      const v2 = cond.v2();
      const timeBounds = v2.timeBounds();
      if (timeBounds) frame.timeBounds = timeBoundsOf(timeBounds);
      const ledgerBounds = v2.ledgerBounds();
      if (ledgerBounds)
        frame.ledgerBounds = { minLedger: ledgerBounds.minLedger(), maxLedger: ledgerBounds.maxLedger() };
      const minSeqNum = v2.minSeqNum();
      if (minSeqNum) frame.minSeqNum = BigInt(minSeqNum.toString());
      frame.minSeqAge = BigInt(v2.minSeqAge().toString());
      frame.minSeqLedgerGap = v2.minSeqLedgerGap();
      frame.extraSigners = v2.extraSigners();
      break;
    }
    default:
      break;
  }
  const ext = tx.ext();
  if (ext.switch() === 1) frame.sorobanData = ext.sorobanData();
  return frame;
}

function timeBoundsOf(bounds: xdr.TimeBounds): { minTime: bigint; maxTime: bigint } {
  return { minTime: BigInt(bounds.minTime().toString()), maxTime: BigInt(bounds.maxTime().toString()) };
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

function memoInfo(memo: xdr.Memo): MemoInfo {
  switch (memo.switch().name) {
    case 'memoText': {
      const raw = memo.text() as Buffer | string;
      const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
      return { type: 'text', value: bytes.toString('utf8'), bytes: bytes.toString('base64') };
    }
    case 'memoId':
      return { type: 'id', value: memo.id().toString() };
    case 'memoHash':
      return { type: 'hash', value: memo.hash().toString('base64') };
    case 'memoReturn':
      return { type: 'return', value: memo.retHash().toString('base64') };
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
