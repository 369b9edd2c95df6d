import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Keypair } from '@stellar/stellar-sdk';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { PrismaChannelPool, type Clock } from '@nova/activities';
import { required } from '../support/environment';

/** A clock the test moves by hand: lease expiry is decided by the pool's clock, not by sleeping. */
class ManualClock implements Clock {
  constructor(private at: Date) {}
  now(): Date {
    return new Date(this.at.getTime());
  }
  set(at: Date): void {
    this.at = new Date(at.getTime());
  }
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

// PrismaChannelPool against the real PostgreSQL. Each test leases channels of its own (random
// public keys), so it shares the channel_accounts table with other tests without touching theirs.
describe('PrismaChannelPool', () => {
  let db: PrismaClient;
  const created: string[] = [];

  beforeAll(() => {
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 20 });
  });
  afterAll(async () => {
    await db?.channelAccount.deleteMany({ where: { publicKey: { in: created } } });
    await db?.$disconnect();
  });

  function channelKeys(count: number): string[] {
    const keys = Array.from({ length: count }, () => Keypair.random().publicKey());
    created.push(...keys);
    return keys;
  }

  async function registeredPool(keys: readonly string[], clock: Clock): Promise<PrismaChannelPool> {
    const pool = new PrismaChannelPool(db, clock, keys);
    await pool.register();
    return pool;
  }

  async function rows(keys: readonly string[]) {
    return await db.channelAccount.findMany({ where: { publicKey: { in: [...keys] } }, orderBy: { publicKey: 'asc' } });
  }

  async function holderOf(publicKey: string): Promise<string | null> {
    const row = await db.channelAccount.findUniqueOrThrow({ where: { publicKey } });
    return row.leaseHolder;
  }

  describe('register', () => {
    it('is idempotent, run again or concurrently, and keeps existing leases', async () => {
      const keys = channelKeys(5);
      const clock = new ManualClock(T0);
      const pool = new PrismaChannelPool(db, clock, keys);
      await pool.register();
      await pool.register();
      await Promise.all(Array.from({ length: 6 }, () => pool.register()));
      const registered = await rows(keys);
      assert.deepEqual(
        registered.map((r) => r.publicKey),
        [...keys].sort(),
      );
      assert.ok(registered.every((r) => r.leaseHolder === null && r.leaseExpiresAt === null && r.leasedCount === 0n));

      const leased = await pool.lease('holder-a', at(60_000));
      assert.ok(leased);
      await pool.register();
      assert.equal((await rows(keys)).length, 5);
      assert.equal(await holderOf(leased), 'holder-a', 'registering again did not reset a lease');
    });
  });

  describe('lease', () => {
    it('30 callers racing for 8 channels: each channel goes to exactly one holder, and every one is used', async () => {
      const keys = channelKeys(8);
      const clock = new ManualClock(T0);
      const pool = await registeredPool(keys, clock);
      for (let round = 1; round <= 5; round++) {
        const holders = Array.from({ length: 30 }, (_, i) => `race-${round}-${i}-${randomUUID()}`);
        const results = await Promise.all(holders.map((holder) => pool.lease(holder, at(60_000))));
        const granted = results.flatMap((channel, i) => (channel ? [{ channel, holder: holders[i]! }] : []));

        assert.equal(granted.length, 8, `round ${round}: every free channel was leased, and no more`);
        assert.equal(new Set(granted.map((g) => g.channel)).size, 8, `round ${round}: no channel given twice`);
        assert.ok(granted.every((g) => keys.includes(g.channel)));
        for (const { channel, holder } of granted) {
          assert.equal(await holderOf(channel), holder, `round ${round}: the database agrees on ${channel}'s holder`);
        }
        await Promise.all(granted.map((g) => pool.release(g.holder)));
      }
      const after = await rows(keys);
      assert.ok(after.every((r) => r.leaseHolder === null));
      assert.equal(
        after.reduce((sum, r) => sum + r.leasedCount, 0n),
        40n,
        'leased_count counts every lease',
      );
    });

    it('under churn (30 holders leasing and releasing 8 channels), no channel is ever held twice', async () => {
      const keys = channelKeys(8);
      const pool = await registeredPool(keys, new ManualClock(T0));
      const heldBy = new Map<string, string>();
      const violations: string[] = [];
      let leases = 0;

      const worker = async (index: number) => {
        for (let turn = 0; turn < 8; turn++) {
          const holder = `churn-${index}-${turn}`;
          let channel: string | undefined;
          while (!(channel = await pool.lease(holder, at(60_000)))) {
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
          leases += 1;
          const current = heldBy.get(channel);
          if (current) violations.push(`${channel} leased to ${holder} while ${current} holds it`);
          heldBy.set(channel, holder);
          await new Promise((resolve) => setImmediate(resolve));
          // Forget it before the database does, so a quick re-lease by another holder is no false alarm.
          heldBy.delete(channel);
          await pool.release(holder);
        }
      };
      await Promise.all(Array.from({ length: 30 }, (_, i) => worker(i)));

      assert.deepEqual(violations, []);
      assert.equal(leases, 240);
      assert.ok((await rows(keys)).every((r) => r.leaseHolder === null && r.leaseExpiresAt === null));
    });

    it('leases only the configured public keys', async () => {
      const [mineA, mineB, theirs] = channelKeys(3) as [string, string, string];
      const clock = new ManualClock(T0);
      const mine = await registeredPool([mineA, mineB], clock);
      const others = await registeredPool([theirs], clock);

      const first = await mine.lease('mine-1', at(60_000));
      const second = await mine.lease('mine-2', at(60_000));
      assert.deepEqual([first, second].sort(), [mineA, mineB].sort());
      assert.equal(
        await mine.lease('mine-3', at(60_000)),
        undefined,
        'a free channel it cannot sign for is not leased',
      );
      assert.equal(await holderOf(theirs), null);

      assert.equal(await others.lease('theirs-1', at(60_000)), theirs);
      const unregistered = new PrismaChannelPool(db, clock, channelKeys(2));
      assert.equal(await unregistered.lease('nobody', at(60_000)), undefined, 'no row, no lease');
    });
  });

  describe('release', () => {
    it('frees the channel for the next holder, and only the releasing holder’s channel', async () => {
      const [only] = channelKeys(1) as [string];
      const clock = new ManualClock(T0);
      const pool = await registeredPool([only], clock);

      assert.equal(await pool.lease('a', at(60_000)), only);
      assert.equal(await pool.lease('b', at(60_000)), undefined, 'busy while a holds it');
      await pool.release('someone-else');
      assert.equal(await holderOf(only), 'a', 'a release by another holder changes nothing');
      await pool.release('a');
      const row = await db.channelAccount.findUniqueOrThrow({ where: { publicKey: only } });
      assert.equal(row.leaseHolder, null);
      assert.equal(row.leaseExpiresAt, null);
      assert.equal(await pool.lease('b', at(60_000)), only);
      await pool.release('a');
      assert.equal(await holderOf(only), 'b', "a second release by a does not free b's lease");
    });

    it('two holders: releasing one leaves the other leased', async () => {
      const keys = channelKeys(2);
      const pool = await registeredPool(keys, new ManualClock(T0));
      const one = await pool.lease('one', at(60_000));
      const two = await pool.lease('two', at(60_000));
      assert.ok(one && two && one !== two);
      await pool.release('one');
      assert.equal(await holderOf(one), null);
      assert.equal(await holderOf(two), 'two');
    });
  });

  describe('expiry (a crashed holder)', () => {
    it('an unexpired lease cannot be taken; once the clock passes its expiry another holder takes it', async () => {
      const [only] = channelKeys(1) as [string];
      const clock = new ManualClock(T0);
      const pool = await registeredPool([only], clock);
      const expiry = at(30_000);
      assert.equal(await pool.lease('crashed', expiry), only);

      clock.set(at(1_000));
      assert.equal(await pool.lease('rescuer', at(90_000)), undefined);
      clock.set(at(29_999));
      assert.equal(await pool.lease('rescuer', at(90_000)), undefined, 'a millisecond before expiry it is still held');
      clock.set(expiry);
      assert.equal(await pool.lease('rescuer', at(90_000)), undefined, 'held up to its expiry instant');

      clock.set(at(30_001));
      assert.equal(await pool.lease('rescuer', at(90_000)), only, 'lapsed: taken over');
      const row = await db.channelAccount.findUniqueOrThrow({ where: { publicKey: only } });
      assert.equal(row.leaseHolder, 'rescuer');
      assert.equal(row.leaseExpiresAt?.getTime(), at(90_000).getTime());
      assert.equal(row.leasedCount, 2n);

      // The crashed holder comes back and releases: it must not free the rescuer's lease.
      await pool.release('crashed');
      assert.equal(await holderOf(only), 'rescuer');
      assert.equal(await pool.lease('third', at(90_000)), undefined);
    });

    it('several holders racing for one lapsed lease: exactly one wins', async () => {
      const [only] = channelKeys(1) as [string];
      const clock = new ManualClock(T0);
      const pool = await registeredPool([only], clock);
      assert.equal(await pool.lease('crashed', at(10_000)), only);
      clock.advance(10_001);
      const holders = Array.from({ length: 12 }, (_, i) => `rescuer-${i}`);
      const results = await Promise.all(holders.map((holder) => pool.lease(holder, at(90_000))));
      const winners = holders.filter((_, i) => results[i] === only);
      assert.equal(winners.length, 1, `winners: ${winners.join(', ')}`);
      assert.equal(results.filter((r) => r === undefined).length, 11);
      assert.equal(await holderOf(only), winners[0]);
    });

    it('with several channels, an expired lease is taken over only when no channel is free', async () => {
      const keys = channelKeys(2);
      const clock = new ManualClock(T0);
      const pool = await registeredPool(keys, clock);
      const stale = await pool.lease('crashed', at(5_000));
      clock.advance(6_000);
      const fresh = await pool.lease('next', at(60_000));
      assert.ok(stale && fresh);
      assert.notEqual(fresh, stale, 'a free channel is preferred to a lapsed one');
      assert.equal((await rows(keys)).filter((r) => r.leaseHolder !== null).length, 2);
      assert.equal(await pool.lease('after', at(60_000)), stale, 'then the lapsed one is reused');
      assert.equal(await holderOf(fresh), 'next', 'the live lease is untouched');
    });
  });
});
