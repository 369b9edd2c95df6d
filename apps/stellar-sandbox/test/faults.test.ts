import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import {
  Asset,
  Horizon,
  NetworkError,
  NotFoundError,
  Operation,
  type Keypair,
  type Transaction,
} from '@stellar/stellar-sdk';
import {
  buildTransaction,
  control,
  eventually,
  friendbotAccount,
  httpFailure,
  landedWithMemo,
  startTestSandbox,
  type TestSandbox,
} from './support';

describe('fault injection, observed through the SDK', () => {
  let t: TestSandbox;
  let payer: Keypair;

  beforeAll(async () => {
    t = await startTestSandbox({ submitTimeoutMs: 1_000 });
    payer = await friendbotAccount(t);
  });
  afterAll(async () => {
    await t.stop();
  });

  async function payment(memo: string): Promise<Transaction> {
    const transaction = await buildTransaction(
      t,
      payer.publicKey(),
      [Operation.payment({ destination: t.sandbox.accounts.distribution, asset: Asset.native(), amount: '1' })],
      { memo },
    );
    transaction.sign(payer);
    return transaction;
  }

  async function lookUp(hash: string): Promise<Horizon.ServerApi.TransactionRecord | undefined> {
    try {
      return await t.horizon.transactions().transaction(hash).call();
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  it('respond504ButApply: the SDK sees a 504 Timeout, yet the transaction is in the ledger exactly once', async () => {
    await control(t, 'POST', '/sandbox/faults', { kind: 'respond504ButApply', count: 1, memo: 'f-504' });
    const transaction = await payment('f-504');
    const failure = await httpFailure(t.horizon.submitTransaction(transaction));
    assert.equal(failure.status, 504);
    assert.equal((failure.data as { title: string }).title, 'Timeout');

    const record = await lookUp(transaction.hash().toString('hex'));
    assert.ok(record, 'the transaction was applied before the 504');
    assert.equal(record.successful, true);
    // Resubmitting the same envelope (the safe retry) answers the existing result.
    const retry = await t.horizon.submitTransaction(transaction);
    assert.equal(retry.hash, record.hash);
    assert.equal((await landedWithMemo(t, 'f-504')).count, 1);
  });

  it('rateLimit: 429 problem with Retry-After on a targeted submission, and on any request when untargeted', async () => {
    await control(t, 'POST', '/sandbox/faults', { kind: 'rateLimit', count: 1, memo: 'f-429', retryAfterSeconds: 7 });
    const transaction = await payment('f-429');
    const failure = await httpFailure(t.horizon.submitTransaction(transaction));
    assert.equal(failure.status, 429);
    assert.equal(failure.headers['retry-after'], '7');
    assert.equal((failure.data as { type: string }).type, 'https://stellar.org/horizon-errors/rate_limit_exceeded');
    assert.equal(await lookUp(transaction.hash().toString('hex')), undefined);
    // The fault fired once: the same envelope now goes through.
    assert.equal((await t.horizon.submitTransaction(transaction)).successful, true);

    await control(t, 'POST', '/sandbox/faults', { kind: 'rateLimit', count: 1 });
    const limited = await t.horizon.loadAccount(payer.publicKey()).then(
      () => assert.fail('expected a 429'),
      (error: unknown) => error,
    );
    assert.ok(limited instanceof NetworkError);
    assert.equal(limited.getResponse().status, 429);
    await t.horizon.loadAccount(payer.publicKey());
  });

  it('delayInclusion: the transaction lands no earlier than N ledgers later', async () => {
    await control(t, 'POST', '/sandbox/faults', { kind: 'delayInclusion', ledgers: 4, memo: 'f-delay' });
    const transaction = await payment('f-delay');
    const before = t.sandbox.latestLedgerSequence();
    const pending = await t.horizon.submitAsyncTransaction(transaction);
    assert.equal(pending.tx_status, 'PENDING');
    const record = await eventually(() => lookUp(pending.hash));
    assert.ok(record.ledger_attr >= before + 1 + 4, `included in ${record.ledger_attr}, submitted after ${before}`);
    await control(t, 'DELETE', '/sandbox/faults');
  });

  it('drop: accepted (PENDING, or 504 when synchronous) but never lands; the same envelope lands on resubmission', async () => {
    await control(t, 'POST', '/sandbox/faults', { kind: 'drop', count: 2, memo: 'f-drop' });
    const transaction = await payment('f-drop');
    const hash = transaction.hash().toString('hex');
    const pending = await t.horizon.submitAsyncTransaction(transaction);
    assert.equal(pending.tx_status, 'PENDING');
    const timeout = await httpFailure(t.horizon.submitTransaction(transaction));
    assert.equal(timeout.status, 504);
    for (let round = 0; round < 3; round += 1) await control(t, 'POST', '/sandbox/close-ledger');
    assert.equal(await lookUp(hash), undefined);
    assert.equal((await landedWithMemo(t, 'f-drop')).count, 0);

    const landed = await t.horizon.submitTransaction(transaction);
    assert.equal(landed.hash, hash);
    assert.equal((await landedWithMemo(t, 'f-drop')).count, 1);
  });

  it('tryAgainLater: async and RPC submissions answer TRY_AGAIN_LATER and nothing is queued', async () => {
    await control(t, 'POST', '/sandbox/faults', { kind: 'tryAgainLater', count: 2, memo: 'f-later' });
    const transaction = await payment('f-later');
    const failure = await httpFailure(t.horizon.submitAsyncTransaction(transaction));
    assert.equal(failure.status, 503);
    assert.deepEqual(failure.data, { tx_status: 'TRY_AGAIN_LATER', hash: transaction.hash().toString('hex') });
    const viaRpc = await t.rpc.sendTransaction(transaction);
    assert.equal(viaRpc.status, 'TRY_AGAIN_LATER');
    for (let round = 0; round < 2; round += 1) await control(t, 'POST', '/sandbox/close-ledger');
    assert.equal(await lookUp(transaction.hash().toString('hex')), undefined);
    const accepted = await t.rpc.sendTransaction(transaction);
    assert.equal(accepted.status, 'PENDING');
    await eventually(() => lookUp(transaction.hash().toString('hex')));
  });

  it('stopResponding: requests hang until the client times out; the control endpoint still works; clearing restores', async () => {
    await control(t, 'POST', '/sandbox/faults', { kind: 'stopResponding' });
    const impatient = new Horizon.Server(t.sandbox.url, { allowHttp: true });
    impatient.httpClient.defaults.timeout = 300;
    const hung = await impatient.loadAccount(payer.publicKey()).then(
      () => assert.fail('expected no answer'),
      (error: unknown) => error as Error,
    );
    assert.match(hung.message, /timeout/i);

    const listed = await control<{ faults: Array<{ kind: string; remaining: unknown }> }>(t, 'GET', '/sandbox/faults');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.faults.map((fault) => [fault.kind, fault.remaining]),
      [['stopResponding', 'untilCleared']],
    );
    const cleared = await control<{ cleared: number }>(t, 'DELETE', '/sandbox/faults');
    assert.equal(cleared.body.cleared, 1);
    const account = await impatient.loadAccount(payer.publicKey());
    assert.equal(account.accountId(), payer.publicKey());
  });

  it('validates fault specs', async () => {
    const refused = await control<{ error: string }>(t, 'POST', '/sandbox/faults', { kind: 'explode' });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error, /kind/);
  });
});
