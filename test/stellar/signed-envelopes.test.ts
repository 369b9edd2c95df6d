import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Asset, Horizon, type Keypair, Memo, Operation, TransactionBuilder } from '@stellar/stellar-sdk';
import type { FaultSpec } from '@nova/stellar-sandbox';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import {
  EnvelopeExpiredError,
  EnvelopeMismatchError,
  EnvelopeRefusedError,
  GatewayInternalError,
  PrismaChannelPool,
  StellarGateway,
  systemClock,
  type JournalConfirmation,
  type SignedEnvelopeSource,
  type TransactionJournal,
} from '@nova/activities';
import { required } from '../support/environment';
import { durably, journalOver, SimulatedCrash } from '../support/journal';
import { createWallets, startStellarFixture, type StellarFixture } from '../support/stellar';

// Envelopes signed elsewhere (a holder's wallet, as for a redemption) go through the same
// journal as the platform's own transactions: persisted before they are sent, looked up before
// they are sent again, resubmitted exactly as signed, and never rebuilt. Past their own upper
// time bound with the hash not found they end Expired.
describe('externally signed envelopes: submit-only, exactly once, Expired when their bound passes', () => {
  let fixture: StellarFixture;
  let db: PrismaClient;
  let pool: PrismaChannelPool;
  let horizon: Horizon.Server;
  const run = randomUUID().slice(0, 6);

  beforeAll(async () => {
    fixture = await startStellarFixture({ ledgerIntervalMs: 250, submitTimeoutMs: 2_000, channelAccounts: 2 });
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 5 });
    pool = new PrismaChannelPool(db, systemClock, [...fixture.channelSigners.keys()]);
    await pool.register();
    horizon = new Horizon.Server(fixture.sandbox.url, { allowHttp: true });
  });
  afterAll(async () => {
    fixture?.sandbox.faults.clear();
    await db?.$disconnect();
    await fixture?.stop();
  });

  function journalWith(gateway: StellarGateway = fixture.gateway): {
    journal: TransactionJournal;
    signedEnvelopes: SignedEnvelopeSource;
  } {
    return journalOver(fixture, db, { channels: pool, gateway });
  }

  /** A holder's own payment of 1 XLM to `destination`, signed in "their wallet", valid for `seconds`. */
  async function holderPayment(holder: Keypair, destination: string, memo: string, seconds = 30): Promise<string> {
    const account = await horizon.loadAccount(holder.publicKey());
    const transaction = new TransactionBuilder(account, {
      fee: '100',
      networkPassphrase: fixture.sandbox.networkPassphrase,
      memo: Memo.text(memo),
    })
      .addOperation(Operation.payment({ destination, asset: Asset.native(), amount: '1' }))
      .setTimeout(seconds)
      .build();
    transaction.sign(holder);
    return transaction.toEnvelope().toXDR('base64');
  }

  async function transactionsOf(businessKey: string) {
    return await db.journalTransaction.findMany({
      where: { items: { some: { businessKey } } },
      include: { attempts: { orderBy: { id: 'asc' } } },
    });
  }

  const submitDurably = (
    make: () => ReturnType<typeof journalWith>,
    request: { businessKey: string; envelopeXdr: string },
  ): Promise<JournalConfirmation> =>
    durably(request.businessKey, () => {
      const { journal, signedEnvelopes } = make();
      return journal.run(request.businessKey, signedEnvelopes, request);
    });

  /** One holder pays one destination under `fault`: exactly one payment lands, with the signed hash. */
  async function scenario(name: string, fault?: FaultSpec, make: () => ReturnType<typeof journalWith> = journalWith) {
    const [holder, destination] = await createWallets(fixture, 2, { trustline: false });
    const memo = `${run}-${name}`;
    const request = {
      businessKey: `test/${run}/signed/${name}`,
      envelopeXdr: await holderPayment(holder!, destination!.publicKey(), memo),
    };
    if (fault) fixture.sandbox.faults.add({ ...fault, memo });
    try {
      const confirmation = await submitDurably(make, request);
      const received = await fixture.gateway.paymentsTo(destination!.publicKey());
      assert.deepEqual(
        received.map((payment) => payment.hash),
        [confirmation.hash],
        'the destination received exactly the signed payment, once',
      );
      const stored = await transactionsOf(request.businessKey);
      assert.equal(stored.length, 1, 'never rebuilt: one envelope for the key');
      assert.equal(stored[0]!.source, 'external');
      assert.equal(stored[0]!.envelopeXdr, request.envelopeXdr, 'resubmitted exactly as signed');
      assert.equal(stored[0]!.status, 'landed');
      return { confirmation, stored: stored[0]!, request };
    } finally {
      fixture.sandbox.faults.clear();
    }
  }

  it('lands once; submitting it again puts nothing new on chain', async () => {
    const { confirmation, request } = await scenario('plain');
    assert.equal(confirmation.alreadyLanded, false);
    const { journal, signedEnvelopes } = journalWith();
    const again = await journal.run(request.businessKey, signedEnvelopes, request);
    assert.deepEqual(again, { ...confirmation, alreadyLanded: true });
  });

  it('504 but applied: the retry finds it by its hash and submits nothing new', async () => {
    const { confirmation, stored } = await scenario('504', { kind: 'respond504ButApply', count: 1 });
    assert.equal(confirmation.alreadyLanded, true, 'the retry found the landed envelope');
    assert.ok(stored.attempts.some((a) => a.action === 'lookup' && a.outcome === 'found-successful'));
  });

  it('429 with Retry-After: waits and lands once', async () => {
    await scenario('429', { kind: 'rateLimit', count: 2, retryAfterSeconds: 1 });
  });

  it('inclusion delayed by several ledgers: lands once', async () => {
    await scenario('delay', { kind: 'delayInclusion', count: 1, ledgers: 4 });
  });

  it('the process dies between submission and confirmation: a fresh one submits the same envelope, lands once', async () => {
    const crashed: string[] = [];
    class CrashingGateway extends StellarGateway {
      override async submit(envelopeXdr: string, hash: string) {
        if (crashed.includes(hash)) return await super.submit(envelopeXdr, hash);
        crashed.push(hash);
        void super.submit(envelopeXdr, hash).catch(() => undefined); // it left the machine
        throw new SimulatedCrash(`crashed after submitting ${hash}`);
      }
    }
    const crashing = new CrashingGateway(fixture.gateway.network, { submitTimeoutMs: 8_000 });
    const { confirmation } = await scenario('crash', undefined, () => journalWith(crashing));
    assert.deepEqual(crashed, [confirmation.hash], 'sent once before the crash, then looked up');
  });

  it('dropped and past its upper time bound: Expired, final, never rebuilt, nothing paid', async () => {
    const [holder, destination] = await createWallets(fixture, 2, { trustline: false });
    const memo = `${run}-drop`;
    const request = {
      businessKey: `test/${run}/signed/drop`,
      envelopeXdr: await holderPayment(holder!, destination!.publicKey(), memo, 3),
    };
    fixture.sandbox.faults.add({ kind: 'drop', count: 'untilCleared', memo });
    try {
      const failure = await submitDurably(journalWith, request).then(
        () => assert.fail('a dropped envelope past its bound cannot land'),
        (error: unknown) => error,
      );
      assert.ok(failure instanceof EnvelopeExpiredError, String(failure));
      assert.equal(failure.type, 'Expired');
      assert.equal(failure.retryable, false);
      const stored = await transactionsOf(request.businessKey);
      assert.equal(stored.length, 1, 'never rebuilt');
      assert.equal(stored[0]!.status, 'expired');
      assert.ok(stored[0]!.attempts.some((a) => a.action === 'expire'));
      // Asked again (a retry, a replay): still Expired, and still nothing new built or sent.
      const { journal, signedEnvelopes } = journalWith();
      await assert.rejects(journal.run(request.businessKey, signedEnvelopes, request), EnvelopeExpiredError);
      assert.equal((await transactionsOf(request.businessKey)).length, 1);
    } finally {
      fixture.sandbox.faults.clear();
    }
    assert.equal((await fixture.gateway.paymentsTo(destination!.publicKey())).length, 0, 'nothing paid');
  });

  it('tx_bad_seq: final once the holder has used the sequence number; a gap (a number still ahead) stays pending', async () => {
    const [holder, destination] = await createWallets(fixture, 2, { trustline: false });
    // Two envelopes signed for the next sequence number; the first one used lands, the other
    // can never land after it.
    const first = await holderPayment(holder!, destination!.publicKey(), `${run}-seq-a`);
    const second = await holderPayment(holder!, destination!.publicKey(), `${run}-seq-b`);
    const { journal, signedEnvelopes } = journalWith();
    await journal.run(`test/${run}/seq/a`, signedEnvelopes, { businessKey: `test/${run}/seq/a`, envelopeXdr: first });
    const used = await journal
      .run(`test/${run}/seq/b`, signedEnvelopes, { businessKey: `test/${run}/seq/b`, envelopeXdr: second })
      .then(
        () => assert.fail('an envelope whose sequence number was used can never land'),
        (error: unknown) => error,
      );
    assert.ok(used instanceof EnvelopeRefusedError, String(used));
    assert.equal(used.resultCodes.transaction, 'tx_bad_seq');
    assert.equal((await transactionsOf(`test/${run}/seq/b`))[0]!.status, 'failed');

    // A sequence number two ahead of the account: not yet valid, maybe later: pending, retryable.
    const account = await horizon.loadAccount(holder!.publicKey());
    account.incrementSequenceNumber();
    const ahead = new TransactionBuilder(account, { fee: '100', networkPassphrase: fixture.sandbox.networkPassphrase })
      .addOperation(Operation.payment({ destination: destination!.publicKey(), asset: Asset.native(), amount: '1' }))
      .setTimeout(30)
      .build();
    ahead.sign(holder!);
    const gap = await journal
      .run(`test/${run}/seq/c`, signedEnvelopes, { businessKey: `test/${run}/seq/c`, envelopeXdr: ahead.toXDR() })
      .then(
        () => assert.fail('a sequence number ahead of the account cannot land now'),
        (error: unknown) => error,
      );
    assert.ok(!(gap instanceof EnvelopeRefusedError), `a gap is not final: ${String(gap)}`);
    assert.equal((await transactionsOf(`test/${run}/seq/c`))[0]!.status, 'submitted');
  });

  it('an envelope without an upper time bound is refused before anything is stored or sent', async () => {
    const [holder, destination] = await createWallets(fixture, 2, { trustline: false });
    const account = await horizon.loadAccount(holder!.publicKey());
    const unbounded = new TransactionBuilder(account, {
      fee: '100',
      networkPassphrase: fixture.sandbox.networkPassphrase,
    })
      .addOperation(Operation.payment({ destination: destination!.publicKey(), asset: Asset.native(), amount: '1' }))
      .setTimeout(0)
      .build();
    unbounded.sign(holder!);
    const businessKey = `test/${run}/signed/unbounded`;
    const { journal, signedEnvelopes } = journalWith();
    await assert.rejects(
      journal.run(businessKey, signedEnvelopes, { businessKey, envelopeXdr: unbounded.toEnvelope().toXDR('base64') }),
      GatewayInternalError,
    );
    assert.equal((await transactionsOf(businessKey)).length, 0);
    assert.equal((await fixture.gateway.paymentsTo(destination!.publicKey())).length, 0);
  });

  it('a key carries one envelope: another envelope for it, or its envelope under another key, is refused for good', async () => {
    const [holder, destination] = await createWallets(fixture, 2, { trustline: false });
    const { confirmation, request } = await scenario('one-envelope');
    const other = await holderPayment(holder!, destination!.publicKey(), `${run}-other`);
    const { journal, signedEnvelopes } = journalWith();
    await assert.rejects(
      journal.run(request.businessKey, signedEnvelopes, { businessKey: request.businessKey, envelopeXdr: other }),
      (error: unknown) => error instanceof EnvelopeMismatchError && !error.retryable,
    );
    const elsewhere = `${request.businessKey}-elsewhere`;
    await assert.rejects(
      journal.run(elsewhere, signedEnvelopes, { businessKey: elsewhere, envelopeXdr: request.envelopeXdr }),
      (error: unknown) => error instanceof EnvelopeMismatchError && error.hash === confirmation.hash,
    );
    assert.equal((await transactionsOf(elsewhere)).length, 0);
  });

  it('refused at the door for good (not signed by its source): EnvelopeRefused, final, nothing rebuilt or paid', async () => {
    const [holder, destination, impostor] = await createWallets(fixture, 3, { trustline: false });
    const account = await horizon.loadAccount(holder!.publicKey());
    const forged = new TransactionBuilder(account, { fee: '100', networkPassphrase: fixture.sandbox.networkPassphrase })
      .addOperation(Operation.payment({ destination: destination!.publicKey(), asset: Asset.native(), amount: '1' }))
      .setTimeout(30)
      .build();
    forged.sign(impostor!);
    const businessKey = `test/${run}/signed/forged`;
    const request = { businessKey, envelopeXdr: forged.toEnvelope().toXDR('base64') };
    const { journal, signedEnvelopes } = journalWith();
    const failure = await journal.run(businessKey, signedEnvelopes, request).then(
      () => assert.fail('an envelope its source did not sign cannot land'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof EnvelopeRefusedError, String(failure));
    assert.equal(failure.retryable, false);
    assert.equal(failure.resultCodes.transaction, 'tx_bad_auth');
    await assert.rejects(journal.run(businessKey, signedEnvelopes, request), EnvelopeRefusedError);
    const stored = await transactionsOf(businessKey);
    assert.deepEqual(
      stored.map((t) => t.status),
      ['failed'],
      'never rebuilt',
    );
    assert.ok(
      stored[0]!.attempts.some((a) => a.action === 'lookup'),
      'looked up before it was settled failed',
    );
    assert.equal((await fixture.gateway.paymentsTo(destination!.publicKey())).length, 0);
  });
});
