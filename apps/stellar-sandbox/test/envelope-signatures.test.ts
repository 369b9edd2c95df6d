/**
 * How the sandbox reads envelopes (stellar-base's TransactionBuilder.fromXDR and accessors) and
 * checks their signatures (Keypair.verify by hint): every signer core asks for, in the shapes
 * the gateway and wallets send — channel-sourced batches, fee bumps, muxed sources, v0
 * envelopes, CAP-21 preconditions.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import {
  Account,
  Asset,
  Keypair,
  MuxedAccount,
  Operation,
  StrKey,
  TransactionBuilder,
  xdr,
  type Transaction,
} from '@stellar/stellar-sdk';
import {
  buildTransaction,
  friendbotAccount,
  httpFailure,
  startTestSandbox,
  submitRefused,
  type TestSandbox,
} from './support';

describe('envelopes and their signatures', () => {
  let t: TestSandbox;
  /** A funded account that trusts NOVA. */
  let holder: Keypair;

  beforeAll(async () => {
    t = await startTestSandbox();
    holder = await friendbotAccount(t);
    const trust = await buildTransaction(t, holder.publicKey(), [Operation.changeTrust({ asset: t.nova })]);
    trust.sign(holder);
    await t.horizon.submitTransaction(trust);
  });
  afterAll(async () => {
    await t.stop();
  });

  const xlmPayment = (destination: string, amount = '1') =>
    Operation.payment({ destination, asset: Asset.native(), amount });

  /** A NOVA payment from the distribution account in a transaction sourced by a channel, as the gateway builds it. */
  const channelPayment = (memo: string) =>
    buildTransaction(
      t,
      t.channel(0).publicKey(),
      [
        Operation.payment({
          source: t.sandbox.accounts.distribution,
          destination: holder.publicKey(),
          asset: t.nova,
          amount: '1',
        }),
      ],
      { memo },
    );

  it('lands a channel-sourced payment signed by the channel and the operation source, and names what is missing or extra', async () => {
    const both = await channelPayment('two-signers');
    both.sign(t.channel(0), t.distribution);
    assert.equal((await t.horizon.submitTransaction(both)).successful, true);

    const withoutChannel = await channelPayment('no-tx-source');
    withoutChannel.sign(t.distribution);
    assert.deepEqual(await submitRefused(t, withoutChannel), { transaction: 'tx_bad_auth' });

    const withoutDistribution = await channelPayment('no-op-source');
    withoutDistribution.sign(t.channel(0));
    assert.deepEqual(await submitRefused(t, withoutDistribution), {
      transaction: 'tx_failed',
      operations: ['op_bad_auth'],
    });

    const third = await channelPayment('extra-signer');
    third.sign(t.channel(0), t.distribution, holder);
    assert.deepEqual(await submitRefused(t, third), { transaction: 'tx_bad_auth_extra' });
  });

  it('checks a fee bump signature against the fee source, and the inner signatures against the inner source', async () => {
    const payer = await friendbotAccount(t);
    const sponsor = t.channel(1);
    const bumpOf = (inner: Transaction) =>
      TransactionBuilder.buildFeeBumpTransaction(sponsor, '200', inner, t.sandbox.networkPassphrase);
    const signedInner = await buildTransaction(t, payer.publicKey(), [xlmPayment(t.sandbox.accounts.issuer)]);
    signedInner.sign(payer);

    const byStranger = bumpOf(signedInner);
    byStranger.sign(Keypair.random());
    assert.deepEqual(await submitRefused(t, byStranger), { transaction: 'tx_bad_auth' });

    const byPayer = bumpOf(signedInner);
    byPayer.sign(payer);
    assert.deepEqual(await submitRefused(t, byPayer), { transaction: 'tx_bad_auth' });

    const withExtra = bumpOf(signedInner);
    withExtra.sign(sponsor, payer);
    assert.deepEqual(await submitRefused(t, withExtra), { transaction: 'tx_bad_auth_extra' });

    const unsignedInner = await buildTransaction(t, payer.publicKey(), [xlmPayment(t.sandbox.accounts.issuer)]);
    const overUnsigned = bumpOf(unsignedInner);
    overUnsigned.sign(sponsor);
    assert.deepEqual(await submitRefused(t, overUnsigned), {
      transaction: 'tx_fee_bump_inner_failed',
      inner_transaction: 'tx_bad_auth',
    });

    const good = bumpOf(signedInner);
    good.sign(sponsor);
    const landed = await t.horizon.submitTransaction(good);
    assert.equal(landed.successful, true);
    assert.equal(landed.hash, good.hash().toString('hex'));
  });

  it('acts on the base account of a muxed source, signed by the base key', async () => {
    const account = await t.horizon.loadAccount(holder.publicKey());
    const muxed = new MuxedAccount(new Account(holder.publicKey(), account.sequence), '7');
    const transaction = await buildTransaction(t, muxed, [xlmPayment(t.sandbox.accounts.issuer)]);
    assert.ok(transaction.source.startsWith('M'));
    transaction.sign(holder);
    const result = await t.horizon.submitTransaction(transaction);
    assert.equal(result.successful, true);
    const record = await t.horizon.transactions().transaction(result.hash).call();
    assert.equal(record.source_account, holder.publicKey());
    assert.equal(BigInt(record.source_account_sequence), BigInt(account.sequence) + 1n);
  });

  it('accepts a v0 envelope signed over the v1 form of its transaction, as core hashes it', async () => {
    const v1 = await buildTransaction(t, holder.publicKey(), [xlmPayment(t.sandbox.accounts.issuer)]);
    const tx = v1.toEnvelope().v1().tx();
    const v0 = new xdr.TransactionV0({
      sourceAccountEd25519: StrKey.decodeEd25519PublicKey(holder.publicKey()),
      fee: tx.fee(),
      seqNum: tx.seqNum(),
      timeBounds: tx.cond().timeBounds(),
      memo: tx.memo(),
      operations: tx.operations(),
      ext: new xdr.TransactionV0Ext(0),
    });
    const signature = new xdr.DecoratedSignature({
      hint: holder.signatureHint(),
      signature: holder.sign(v1.hash()),
    });
    const envelope = xdr.TransactionEnvelope.envelopeTypeTxV0(
      new xdr.TransactionV0Envelope({ tx: v0, signatures: [signature] }),
    );
    const legacy = TransactionBuilder.fromXDR(envelope, t.sandbox.networkPassphrase) as Transaction;
    const result = await t.horizon.submitTransaction(legacy);
    assert.equal(result.successful, true);
    assert.equal(result.hash, v1.hash().toString('hex'));
  });

  it('applies CAP-21 preconditions: extra signers (ed25519 and hash-x), min sequence number, age and ledger bounds', async () => {
    const cosigner = Keypair.random();
    const preimage = randomBytes(32);
    const hashX = StrKey.encodeSha256Hash(createHash('sha256').update(preimage).digest());
    const withExtraSigners = async () => {
      const account = await t.horizon.loadAccount(holder.publicKey());
      return new TransactionBuilder(account, {
        fee: '100',
        networkPassphrase: t.sandbox.networkPassphrase,
        extraSigners: [cosigner.publicKey(), hashX],
      })
        .addOperation(xlmPayment(t.sandbox.accounts.issuer))
        .setTimeout(60)
        .build();
    };
    const missingCosigner = await withExtraSigners();
    missingCosigner.sign(holder);
    missingCosigner.signHashX(preimage);
    assert.deepEqual(await submitRefused(t, missingCosigner), { transaction: 'tx_bad_auth' });
    const missingPreimage = await withExtraSigners();
    missingPreimage.sign(holder, cosigner);
    assert.deepEqual(await submitRefused(t, missingPreimage), { transaction: 'tx_bad_auth' });
    const complete = await withExtraSigners();
    complete.sign(holder, cosigner);
    complete.signHashX(preimage);
    assert.equal((await t.horizon.submitTransaction(complete)).successful, true);

    const current = (await t.horizon.loadAccount(holder.publicKey())).sequence;
    const gapped = (options: Partial<TransactionBuilder.TransactionBuilderOptions>) => {
      // Three sequence numbers ahead: only a minAccountSequence at or below the current one allows it.
      const builder = new TransactionBuilder(new Account(holder.publicKey(), (BigInt(current) + 2n).toString()), {
        fee: '100',
        networkPassphrase: t.sandbox.networkPassphrase,
        ...options,
      });
      const transaction = builder.addOperation(xlmPayment(t.sandbox.accounts.issuer)).setTimeout(60).build();
      transaction.sign(holder);
      return transaction;
    };
    assert.deepEqual(await submitRefused(t, gapped({})), { transaction: 'tx_bad_seq' });
    const tooYoung = await httpFailure(
      t.horizon.submitTransaction(gapped({ minAccountSequence: current, minAccountSequenceAge: 86_400 }), {
        skipMemoRequiredCheck: true,
      }),
    );
    const resultXdr = (tooYoung.data as { extras: { result_xdr: string } }).extras.result_xdr;
    assert.equal(xdr.TransactionResult.fromXDR(resultXdr, 'base64').result().switch().name, 'txBadMinSeqAgeOrGap');
    const pastLedgers = gapped({ minAccountSequence: current, ledgerbounds: { minLedger: 0, maxLedger: 2 } });
    assert.deepEqual(await submitRefused(t, pastLedgers), { transaction: 'tx_too_late' });
    const landed = await t.horizon.submitTransaction(gapped({ minAccountSequence: current }));
    assert.equal(landed.successful, true);
    const account = await t.horizon.loadAccount(holder.publicKey());
    assert.equal(BigInt(account.sequence), BigInt(current) + 3n);
  });

  it('answers transaction_malformed for XDR that stellar-base cannot read (an asset code outside [a-zA-Z0-9])', async () => {
    const transaction = await buildTransaction(t, holder.publicKey(), [xlmPayment(t.sandbox.accounts.issuer)]);
    const envelope = transaction.toEnvelope();
    const badAsset = xdr.Asset.assetTypeCreditAlphanum4(
      new xdr.AlphaNum4({
        assetCode: Buffer.from('AB!C'),
        issuer: Keypair.fromPublicKey(t.nova.issuer).xdrAccountId(),
      }),
    );
    envelope
      .v1()
      .tx()
      .operations([
        new xdr.Operation({
          sourceAccount: null,
          body: xdr.OperationBody.payment(
            new xdr.PaymentOp({
              destination: xdr.MuxedAccount.keyTypeEd25519(StrKey.decodeEd25519PublicKey(t.sandbox.accounts.issuer)),
              asset: badAsset,
              amount: xdr.Int64.fromString('10000000'),
            }),
          ),
        }),
      ]);
    const response = await fetch(`${t.sandbox.url}/transactions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ tx: envelope.toXDR('base64') }).toString(),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { type: string };
    assert.equal(body.type, 'https://stellar.org/horizon-errors/transaction_malformed');
  });
});
