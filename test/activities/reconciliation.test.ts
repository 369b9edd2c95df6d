import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { createReconciliationActivities, type ReconciliationBatch } from '@nova/activities';
import { eventually } from '../support/environment';
import { createWallets, startStellarFixture, type StellarFixture } from '../support/stellar';
import { createTestDatabase, type TestDatabase } from '../support/database';

// The staging and comparison activities on their own (MockActivityEnvironment), against the
// sandbox's Horizon and a PostgreSQL database of this file's own.
describe('reconciliation activities: Horizon pages, heartbeats and batches', () => {
  let stellar: StellarFixture;
  let database: TestDatabase;
  let db: PrismaClient;
  let window: { from: string; to: string };
  const reconciliationId = randomUUID();
  const environment = (heartbeatDetails?: unknown) =>
    new MockActivityEnvironment(heartbeatDetails === undefined ? undefined : { heartbeatDetails }, {
      logger: new DefaultLogger('ERROR'),
    });
  const activities = () =>
    createReconciliationActivities({
      db,
      gateway: stellar.gateway,
      distributionAccount: stellar.distribution.publicKey(),
    });

  beforeAll(async () => {
    stellar = await startStellarFixture({ ledgerIntervalMs: 250 });
    database = await createTestDatabase('activities_reconciliation');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 2 });
    const from = Math.floor(Date.now() / 1000) * 1000 + 1000;
    await eventually(
      async () => ((await stellar.gateway.latestLedger()).closedAt.getTime() >= from ? true : undefined),
      { what: 'a ledger past the window start' },
    );
    // Seven accounts created by the distribution account: seven payments leaving it, none the platform's.
    await createWallets(stellar, 7, { trustline: false });
    window = { from: new Date(from).toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
    await db.reconciliation.create({
      data: {
        id: reconciliationId,
        trigger: 'admin',
        windowFrom: new Date(window.from),
        windowTo: new Date(window.to),
        workflowId: `reconciliation/${reconciliationId}`,
      },
    });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await database?.drop();
    await stellar?.stop();
  });

  it('stages page by page, heartbeating the cursor; a retry resumes from the heartbeat; a payment seen twice is staged once', async () => {
    const input = {
      reconciliationId,
      ...window,
      account: stellar.distribution.publicKey(),
      pageSize: 2,
      maxPages: 2,
    };
    const first = environment();
    const heartbeats: unknown[] = [];
    first.on('heartbeat', (details: unknown) => heartbeats.push(details));
    const staged = (await first.run(activities().stageChainPayments, input)) as { staged: number; next?: string };
    assert.equal(staged.staged, 4);
    assert.ok(staged.next, 'more pages to read');
    // A heartbeat after each page, carrying where the next page begins.
    assert.equal(heartbeats.length, 2);
    assert.deepEqual(heartbeats.at(-1), [staged.next]);

    // A retry of that call (say its worker died) resumes from its last heartbeat, not from the top.
    const resumed = (await environment(heartbeats.at(-1)).run(activities().stageChainPayments, {
      ...input,
      maxPages: 10,
    })) as { staged: number; next?: string };
    assert.equal(resumed.next, undefined, 'read back to before the window');
    // From the top again: every payment was staged already.
    const again = (await environment().run(activities().stageChainPayments, { ...input, maxPages: 10 })) as {
      staged: number;
    };
    assert.equal(again.staged, 0);
    const rows = await db.reconciliationChainPayment.findMany({ where: { reconciliationId } });
    assert.equal(rows.length, 7);
    assert.ok(
      rows.every((row) => row.type === 'create_account' && row.fromAccount === stellar.distribution.publicKey()),
    );
    assert.ok(rows.every((row) => row.closedAt >= new Date(window.from)));
  });

  it('compares staged payments a batch at a time from the cursor; each unexplained payment is reported once, with the chain side', async () => {
    const seen: ReconciliationBatch[] = [];
    let cursor: string | undefined;
    do {
      const batch = (await environment().run(activities().comparePaymentBatch, {
        reconciliationId,
        ...window,
        batchSize: 3,
        ...(cursor ? { cursor } : {}),
      })) as ReconciliationBatch;
      seen.push(batch);
      cursor = batch.next;
    } while (cursor);
    assert.deepEqual(
      seen.map((batch) => [batch.checked.chainPayments, batch.mismatches]),
      [
        [3, 3],
        [3, 3],
        [1, 1],
      ],
    );
    // A batch run again (a retried activity) writes nothing twice.
    const repeated = (await environment().run(activities().comparePaymentBatch, {
      reconciliationId,
      ...window,
      batchSize: 3,
    })) as ReconciliationBatch;
    assert.equal(repeated.mismatches, 0);
    const mismatches = await db.reconciliationMismatch.findMany({ where: { reconciliationId } });
    assert.equal(mismatches.length, 7);
    for (const mismatch of mismatches) {
      assert.equal(mismatch.kind, 'payment_without_record');
      assert.equal(mismatch.merchantId, null);
      assert.equal(mismatch.readModel, null);
      const chain = mismatch.chain as { type: string; from: string; amount: string; asset: string };
      assert.deepEqual(
        [chain.type, chain.from, chain.amount, chain.asset],
        ['create_account', stellar.distribution.publicKey(), '20.0000000', 'native'],
      );
    }

    const completed = (await environment().run(activities().completeReconciliation, {
      reconciliationId,
      checked: { chainPayments: 7 },
    })) as { mismatches: number; events: number };
    assert.deepEqual(completed, { mismatches: 7, events: 0 });
    const report = await db.reconciliation.findUniqueOrThrow({ where: { id: reconciliationId } });
    assert.equal(report.status, 'completed');
    assert.equal(report.mismatchCount, 7);
    assert.deepEqual(report.counts, { checked: { chainPayments: 7 }, mismatches: { payment_without_record: 7 } });
    assert.equal(await db.reconciliationChainPayment.count({ where: { reconciliationId } }), 0);
    assert.equal(await db.outboxEvent.count(), 0, 'no merchant to tell');
  });
});
