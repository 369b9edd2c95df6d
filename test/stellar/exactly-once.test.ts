import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Keypair } from '@stellar/stellar-sdk';
import type { FaultSpec } from '@nova/stellar-sandbox';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import {
  PaymentSubmitter,
  PrismaChannelPool,
  PrismaEnvelopeStore,
  StellarError,
  StellarGateway,
  systemClock,
  toStroops,
  type ChannelPool,
  type PaymentConfirmation,
  type PaymentRequest,
} from '@nova/activities';
import { required } from '../support/environment';
import { createWallets, landedWithMemo, startStellarFixture, type StellarFixture } from '../support/stellar';

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

/** Thrown by the crash scenario right after a submission left: the "process" dies. */
class SimulatedCrash extends Error {}

// Every fault the network can throw at a payout, 50 concurrent payments each: exactly one
// payment per business key lands, counted on the sandbox ledger by memo.
describe('exactly-once payments under faults', () => {
  let fixture: StellarFixture;
  let db: PrismaClient;
  let pool: PrismaChannelPool;
  const run = randomUUID().slice(0, 6);

  before(async () => {
    fixture = await startStellarFixture({ ledgerIntervalMs: 250, submitTimeoutMs: 2_000, channelAccounts: 8 });
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 10 });
    pool = new PrismaChannelPool(db, systemClock, [...fixture.channelSigners.keys()]);
    await pool.register();
  });
  after(async () => {
    await db?.$disconnect();
    await fixture?.stop();
  });

  function submitter(channels: ChannelPool, gateway: StellarGateway = fixture.gateway): PaymentSubmitter {
    return new PaymentSubmitter({
      gateway,
      envelopes: new PrismaEnvelopeStore(db),
      channels,
      distribution: fixture.distribution,
      channelSigners: fixture.channelSigners,
      clock: systemClock,
      transactionTimeoutSeconds: 8,
      leaseMarginSeconds: 4,
      maxFeePerOperation: 10_000,
      channelWaitMs: 2_000,
    });
  }

  /** What Temporal does for an activity: call again after a retryable failure or a crash. */
  async function payDurably(make: () => PaymentSubmitter, request: PaymentRequest): Promise<PaymentConfirmation> {
    for (let attempt = 1; attempt <= 200; attempt++) {
      try {
        return await make().pay(request);
      } catch (error) {
        const retry = error instanceof SimulatedCrash || (error instanceof StellarError && error.retryable);
        if (!retry) throw error;
        const wait =
          error instanceof StellarError && 'retryAfterSeconds' in error && typeof error.retryAfterSeconds === 'number'
            ? error.retryAfterSeconds * 1000
            : 150;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    throw new Error(`gave up on ${request.businessKey}`);
  }

  async function scenario(name: string, options: { fault?: FaultSpec; gateway?: () => StellarGateway }) {
    const wallets: Keypair[] = await createWallets(fixture, PAYMENTS);
    const tracker = new InFlightTracker(pool);
    if (options.fault) fixture.sandbox.faults.add(options.fault);
    try {
      const requests = wallets.map((wallet, i) => ({
        businessKey: `test-${run}-${name}/${i}`,
        destination: wallet.publicKey(),
        amount: toStroops('2.5'),
        memo: `${run}-${name}-${i}`,
      }));
      const confirmations = await Promise.all(
        requests.map((request) => payDurably(() => submitter(tracker, options.gateway?.()), request)),
      );

      for (const [i, request] of requests.entries()) {
        const landed = await landedWithMemo(fixture, request.memo);
        assert.equal(landed.successful, 1, `${request.memo}: ${landed.successful} successful payments on the ledger`);
        const received = await fixture.gateway.paymentsTo(request.destination);
        assert.equal(received.length, 1, `${request.memo}: the wallet received ${received.length} payments`);
        assert.equal(received[0]?.hash, confirmations[i]?.hash);
      }
      assert.deepEqual(tracker.violations, [], 'no channel account had two transactions in flight');
      assert.ok(tracker.maxConcurrent <= fixture.channelSigners.size);
      return confirmations;
    } finally {
      fixture.sandbox.faults.clear();
    }
  }

  it('504 but applied: the retry finds the payment and pays nothing new', async () => {
    const confirmations = await scenario('504', { fault: { kind: 'respond504ButApply', count: 20 } });
    assert.ok(confirmations.filter((c) => c.alreadyPaid).length >= 1, 'some payments were found already paid');
  });

  it('429 with Retry-After: waits and pays once', async () => {
    await scenario('429', { fault: { kind: 'rateLimit', count: 25, retryAfterSeconds: 1 } });
  });

  it('inclusion delayed by several ledgers: pays once', async () => {
    await scenario('delay', { fault: { kind: 'delayInclusion', count: 20, ledgers: 4 } });
  });

  it('dropped transactions: the same envelope is resubmitted or, past its bound, rebuilt; pays once', async () => {
    await scenario('drop', { fault: { kind: 'drop', count: 15 } });
    const envelopes = await db.paymentEnvelope.findMany({
      where: { businessKey: { startsWith: `test-${run}-drop/` } },
    });
    assert.equal(envelopes.filter((e) => e.status === 'confirmed').length, PAYMENTS);
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
      gateway: () => new CrashingGateway(fixture.gateway.network, { submitTimeoutMs: 8_000 }),
    });
    assert.equal(crashed.size >= PAYMENTS, true);
    assert.ok(
      confirmations.every((c) => c.attempt === 1),
      'recovery reused the persisted envelope',
    );
  });
});
