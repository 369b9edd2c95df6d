import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Account, Asset, Keypair, NotFoundError, Operation, xdr, type Horizon } from '@stellar/stellar-sdk';
import {
  assetBalance,
  buildTransaction,
  eventually,
  friendbotAccount,
  httpFailure,
  landedWithMemo,
  nativeBalance,
  startTestSandbox,
  type TestSandbox,
} from './support';

describe('Horizon: a NOVA reward paid through a channel account', () => {
  let t: TestSandbox;
  let holder: Keypair;
  let paymentHash: string;
  let paymentLedger: number;

  beforeAll(async () => {
    t = await startTestSandbox();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('serves the root document with the network passphrase and ledger heights', async () => {
    const root = await t.horizon.root();
    assert.equal(root.network_passphrase, t.sandbox.networkPassphrase);
    assert.ok(root.history_latest_ledger >= 3);
    assert.equal(root.core_latest_ledger, root.history_latest_ledger);
    assert.equal(typeof root.horizon_version, 'string');
  });

  it('friendbot creates and funds a new account with 10,000 XLM, once', async () => {
    holder = Keypair.random();
    const funding = (await t.horizon
      .friendbot(holder.publicKey())
      .call()) as unknown as Horizon.ServerApi.TransactionRecord;
    assert.equal(funding.successful, true);
    const account = await t.horizon.loadAccount(holder.publicKey());
    assert.equal(nativeBalance(account), '10000.0000000');
    assert.match(account.sequence, /^\d+$/);

    const again = await httpFailure(t.horizon.friendbot(holder.publicKey()).call());
    assert.equal(again.status, 400);
  });

  it('answers 404 (NotFoundError in the SDK) for an unknown account', async () => {
    await assert.rejects(t.horizon.loadAccount(Keypair.random().publicKey()), NotFoundError);
  });

  it('lets the holder trust NOVA', async () => {
    const transaction = await buildTransaction(t, holder.publicKey(), [Operation.changeTrust({ asset: t.nova })]);
    transaction.sign(holder);
    const result = await t.horizon.submitTransaction(transaction);
    assert.equal(result.successful, true);
    const account = await t.horizon.loadAccount(holder.publicKey());
    assert.equal(assetBalance(account, t.nova), '0.0000000');
    assert.equal(account.subentry_count, 1);
    const line = account.balances.find((balance) => balance.asset_type === 'credit_alphanum4');
    assert.ok(line && line.asset_type === 'credit_alphanum4');
    assert.equal(line.limit, '922337203685.4775807');
    assert.equal(line.is_authorized, true);
  });

  it('pays 25 NOVA from the distribution account in a channel-sourced transaction with a text memo', async () => {
    const channel = t.channel(0);
    const distributionBefore = await t.horizon.loadAccount(t.sandbox.accounts.distribution);
    const channelBefore = await t.horizon.loadAccount(channel.publicKey());
    const transaction = await buildTransaction(
      t,
      channel.publicKey(),
      [
        Operation.payment({
          source: t.sandbox.accounts.distribution,
          destination: holder.publicKey(),
          asset: t.nova,
          amount: '25',
        }),
      ],
      { memo: 'issuance/happy-1' },
    );
    transaction.sign(channel, t.distribution);
    const result = await t.horizon.submitTransaction(transaction);
    assert.equal(result.successful, true);
    assert.equal(result.hash, transaction.hash().toString('hex'));
    paymentHash = result.hash;
    paymentLedger = result.ledger;

    const holderAfter = await t.horizon.loadAccount(holder.publicKey());
    assert.equal(assetBalance(holderAfter, t.nova), '25.0000000');
    const distributionAfter = await t.horizon.loadAccount(t.sandbox.accounts.distribution);
    assert.equal(
      BigInt(assetBalance(distributionBefore, t.nova)?.replace('.', '') ?? '0') -
        BigInt(assetBalance(distributionAfter, t.nova)?.replace('.', '') ?? '0'),
      250_000_000n,
    );
    // The channel paid the fee and consumed its sequence; the distribution account did neither.
    const channelAfter = await t.horizon.loadAccount(channel.publicKey());
    assert.equal(BigInt(channelAfter.sequence), BigInt(channelBefore.sequence) + 1n);
    assert.equal(nativeBalance(distributionAfter), nativeBalance(distributionBefore));
    assert.equal(distributionAfter.sequence, distributionBefore.sequence);
  });

  it('finds the transaction by hash with its memo, ledger and XDR', async () => {
    const record = await t.horizon.transactions().transaction(paymentHash).call();
    assert.equal(record.hash, paymentHash);
    assert.equal(record.successful, true);
    assert.equal(record.memo, 'issuance/happy-1');
    assert.equal(record.memo_type, 'text');
    assert.equal(record.ledger_attr, paymentLedger);
    assert.equal(record.source_account, t.channel(0).publicKey());
    assert.equal(String(record.fee_charged), '100');
    assert.equal(record.operation_count, 1);
    assert.match(record.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const result = xdr.TransactionResult.fromXDR(record.result_xdr, 'base64');
    assert.equal(result.result().switch().name, 'txSuccess');
    const envelope = xdr.TransactionEnvelope.fromXDR(record.envelope_xdr, 'base64');
    assert.equal(envelope.switch().name, 'envelopeTypeTx');
    const ledger = await record.ledger();
    assert.equal(ledger.sequence, paymentLedger);
  });

  it('lists the holder payments with cursor paging and the joined memo-bearing transaction', async () => {
    const page = await t.horizon.payments().forAccount(holder.publicKey()).order('asc').limit(1).call();
    assert.equal(page.records.length, 1);
    const [created] = page.records;
    assert.ok(created);
    assert.equal(created.type, 'create_account');
    const next = await page.next();
    assert.equal(next.records.length, 1);
    const [payment] = next.records;
    assert.ok(payment && payment.type === 'payment');
    assert.equal(payment.amount, '25.0000000');
    assert.equal(payment.asset_code, 'NOVA');
    assert.equal(payment.asset_issuer, t.sandbox.asset.issuer);
    assert.equal(payment.from, t.sandbox.accounts.distribution);
    assert.equal(payment.to, holder.publicKey());
    assert.equal(payment.transaction_hash, paymentHash);
    assert.equal((await next.next()).records.length, 0);

    const joined = await t.horizon
      .payments()
      .forAccount(holder.publicKey())
      .join('transactions')
      .order('desc')
      .limit(1)
      .call();
    const [latest] = joined.records;
    assert.ok(latest);
    const transaction = await latest.transaction();
    assert.equal(transaction.memo, 'issuance/happy-1');
  });

  it("lists a transaction's payments by its hash, and answers 404 for an unknown one", async () => {
    const page = await t.horizon.payments().forTransaction(paymentHash).join('transactions').call();
    assert.equal(page.records.length, 1);
    const [payment] = page.records;
    assert.ok(payment && payment.type === 'payment');
    assert.equal(payment.transaction_hash, paymentHash);
    assert.equal(payment.from, t.sandbox.accounts.distribution);
    assert.equal(payment.amount, '25.0000000');
    assert.equal((await payment.transaction()).memo, 'issuance/happy-1');
    const unknown = await httpFailure(t.horizon.payments().forTransaction('0'.repeat(64)).call());
    assert.equal(unknown.status, 404);
  });

  it('counts landed transactions by memo on the control endpoint', async () => {
    const landed = await landedWithMemo(t, 'issuance/happy-1');
    assert.equal(landed.count, 1);
    assert.equal(landed.successful, 1);
    assert.equal((await landedWithMemo(t, 'issuance/never-sent')).count, 0);
  });

  it('serves the latest ledger, base fee and fee stats', async () => {
    const ledgers = await t.horizon.ledgers().order('desc').limit(1).call();
    const [latest] = ledgers.records;
    assert.ok(latest);
    assert.ok(latest.sequence >= paymentLedger);
    assert.equal(latest.base_fee_in_stroops, 100);
    assert.equal(typeof latest.header_xdr, 'string');
    assert.equal(xdr.LedgerHeader.fromXDR(latest.header_xdr, 'base64').ledgerSeq(), latest.sequence);
    assert.equal(await t.horizon.fetchBaseFee(), 100);
    const stats = await t.horizon.feeStats();
    assert.match(stats.last_ledger, /^\d+$/);
    assert.equal(stats.last_ledger_base_fee, '100');
    assert.match(stats.fee_charged.p50, /^\d+$/);
  });

  it('accepts asynchronous submissions (PENDING) that land in a later ledger, and answers ERROR at once', async () => {
    const account = await friendbotAccount(t);
    const loaded = await t.horizon.loadAccount(account.publicKey());
    const stale = await buildTransaction(
      t,
      new Account(account.publicKey(), (BigInt(loaded.sequence) - 1n).toString()),
      [Operation.payment({ destination: holder.publicKey(), asset: Asset.native(), amount: '1' })],
      { memo: 'async-stale' },
    );
    stale.sign(account);
    const refused = await httpFailure(t.horizon.submitAsyncTransaction(stale));
    assert.equal(refused.status, 400);
    const body = refused.data as { tx_status: string; hash: string; error_result_xdr: string };
    assert.equal(body.tx_status, 'ERROR');
    assert.equal(body.hash, stale.hash().toString('hex'));
    assert.equal(xdr.TransactionResult.fromXDR(body.error_result_xdr, 'base64').result().switch().name, 'txBadSeq');

    const valid = await buildTransaction(
      t,
      account.publicKey(),
      [Operation.payment({ destination: holder.publicKey(), asset: Asset.native(), amount: '1' })],
      { memo: 'async-ok' },
    );
    valid.sign(account);
    const pending = await t.horizon.submitAsyncTransaction(valid);
    assert.equal(pending.tx_status, 'PENDING');
    assert.equal(pending.hash, valid.hash().toString('hex'));
    const landed = await eventually(async () => {
      try {
        return await t.horizon.transactions().transaction(pending.hash).call();
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
    });
    assert.equal(landed.successful, true);
    assert.equal(landed.memo, 'async-ok');
  });
});
