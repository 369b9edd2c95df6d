import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Account, Asset, Keypair, Operation, TransactionBuilder, xdr } from '@stellar/stellar-sdk';
import {
  assetBalance,
  buildTransaction,
  friendbotAccount,
  httpFailure,
  nativeBalance,
  resultCodesOf,
  startTestSandbox,
  submitRefused,
  type TestSandbox,
} from './support';

describe('transaction validation with the network result codes', () => {
  let t: TestSandbox;
  /** A funded account that trusts NOVA (limit 1000) and holds 100 NOVA. */
  let holder: Keypair;

  beforeAll(async () => {
    t = await startTestSandbox();
    holder = await friendbotAccount(t);
    const trust = await buildTransaction(t, holder.publicKey(), [
      Operation.changeTrust({ asset: t.nova, limit: '1000' }),
    ]);
    trust.sign(holder);
    await t.horizon.submitTransaction(trust);
    const fund = await buildTransaction(t, t.sandbox.accounts.distribution, [
      Operation.payment({ destination: holder.publicKey(), asset: t.nova, amount: '100' }),
    ]);
    fund.sign(t.distribution);
    await t.horizon.submitTransaction(fund);
  });
  afterAll(async () => {
    await t.stop();
  });

  const xlmPayment = (destination: string, amount = '1') =>
    Operation.payment({ destination, asset: Asset.native(), amount });

  it('refuses a signature by the wrong key with tx_bad_auth, and the SDK exposes the result codes', async () => {
    const transaction = await buildTransaction(t, holder.publicKey(), [xlmPayment(t.sandbox.accounts.issuer)]);
    transaction.sign(Keypair.random());
    const failure = await httpFailure(t.horizon.submitTransaction(transaction, { skipMemoRequiredCheck: true }));
    assert.equal(failure.status, 400);
    const data = failure.data as { type: string; title: string; status: number; extras: Record<string, unknown> };
    assert.equal(data.type, 'https://stellar.org/horizon-errors/transaction_failed');
    assert.equal(data.title, 'Transaction Failed');
    assert.equal(data.status, 400);
    assert.deepEqual(resultCodesOf(failure), { transaction: 'tx_bad_auth' });
    assert.equal(data.extras.envelope_xdr, transaction.toEnvelope().toXDR('base64'));
    const result = xdr.TransactionResult.fromXDR(String(data.extras.result_xdr), 'base64');
    assert.equal(result.result().switch().name, 'txBadAuth');
    assert.equal(result.feeCharged().toString(), '0');
  });

  it('refuses a transaction signed for another network passphrase with tx_bad_auth', async () => {
    const transaction = await buildTransaction(t, holder.publicKey(), [xlmPayment(t.sandbox.accounts.issuer)], {
      networkPassphrase: 'Test SDF Network ; September 2015',
    });
    transaction.sign(holder);
    assert.deepEqual(await submitRefused(t, transaction), { transaction: 'tx_bad_auth' });
  });

  it('refuses stale and skipped sequence numbers with tx_bad_seq', async () => {
    const current = BigInt((await t.horizon.loadAccount(holder.publicKey())).sequence);
    for (const base of [current - 1n, current + 1n]) {
      const transaction = await buildTransaction(t, new Account(holder.publicKey(), base.toString()), [
        xlmPayment(t.sandbox.accounts.issuer),
      ]);
      transaction.sign(holder);
      assert.deepEqual(await submitRefused(t, transaction), { transaction: 'tx_bad_seq' });
    }
  });

  it('refuses an expired upper time bound with tx_too_late', async () => {
    const now = Math.floor(Date.now() / 1000);
    const transaction = await buildTransaction(t, holder.publicKey(), [xlmPayment(t.sandbox.accounts.issuer)], {
      timebounds: { minTime: 0, maxTime: now - 60 },
    });
    transaction.sign(holder);
    assert.deepEqual(await submitRefused(t, transaction), { transaction: 'tx_too_late' });
  });

  it('refuses a fee below 100 stroops per operation with tx_insufficient_fee', async () => {
    const transaction = await buildTransaction(
      t,
      holder.publicKey(),
      [xlmPayment(t.sandbox.accounts.issuer), xlmPayment(t.sandbox.accounts.issuer)],
      { fee: '99' },
    );
    transaction.sign(holder);
    assert.deepEqual(await submitRefused(t, transaction), { transaction: 'tx_insufficient_fee' });
  });

  it('fails a payment to an account without a trustline (op_no_trust), charging the fee and consuming the sequence', async () => {
    const stranger = await friendbotAccount(t);
    const before = await t.horizon.loadAccount(t.sandbox.accounts.distribution);
    const transaction = await buildTransaction(t, t.sandbox.accounts.distribution, [
      Operation.payment({ destination: stranger.publicKey(), asset: t.nova, amount: '5' }),
    ]);
    transaction.sign(t.distribution);
    assert.deepEqual(await submitRefused(t, transaction), { transaction: 'tx_failed', operations: ['op_no_trust'] });

    const after = await t.horizon.loadAccount(t.sandbox.accounts.distribution);
    assert.equal(BigInt(after.sequence), BigInt(before.sequence) + 1n);
    assert.equal(BigInt(nativeBalance(before).replace('.', '')) - BigInt(nativeBalance(after).replace('.', '')), 100n);
    assert.equal(assetBalance(after, t.nova), assetBalance(before, t.nova));
    // The failed transaction is in the ledger, as on the network.
    const record = await t.horizon.transactions().transaction(transaction.hash().toString('hex')).call();
    assert.equal(record.successful, false);
  });

  it('fails an overdraft with op_underfunded (NOVA and XLM)', async () => {
    const nova = await buildTransaction(t, holder.publicKey(), [
      Operation.payment({ destination: t.sandbox.accounts.distribution, asset: t.nova, amount: '100.0000001' }),
    ]);
    nova.sign(holder);
    assert.deepEqual(await submitRefused(t, nova), { transaction: 'tx_failed', operations: ['op_underfunded'] });

    // 10,000 XLM minus the reserve (2 entries + 1 trustline = 1.5 XLM) cannot all be sent.
    const lumens = await buildTransaction(t, holder.publicKey(), [xlmPayment(t.sandbox.accounts.issuer, '9999')]);
    lumens.sign(holder);
    assert.deepEqual(await submitRefused(t, lumens), { transaction: 'tx_failed', operations: ['op_underfunded'] });
  });

  it('fails a payment over the trustline limit with op_line_full', async () => {
    const transaction = await buildTransaction(t, t.sandbox.accounts.distribution, [
      Operation.payment({ destination: holder.publicKey(), asset: t.nova, amount: '900.0000001' }),
    ]);
    transaction.sign(t.distribution);
    assert.deepEqual(await submitRefused(t, transaction), { transaction: 'tx_failed', operations: ['op_line_full'] });
  });

  it('fails a payment to a missing account with op_no_destination', async () => {
    const transaction = await buildTransaction(t, holder.publicKey(), [xlmPayment(Keypair.random().publicKey())]);
    transaction.sign(holder);
    assert.deepEqual(await submitRefused(t, transaction), {
      transaction: 'tx_failed',
      operations: ['op_no_destination'],
    });
  });

  it('rolls back every operation when one fails, reporting each operation code', async () => {
    const before = await t.horizon.loadAccount(holder.publicKey());
    const transaction = await buildTransaction(
      t,
      holder.publicKey(),
      [xlmPayment(t.sandbox.accounts.issuer, '10'), xlmPayment(Keypair.random().publicKey(), '10')],
      { fee: '200' },
    );
    transaction.sign(holder);
    assert.deepEqual(await submitRefused(t, transaction), {
      transaction: 'tx_failed',
      operations: ['op_success', 'op_no_destination'],
    });
    const after = await t.horizon.loadAccount(holder.publicKey());
    assert.equal(BigInt(nativeBalance(before).replace('.', '')) - BigInt(nativeBalance(after).replace('.', '')), 200n);
  });

  it('refuses an operation whose source did not sign with op_bad_auth, and unsupported operations with op_not_supported', async () => {
    const unsigned = await buildTransaction(t, holder.publicKey(), [
      Operation.payment({
        source: t.sandbox.accounts.distribution,
        destination: holder.publicKey(),
        asset: t.nova,
        amount: '1',
      }),
    ]);
    unsigned.sign(holder);
    assert.deepEqual(await submitRefused(t, unsigned), { transaction: 'tx_failed', operations: ['op_bad_auth'] });

    const manageData = await buildTransaction(t, holder.publicKey(), [Operation.manageData({ name: 'k', value: 'v' })]);
    manageData.sign(holder);
    assert.deepEqual(await submitRefused(t, manageData), {
      transaction: 'tx_failed',
      operations: ['op_not_supported'],
    });
  });

  it('refuses unneeded signatures with tx_bad_auth_extra', async () => {
    const transaction = await buildTransaction(t, holder.publicKey(), [xlmPayment(t.sandbox.accounts.issuer)]);
    transaction.sign(holder, t.distribution);
    assert.deepEqual(await submitRefused(t, transaction), { transaction: 'tx_bad_auth_extra' });
  });

  it('applies createAccount rules: op_already_exists and op_low_reserve', async () => {
    const exists = await buildTransaction(t, holder.publicKey(), [
      Operation.createAccount({ destination: t.sandbox.accounts.issuer, startingBalance: '5' }),
    ]);
    exists.sign(holder);
    assert.deepEqual(await submitRefused(t, exists), { transaction: 'tx_failed', operations: ['op_already_exists'] });
    const low = await buildTransaction(t, holder.publicKey(), [
      Operation.createAccount({ destination: Keypair.random().publicKey(), startingBalance: '0.5' }),
    ]);
    low.sign(holder);
    assert.deepEqual(await submitRefused(t, low), { transaction: 'tx_failed', operations: ['op_low_reserve'] });
  });

  it('lets the issuer mint without a trustline, burns on payment to the issuer, and removes only empty trustlines', async () => {
    const minted = await buildTransaction(t, t.sandbox.accounts.issuer, [
      Operation.payment({ destination: holder.publicKey(), asset: t.nova, amount: '10' }),
    ]);
    minted.sign(t.issuer);
    assert.equal((await t.horizon.submitTransaction(minted)).successful, true);
    assert.equal(assetBalance(await t.horizon.loadAccount(holder.publicKey()), t.nova), '110.0000000');
    const issuerAccount = await t.horizon.loadAccount(t.sandbox.accounts.issuer);
    assert.equal(assetBalance(issuerAccount, t.nova), undefined);

    const removeWhileHolding = await buildTransaction(t, holder.publicKey(), [
      Operation.changeTrust({ asset: t.nova, limit: '0' }),
    ]);
    removeWhileHolding.sign(holder);
    assert.deepEqual(await submitRefused(t, removeWhileHolding), {
      transaction: 'tx_failed',
      operations: ['op_invalid_limit'],
    });

    const burn = await buildTransaction(t, holder.publicKey(), [
      Operation.payment({ destination: t.sandbox.accounts.issuer, asset: t.nova, amount: '110' }),
    ]);
    burn.sign(holder);
    assert.equal((await t.horizon.submitTransaction(burn)).successful, true);
    assert.equal(assetBalance(await t.horizon.loadAccount(holder.publicKey()), t.nova), '0.0000000');

    const remove = await buildTransaction(t, holder.publicKey(), [
      Operation.changeTrust({ asset: t.nova, limit: '0' }),
    ]);
    remove.sign(holder);
    assert.equal((await t.horizon.submitTransaction(remove)).successful, true);
    const after = await t.horizon.loadAccount(holder.publicKey());
    assert.equal(assetBalance(after, t.nova), undefined);
    assert.equal(after.subentry_count, 0);
  });

  it('applies a fee bump: the fee source pays, and both hashes find the transaction', async () => {
    const payer = await friendbotAccount(t);
    const sponsor = t.channel(1);
    const payerBefore = await t.horizon.loadAccount(payer.publicKey());
    const sponsorBefore = await t.horizon.loadAccount(sponsor.publicKey());
    const inner = await buildTransaction(t, payer.publicKey(), [xlmPayment(t.sandbox.accounts.issuer, '2')], {
      memo: 'fee-bumped',
    });
    inner.sign(payer);
    const bump = TransactionBuilder.buildFeeBumpTransaction(sponsor, '200', inner, t.sandbox.networkPassphrase);
    bump.sign(sponsor);
    const outerHash = bump.hash().toString('hex');
    const innerHash = inner.hash().toString('hex');
    assert.notEqual(outerHash, innerHash);

    const result = await t.horizon.submitTransaction(bump);
    assert.equal(result.successful, true);
    assert.equal(result.hash, outerHash);

    const byOuter = await t.horizon.transactions().transaction(outerHash).call();
    assert.equal(byOuter.hash, outerHash);
    assert.equal(byOuter.fee_account, sponsor.publicKey());
    assert.equal(byOuter.source_account, payer.publicKey());
    assert.equal(byOuter.fee_bump_transaction?.hash, outerHash);
    assert.equal(byOuter.inner_transaction?.hash, innerHash);
    const byInner = await t.horizon.transactions().transaction(innerHash).call();
    assert.equal(byInner.hash, innerHash);
    assert.equal(byInner.ledger_attr, byOuter.ledger_attr);
    assert.equal(
      xdr.TransactionResult.fromXDR(byOuter.result_xdr, 'base64').result().switch().name,
      'txFeeBumpInnerSuccess',
    );

    const payerAfter = await t.horizon.loadAccount(payer.publicKey());
    const sponsorAfter = await t.horizon.loadAccount(sponsor.publicKey());
    assert.equal(BigInt(payerAfter.sequence), BigInt(payerBefore.sequence) + 1n);
    // Only the payment left the payer; the sponsor paid 2 x 100 stroops (inner operation + the bump).
    assert.equal(
      BigInt(nativeBalance(payerBefore).replace('.', '')) - BigInt(nativeBalance(payerAfter).replace('.', '')),
      20_000_000n,
    );
    assert.equal(
      BigInt(nativeBalance(sponsorBefore).replace('.', '')) - BigInt(nativeBalance(sponsorAfter).replace('.', '')),
      200n,
    );

    const staleInner = await buildTransaction(t, new Account(payer.publicKey(), payerBefore.sequence), [
      xlmPayment(t.sandbox.accounts.issuer),
    ]);
    staleInner.sign(payer);
    const staleBump = TransactionBuilder.buildFeeBumpTransaction(
      sponsor,
      '200',
      staleInner,
      t.sandbox.networkPassphrase,
    );
    staleBump.sign(sponsor);
    assert.deepEqual(await submitRefused(t, staleBump), {
      transaction: 'tx_fee_bump_inner_failed',
      inner_transaction: 'tx_bad_seq',
    });
  });

  it('answers a duplicate submission with the original result (200 or the same failure)', async () => {
    const transaction = await buildTransaction(t, holder.publicKey(), [xlmPayment(t.sandbox.accounts.issuer)], {
      memo: 'dup',
    });
    transaction.sign(holder);
    const first = await t.horizon.submitTransaction(transaction);
    const second = await t.horizon.submitTransaction(transaction);
    assert.equal(second.hash, first.hash);
    assert.equal(second.ledger, first.ledger);
    assert.equal(second.result_xdr, first.result_xdr);
    const asyncDuplicate = await httpFailure(t.horizon.submitAsyncTransaction(transaction));
    assert.equal(asyncDuplicate.status, 409);
    assert.deepEqual(asyncDuplicate.data, { tx_status: 'DUPLICATE', hash: first.hash });

    const failing = await buildTransaction(t, holder.publicKey(), [xlmPayment(Keypair.random().publicKey())]);
    failing.sign(holder);
    const firstFailure = await httpFailure(t.horizon.submitTransaction(failing, { skipMemoRequiredCheck: true }));
    const secondFailure = await httpFailure(t.horizon.submitTransaction(failing, { skipMemoRequiredCheck: true }));
    assert.deepEqual(secondFailure.data, firstFailure.data);
  });

  it('answers a malformed envelope with transaction_malformed', async () => {
    const response = await fetch(`${t.sandbox.url}/transactions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'tx=bm90LXhkcg%3D%3D',
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { type: string };
    assert.equal(body.type, 'https://stellar.org/horizon-errors/transaction_malformed');
  });
});
