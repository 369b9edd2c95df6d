import {
  Account,
  Asset,
  FeeBumpTransaction,
  Keypair,
  Memo,
  Operation,
  TransactionBuilder,
  type Transaction,
} from '@stellar/stellar-sdk';
import { fromStroops } from '@nova/domain';

/** What a quote's transaction pays, as recorded with the quote. */
export interface QuotedPayment {
  holder: string;
  /** The holder's next sequence number (current + 1). */
  sequence: bigint;
  destination: string;
  asset: { code: string; issuer: string };
  amountStroops: bigint;
  memo: string;
  /** The upper time bound, unix seconds. */
  maxTime: number;
  feePerOperation: number;
}

/** The unsigned payment a holder signs: built here, signed in the holder's wallet, never by the platform. */
export function buildQuoteTransaction(
  payment: QuotedPayment,
  networkPassphrase: string,
): { envelopeXdr: string; hash: string } {
  // The builder uses the account's sequence + 1: give it the current one.
  const source = new Account(payment.holder, (payment.sequence - 1n).toString());
  const transaction = new TransactionBuilder(source, {
    fee: String(payment.feePerOperation),
    networkPassphrase,
    timebounds: { minTime: 0, maxTime: payment.maxTime },
  })
    .addOperation(
      Operation.payment({
        destination: payment.destination,
        asset: new Asset(payment.asset.code, payment.asset.issuer),
        amount: fromStroops(payment.amountStroops),
      }),
    )
    .addMemo(Memo.text(payment.memo))
    .build();
  return { envelopeXdr: transaction.toXDR(), hash: transaction.hash().toString('hex') };
}

/** Why a signed envelope is not the quoted one signed by the holder; undefined when it is. */
export type EnvelopeProblem =
  | { kind: 'bad-xdr'; message: string }
  | { kind: 'mismatch'; part: string; message: string }
  | { kind: 'unsigned'; message: string };

/** A signed envelope that is the quoted one: in its canonical XDR (what is stored and submitted). */
export interface AcceptedEnvelope {
  envelopeXdr: string;
}

/**
 * Compares a signed envelope with its quote, part by part (so the answer says what differs),
 * then by hash (anything else: the hash covers the whole transaction but not its signatures),
 * and checks that the holder's account key signed it (a wallet signing the quoted transaction
 * adds exactly that signature; accounts whose master key does not sign, multisig ones, are
 * not supported).
 */
export function envelopeProblem(
  signedXdr: string,
  quote: { envelopeXdr: string; hash: string; holder: string },
  networkPassphrase: string,
): EnvelopeProblem | AcceptedEnvelope {
  let signed: Transaction | FeeBumpTransaction;
  try {
    signed = TransactionBuilder.fromXDR(signedXdr, networkPassphrase);
  } catch (error) {
    return { kind: 'bad-xdr', message: `is not a transaction envelope (${(error as Error).message})` };
  }
  if (signed instanceof FeeBumpTransaction) {
    return { kind: 'mismatch', part: 'envelope', message: 'is a fee bump; sign the quoted transaction itself' };
  }
  const quoted = TransactionBuilder.fromXDR(quote.envelopeXdr, networkPassphrase) as Transaction;
  const differs = (part: string, got: unknown, want: unknown) =>
    ({
      kind: 'mismatch',
      part,
      message: `has another ${part} (${String(got)}) than the quote (${String(want)})`,
    }) as const;
  if (signed.source !== quoted.source) return differs('source account', signed.source, quoted.source);
  if (signed.sequence !== quoted.sequence) return differs('sequence number', signed.sequence, quoted.sequence);
  const bounds = (t: Transaction) => `${t.timeBounds?.minTime ?? 0}..${t.timeBounds?.maxTime ?? 0}`;
  if (bounds(signed) !== bounds(quoted)) return differs('time bounds', bounds(signed), bounds(quoted));
  const memo = (t: Transaction) => (t.memo.value === null ? 'none' : `${t.memo.type}:${t.memo.value.toString()}`);
  if (memo(signed) !== memo(quoted)) return differs('memo', memo(signed), memo(quoted));
  if (signed.operations.length !== quoted.operations.length) {
    return {
      kind: 'mismatch',
      part: 'operations',
      message: `has ${signed.operations.length} operations; the quote has ${quoted.operations.length} (one payment)`,
    };
  }
  const got = signed.operations[0]!;
  const want = quoted.operations[0] as Operation.Payment;
  if (got.type !== 'payment') return differs('operation', got.type, want.type);
  if (got.source !== undefined && got.source !== quoted.source) return differs('operation source', got.source, 'none');
  if (got.destination !== want.destination) return differs('destination', got.destination, want.destination);
  if (!got.asset.equals(want.asset)) return differs('asset', got.asset.toString(), want.asset.toString());
  if (got.amount !== want.amount) return differs('amount', got.amount, want.amount);
  if (signed.fee !== quoted.fee) return differs('fee', signed.fee, quoted.fee);
  const hash = signed.hash();
  if (hash.toString('hex') !== quote.hash) {
    return { kind: 'mismatch', part: 'transaction', message: 'is not the quoted transaction (its hash differs)' };
  }
  const holder = Keypair.fromPublicKey(quote.holder);
  const signedByHolder = signed.signatures.some(
    (signature) => signature.hint().equals(holder.signatureHint()) && holder.verify(hash, signature.signature()),
  );
  if (!signedByHolder) return { kind: 'unsigned', message: `is not signed by the holder ${quote.holder}` };
  return { envelopeXdr: signed.toXDR() };
}
