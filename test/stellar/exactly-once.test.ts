import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Keypair } from '@stellar/stellar-sdk';
import { toStroops } from '@nova/domain';
import type { FaultSpec } from '@nova/stellar-sandbox';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import {
  PrismaChannelPool,
  StellarGateway,
  systemClock,
  TransactionRejectedError,
  type ChannelPool,
  type JournalConfirmation,
  type PaymentBatchSource,
  type PaymentRequest,
} from '@nova/activities';
import { eventually, required } from '../support/environment';
import { durably, journalOver, SimulatedCrash } from '../support/journal';
import { createWallets, startStellarFixture, type StellarFixture } from '../support/stellar';

const PAYMENTS = 50;

/** Records every lease, and fails if a channel is leased while another holder still has it. */
class InFlightTracker implements ChannelPool {
  readonly holders = new Map<string, string>();
  readonly violations: string[] = [];
  maxConcurrent = 0;
  constructor(private readonly pool: ChannelPool) {}
  async lease(holder: string, until: Date) {
    const channel = await this.pool.lease(holder, until);
    if (channel) {
      const current = [...this.holders].find(([, c]) => c === channel);
      if (current) this.violations.push(`${channel} leased to ${holder} while ${current[0]} holds it`);
      this.holders.set(holder, channel);
      this.maxConcurrent = Math.max(this.maxConcurrent, this.holders.size);
    }
    return channel;
  }
  async release(holder: string) {
    this.holders.delete(holder);
    await this.pool.release(holder);
  }
}

// Every fault the network can throw at a payout, 50 concurrent payments each: exactly one
// payment per business key lands, counted per wallet on the sandbox ledger through Horizon.
describe('exactly-once payments under faults', () => {
  let fixture: StellarFixture;
  let db: PrismaClient;
  let pool: PrismaChannelPool;
  const run = randomUUID().slice(0, 6);

  beforeAll(async () => {
    fixture = await startStellarFixture({ ledgerIntervalMs: 250, submitTimeoutMs: 2_000, channelAccounts: 8 });
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 10 });
    pool = new PrismaChannelPool(db, systemClock, [...fixture.channelSigners.keys()]);
    await pool.register();
  });
  afterAll(async () => {
    await db?.$disconnect();
    await fixture?.stop();
  });

  /** The journal's payment source on the real PostgreSQL store, as one worker process has it. */
  function submitter(channels: ChannelPool, gateway: StellarGateway = fixture.gateway): PaymentBatchSource {
    return journalOver(fixture, db, { channels, gateway }).payments;
  }

  const payDurably = (make: () => PaymentBatchSource, request: PaymentRequest): Promise<JournalConfirmation> =>
    durably(request.businessKey, () => make().pay(request));

  /**
   * 50 concurrent payments through one submitter (one worker process: payments waiting for a
   * channel share transactions), or through a fresh one per try (`make`, a process per try).
   */
  async function scenario(
    name: string,
    options: { fault?: FaultSpec; make?: (tracker: ChannelPool) => PaymentBatchSource },
  ) {
    const wallets: Keypair[] = await createWallets(fixture, PAYMENTS);
    const tracker = new InFlightTracker(pool);
    const shared = submitter(tracker);
    const make = options.make ? () => options.make!(tracker) : () => shared;
    if (options.fault) fixture.sandbox.faults.add(options.fault);
    try {
      const requests = wallets.map((wallet, i) => ({
        businessKey: `test-${run}-${name}/${i}`,
        destination: wallet.publicKey(),
        amount: toStroops('2.5'),
        memo: `${run}-${name}-${i}`,
      }));
      const confirmations = await Promise.all(requests.map((request) => payDurably(make, request)));

      for (const [i, request] of requests.entries()) {
        const received = await fixture.gateway.paymentsTo(request.destination);
        assert.equal(received.length, 1, `${request.businessKey}: the wallet received ${received.length} payments`);
        assert.equal(received[0]?.hash, confirmations[i]?.hash);
      }
      assert.deepEqual(tracker.violations, [], 'no channel account had two transactions in flight');
      assert.ok(tracker.maxConcurrent <= fixture.channelSigners.size);
      return confirmations;
    } finally {
      fixture.sandbox.faults.clear();
    }
  }

  /** Transactions that carried more than one of these confirmations. */
  function batched(confirmations: JournalConfirmation[]): number {
    const perHash = new Map<string, number>();
    for (const c of confirmations) perHash.set(c.hash, (perHash.get(c.hash) ?? 0) + 1);
    return [...perHash.values()].filter((count) => count > 1).length;
  }

  it('no fault: 50 payments share transactions on 8 channels, each paid once', async () => {
    const confirmations = await scenario('plain', {});
    assert.ok(batched(confirmations) >= 1, 'payments that waited for a channel were batched');
    const transactions = new Set(confirmations.map((c) => c.hash)).size;
    assert.ok(transactions < PAYMENTS, `${transactions} transactions for ${PAYMENTS} payments`);
  });

  it('one payment of a batch fails on chain: only it fails; the rest are rolled back, rebuilt and paid once', async () => {
    const good = await createWallets(fixture, 10);
    const [untrusting] = await createWallets(fixture, 1, { trustline: false });
    // One channel, held by the test while the payments queue up: they leave as one batch.
    const [channel] = [...fixture.channelSigners.keys()];
    const onlyChannel = new PrismaChannelPool(db, systemClock, [channel!]);
    assert.equal(await onlyChannel.lease(`test-${run}-hold`, new Date(Date.now() + 60_000)), channel);
    const tracker = new InFlightTracker(onlyChannel);
    const single = submitter(tracker);
    const request = (wallet: Keypair, i: number) => ({
      businessKey: `test-${run}-partial/${i}`,
      destination: wallet.publicKey(),
      amount: toStroops('1'),
      memo: `${run}-partial-${i}`,
    });
    const goodPayments = good.map((wallet, i) => payDurably(() => single, request(wallet, i)));
    const badPayment = single.pay(request(untrusting!, 99)).then(
      () => assert.fail('a payment to a wallet without a trustline cannot succeed'),
      (error: unknown) => error,
    );
    // All eleven wait for the one channel, so they leave together when it is released.
    await eventually(async () => (single.waiting === 11 ? true : undefined), { what: 'the eleven payments to queue' });
    await onlyChannel.release(`test-${run}-hold`);
    const bad = await badPayment;
    assert.ok(bad instanceof TransactionRejectedError, String(bad));
    assert.equal(bad.type, 'TrustlineMissing');
    assert.deepEqual(bad.resultCodes.operations, ['op_no_trust']);

    const confirmations = await Promise.all(goodPayments);
    for (const [i, wallet] of good.entries()) {
      const received = await fixture.gateway.paymentsTo(wallet.publicKey());
      assert.deepEqual(
        received.map((payment) => payment.hash),
        [confirmations[i]!.hash],
      );
    }
    assert.equal((await fixture.gateway.paymentsTo(untrusting!.publicKey())).length, 0);
    assert.ok(
      confirmations.every((c) => c.attempt === 2),
      'every other payment of the failed batch was rolled back and paid by its second attempt',
    );
    const failed = await db.journalTransaction.findFirstOrThrow({
      where: { items: { some: { businessKey: `test-${run}-partial/99` } } },
      include: { items: true },
    });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.items.length, 11, 'the failing payment shared its transaction with the ten others');
    assert.deepEqual(tracker.violations, []);
  });

  it('504 but applied: the retry finds the payment and pays nothing new', async () => {
    const confirmations = await scenario('504', { fault: { kind: 'respond504ButApply', count: 20 } });
    assert.ok(confirmations.filter((c) => c.alreadyLanded).length >= 1, 'some payments were found already paid');
  });

  it('429 with Retry-After: waits and pays once', async () => {
    await scenario('429', { fault: { kind: 'rateLimit', count: 25, retryAfterSeconds: 1 } });
  });

  it('inclusion delayed by several ledgers: pays once', async () => {
    await scenario('delay', { fault: { kind: 'delayInclusion', count: 20, ledgers: 4 } });
  });

  it('dropped transactions: the same envelope is resubmitted or, past its bound, rebuilt; pays once', async () => {
    await scenario('drop', { fault: { kind: 'drop', count: 15 } });
    const paid = await db.journalItem.count({
      where: { businessKey: { startsWith: `test-${run}-drop/` }, transaction: { status: 'landed' } },
    });
    assert.equal(paid, PAYMENTS);
  });

  it('the process dies between submission and confirmation: a fresh one pays nothing twice', async () => {
    const crashed = new Set<string>();
    class CrashingGateway extends StellarGateway {
      override async submit(envelopeXdr: string, hash: string) {
        if (crashed.has(hash)) return await super.submit(envelopeXdr, hash);
        crashed.add(hash);
        void super.submit(envelopeXdr, hash).catch(() => undefined); // it left the machine
        throw new SimulatedCrash(`crashed after submitting ${hash}`);
      }
    }
    const confirmations = await scenario('crash', {
      make: (tracker) => submitter(tracker, new CrashingGateway(fixture.gateway.network, { submitTimeoutMs: 8_000 })),
    });
    assert.equal(crashed.size >= PAYMENTS, true);
    assert.ok(
      confirmations.every((c) => c.attempt === 1),
      'recovery reused the persisted envelope',
    );
  });
});
