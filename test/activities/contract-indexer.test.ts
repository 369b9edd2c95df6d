import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { nativeToScVal } from '@stellar/stellar-sdk';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import {
  createContractIndexerActivities,
  domainMetrics,
  PrismaContractEventStore,
  type ContractIndexerPageOutcome,
} from '@nova/activities';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startStellarFixture, type StellarFixture } from '../support/stellar';

// The indexer's activity against PostgreSQL and the sandbox's Soroban RPC over HTTP (contracts
// interface-only here: each call publishes one event whose first topic is the function's name,
// which the contract's interface does not define, so it is kept as `<contract>.unrecognized`).
describe('indexContractEventsPage (PostgreSQL, the sandbox over HTTP)', () => {
  let stellar: StellarFixture;
  let database: TestDatabase;
  let db: PrismaClient;
  let redemption: string;
  const environment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

  beforeAll(async () => {
    stellar = await startStellarFixture({ ledgerIntervalMs: 100 });
    redemption = stellar.sandbox.contracts.redemption!;
    database = await createTestDatabase('activities_contract_indexer');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 2 });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await database?.drop();
    await stellar?.stop();
  });

  const confirm = (id: string) =>
    stellar.gateway.invokeContract({
      contractId: redemption,
      method: 'confirm',
      args: [nativeToScVal(id, { type: 'string' })],
      source: stellar.distribution,
    });
  const input = { contract: 'redemption' as const, contractId: '', pageSize: 2 };
  const page = async (): Promise<ContractIndexerPageOutcome> =>
    (await environment().run(
      createContractIndexerActivities({ db, gateway: stellar.gateway }).indexContractEventsPage,
      { ...input, contractId: redemption },
    )) as ContractIndexerPageOutcome;
  const indexedMetric = async () =>
    (await domainMetrics.getSingleMetric('nova_contract_events_indexed_total')!.get()).values
      .filter((value) => value.labels.contract === 'redemption')
      .reduce((sum, value) => sum + value.value, 0);

  it('pages after the stored cursor until caught up, storing every event once, in the chain’s order', async () => {
    const calls = [];
    for (const id of ['a', 'b', 'c', 'd', 'e']) calls.push(await confirm(`page-${id}`));
    const before = await indexedMetric();
    const outcomes: ContractIndexerPageOutcome[] = [];
    for (let n = 0; n < 20 && !outcomes.at(-1)?.caughtUp; n += 1) outcomes.push(await page());
    assert.ok(outcomes.at(-1)?.caughtUp, 'caught up');
    assert.ok(
      outcomes.slice(0, -1).every((outcome) => outcome.read === 2 && !outcome.caughtUp),
      'full pages first',
    );
    const rows = await db.contractEvent.findMany({
      where: { resourceId: { startsWith: 'page-' } },
      orderBy: { id: 'asc' },
    });
    assert.deepEqual(
      rows.map((row) => [row.resourceId, row.ledger, row.txHash]),
      calls.map((call, i) => [`page-${'abcde'[i]}`, call.ledger, call.hash]),
    );
    assert.ok(rows.every((row) => row.type === 'redemption.unrecognized' && row.topicXdr.length === 2));
    assert.equal((await indexedMetric()) - before, await db.contractEvent.count(), 'each stored event counted once');
    const chain = await stellar.gateway.contractEvents({ contractIds: [redemption], startLedger: 1, limit: 100 });
    assert.deepEqual(
      (await db.contractEvent.findMany({ orderBy: { id: 'asc' } })).map((row) => row.id),
      chain.events.map((event) => event.id),
      'exactly what the RPC serves',
    );
    const cursor = await db.contractEventCursor.findUniqueOrThrow({ where: { contract: 'redemption' } });
    assert.equal(cursor.nextLedger, outcomes.at(-1)!.nextLedger);
  });

  it('a page stored by an attempt that read an older cursor changes nothing: the cursor moved, the retry reads after it', async () => {
    const store = new PrismaContractEventStore(db);
    const stale = await store.position('redemption');
    const call = await confirm('page-f');
    const outcome = await page();
    assert.equal(outcome.stored, 1);
    const count = await db.contractEvent.count();
    // An earlier attempt of the same page (timed out, still running) finishing late.
    await assert.rejects(
      store.storePage({
        contract: 'redemption',
        contractId: redemption,
        from: stale,
        to: { cursor: '9'.repeat(19) + '-0000000000', nextLedger: call.ledger + 1000 },
        events: [],
      }),
      /cursor moved/,
    );
    assert.equal(await db.contractEvent.count(), count);
    const cursor = await db.contractEventCursor.findUniqueOrThrow({ where: { contract: 'redemption' } });
    assert.equal(cursor.nextLedger, outcome.nextLedger, 'the late attempt did not move the cursor');
    // The same page stored again from the current position adds no row.
    const row = await db.contractEvent.findFirstOrThrow({ where: { resourceId: 'page-f' } });
    const again = await store.storePage({
      contract: 'redemption',
      contractId: redemption,
      from: { cursor: cursor.cursor, nextLedger: cursor.nextLedger },
      to: { cursor: cursor.cursor, nextLedger: cursor.nextLedger },
      events: [
        {
          ...row,
          contract: 'redemption',
          type: 'redemption.unrecognized',
          payload: {},
        },
      ],
    });
    assert.deepEqual(again, [], 'nothing inserted twice');
    assert.equal(await db.contractEvent.count(), count);
  });

  it('a cursor the RPC no longer retains: one gap from the cursor to the oldest retained ledger, with the page after it', async () => {
    const position = await new PrismaContractEventStore(db).position('redemption');
    const lost = await confirm('lost');
    await fetch(`${stellar.sandbox.url}/sandbox/rpc-retention`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ledgers: 30 }),
    });
    try {
      for (;;) {
        const range = await stellar.gateway.rpcLedgerRange();
        if (range.oldestLedger > lost.ledger) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const kept = await confirm('kept');
      const outcome = await page();
      assert.equal(outcome.gap?.failureType, 'ContractEventsOutsideRetention');
      assert.equal(outcome.gap?.fromLedger, position!.nextLedger);
      assert.ok(outcome.gap!.toLedger >= lost.ledger && outcome.gap!.toLedger < kept.ledger);
      const gaps = await db.contractEventGap.findMany();
      assert.deepEqual(
        gaps.map((gap) => [gap.contract, gap.fromLedger, gap.toLedger]),
        [['redemption', outcome.gap!.fromLedger, outcome.gap!.toLedger]],
      );
      assert.equal(await db.contractEvent.count({ where: { resourceId: 'lost' } }), 0);
      assert.equal(await db.contractEvent.count({ where: { resourceId: 'kept' } }), 1, 'the page after the gap');
    } finally {
      await fetch(`${stellar.sandbox.url}/sandbox/rpc-retention`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ledgers: 120_960 }),
      });
    }
  });

  it('a cursor ahead of the RPC (a node behind the one that served it) is retried, not taken for a gap', async () => {
    const store = new PrismaContractEventStore(db);
    const position = await store.position('redemption');
    const latest = (await stellar.gateway.rpcLedgerRange()).latestLedger;
    const ahead = `${(BigInt(latest + 50) << 32n).toString().padStart(19, '0')}-0000000000`;
    await store.storePage({
      contract: 'redemption',
      contractId: redemption,
      from: position,
      to: { cursor: ahead, nextLedger: latest + 50 },
      events: [],
    });
    await assert.rejects(page(), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'StellarUnavailable');
      assert.equal(error.nonRetryable, false);
      return true;
    });
    assert.equal(await db.contractEventGap.count(), 1, 'no second gap');
  });
});
