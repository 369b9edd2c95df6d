import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Account, Asset, Operation } from '@stellar/stellar-sdk';
import { buildTransaction, control, startTestSandbox, type TestSandbox } from './support';

interface ClosedLedger {
  sequence: number;
  transactionCount: number;
  operationCount: number;
  queued: number;
}

describe('ledger capacity', () => {
  let t: TestSandbox;

  beforeAll(async () => {
    // Ledgers close only on demand here, so the test decides exactly what each ledger holds.
    t = await startTestSandbox({ ledgerIntervalMs: 3_600_000, maxOpsPerLedger: 5, channelAccounts: 12 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('spills operations beyond the per-ledger capacity into the following ledgers, in submission order', async () => {
    const hashes: string[] = [];
    for (let index = 0; index < 12; index += 1) {
      const channel = t.channel(index);
      const transaction = await buildTransaction(
        t,
        channel.publicKey(),
        [Operation.payment({ destination: t.sandbox.accounts.distribution, asset: Asset.native(), amount: '1' })],
        { memo: `capacity-${index}` },
      );
      transaction.sign(channel);
      const pending = await t.horizon.submitAsyncTransaction(transaction);
      assert.equal(pending.tx_status, 'PENDING');
      hashes.push(pending.hash);
    }

    const closed: ClosedLedger[] = [];
    for (let round = 0; round < 3; round += 1) {
      closed.push((await control<ClosedLedger>(t, 'POST', '/sandbox/close-ledger')).body);
    }
    assert.deepEqual(
      closed.map((ledger) => [ledger.transactionCount, ledger.operationCount, ledger.queued]),
      [
        [5, 5, 7],
        [5, 5, 2],
        [2, 2, 0],
      ],
    );
    const ledgers = await Promise.all(
      hashes.map(async (hash) => (await t.horizon.transactions().transaction(hash).call()).ledger_attr),
    );
    const first = closed[0]?.sequence ?? 0;
    assert.deepEqual(ledgers, [
      first,
      first,
      first,
      first,
      first,
      first + 1,
      first + 1,
      first + 1,
      first + 1,
      first + 1,
      first + 2,
      first + 2,
    ]);
    const ledger = await t.horizon
      .ledgers()
      .ledger(first + 1)
      .call();
    assert.equal((ledger as unknown as { operation_count: number }).operation_count, 5);
  });

  it('counts operations, not transactions, and keeps one account’s chained transactions in order', async () => {
    const channel = t.channel(0);
    const loaded = await t.horizon.loadAccount(channel.publicKey());
    const account = new Account(channel.publicKey(), loaded.sequence);
    const payment = Operation.payment({
      destination: t.sandbox.accounts.distribution,
      asset: Asset.native(),
      amount: '1',
    });
    const hashes: string[] = [];
    // Three operations each: only one transaction fits a 5-operation ledger.
    for (let index = 0; index < 3; index += 1) {
      const transaction = await buildTransaction(t, account, [payment, payment, payment], { fee: '300' });
      transaction.sign(channel);
      const pending = await t.horizon.submitAsyncTransaction(transaction);
      assert.equal(pending.tx_status, 'PENDING');
      hashes.push(pending.hash);
    }
    const closed: ClosedLedger[] = [];
    for (let round = 0; round < 3; round += 1) {
      closed.push((await control<ClosedLedger>(t, 'POST', '/sandbox/close-ledger')).body);
    }
    assert.deepEqual(
      closed.map((ledger) => ledger.operationCount),
      [3, 3, 3],
    );
    const records = await Promise.all(hashes.map((hash) => t.horizon.transactions().transaction(hash).call()));
    assert.deepEqual(
      records.map((record) => record.successful),
      [true, true, true],
    );
    assert.deepEqual(
      records.map((record) => record.ledger_attr),
      closed.map((ledger) => ledger.sequence),
    );
  });
});
