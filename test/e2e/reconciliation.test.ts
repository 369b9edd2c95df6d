// Calls the API through the typed client (@nova/client). Bodies the document refuses are sent
// through it with a cast: the point is the API's 400 naming the field. Raw HTTP stays for one
// request the client cannot express: a reconciliation without its required Idempotency-Key header.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Asset, Horizon, Memo, Operation, TransactionBuilder, type Keypair } from '@stellar/stellar-sdk';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { domainMetrics } from '@nova/activities';
import type { NovaClient, Schemas } from '@nova/client';
import {
  connectToTemporal,
  createPlatformWorker,
  createTemporalClient,
  createWorkerActivities,
  workflowSourceFor,
} from '@nova/worker';
import {
  eventually,
  quietTemporalRuntime,
  TEST_ADMIN_KEY,
  testApiConfig,
  testWorkerConfig,
  uniqueTaskQueue,
} from '../support/environment';
import { createWallets, sandboxStellarConfig, startStellarFixture, type StellarFixture } from '../support/stellar';
import { createTestDatabase, type TestDatabase } from '../support/database';
import {
  apiClient,
  expectStatus,
  idempotencyKey,
  listenForClients,
  reasonOf,
  runningCampaign,
} from '../support/api-client';

quietTemporalRuntime();

interface MismatchView {
  kind: string;
  resourceKind: string;
  resourceId: string | null;
  merchantId: string | null;
  message: string;
  chain: Record<string, unknown> | null;
  readModel: Record<string, unknown> | null;
}

interface ReportView {
  id: string;
  status: string;
  trigger: string;
  window: { from: string; to: string };
  counts: { checked: Record<string, number>; mismatches: Record<string, number> };
  mismatchCount: number;
  failureMessage: string | null;
  workflowId: string;
  mismatches: MismatchView[];
}

const ISSUANCES = 300;

// The chain against the read models on the real stack: API -> Temporal dev server -> worker -> sandbox ledger.
describe('reconciliation of the chain against the read models, end to end', () => {
  let stellar: StellarFixture;
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestExpressApplication;
  let connection: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  let wallets: Keypair[];
  let merchant: { id: string; key: string };
  let campaignId: string;
  const taskQueue = uniqueTaskQueue('e2e-reconciliation');
  const http = () => request(app.getHttpServer());
  let baseUrl: string;
  const as = (key?: string): NovaClient => apiClient(baseUrl, key);
  let horizon: Horizon.Server;

  /**
   * A window boundary no payment made before it can fall after, and none made after it before:
   * the next whole second once a ledger has closed at or after it (Horizon's times are seconds).
   */
  async function boundary(): Promise<string> {
    const at = Math.floor(Date.now() / 1000) * 1000 + 1000;
    await eventually(async () => ((await stellar.gateway.latestLedger()).closedAt.getTime() >= at ? true : undefined), {
      what: 'a ledger closed past the window boundary',
      timeoutMs: 10_000,
    });
    return new Date(at).toISOString();
  }

  async function issueAll(count: number, amountOf: (i: number) => string): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < count; start += 25) {
      const bodies = Array.from({ length: Math.min(25, count - start) }, (_, offset) => start + offset);
      const accepted = await Promise.all(
        bodies.map((i) =>
          expectStatus(
            as(merchant.key).POST('/v1/rewards/issuances', {
              params: idempotencyKey(),
              body: { campaignId, walletAddress: wallets[i % wallets.length]!.publicKey(), amount: amountOf(i) },
            }),
            202,
          ),
        ),
      );
      ids.push(...accepted.map((response) => response.data!.id));
    }
    await eventually(
      async () => {
        const confirmed = await db.issuance.count({ where: { id: { in: ids }, status: 'confirmed' } });
        const failed = await db.issuance.findFirst({ where: { id: { in: ids }, status: 'failed' } });
        if (failed) throw new Error(`issuance ${failed.id} failed: ${failed.failureType} ${failed.failureMessage}`);
        return confirmed === ids.length ? true : undefined;
      },
      { what: `${count} issuances confirmed`, timeoutMs: 300_000 },
    );
    return ids;
  }

  /** POST /v1/admin/reconciliations; loosely typed body: the 400 cases send what the document refuses. */
  function reconcile(body: object, key: string = randomUUID()) {
    return as(TEST_ADMIN_KEY).POST('/v1/admin/reconciliations', {
      params: idempotencyKey(key),
      body: body as Schemas['CreateReconciliationRequest'],
    });
  }

  async function completed(id: string): Promise<ReportView> {
    return await eventually(
      async () => {
        const report = (
          await expectStatus(
            as(TEST_ADMIN_KEY).GET('/v1/admin/reconciliations/{id}', { params: { path: { id } } }),
            200,
          )
        ).data! as ReportView;
        if (report.status === 'failed') throw new Error(`reconciliation failed: ${report.failureMessage}`);
        return report.status === 'completed' ? report : undefined;
      },
      { what: `reconciliation ${id} completed`, timeoutMs: 120_000 },
    );
  }

  async function mismatchesCounted(kind: string): Promise<number> {
    const metric = await domainMetrics.getSingleMetric('nova_reconciliation_mismatches_total')!.get();
    return metric.values.filter((value) => value.labels.kind === kind).reduce((sum, value) => sum + value.value, 0);
  }

  /** The sandbox's configuration with its vesting contract (the interface-only runtime: no reads needed here). */
  function vestingStellar() {
    const sandbox = sandboxStellarConfig(stellar);
    return { ...sandbox, network: { ...sandbox.network, vestingContractId: stellar.sandbox.contracts.vesting! } };
  }

  beforeAll(async () => {
    stellar = await startStellarFixture({ ledgerIntervalMs: 250, submitTimeoutMs: 3_000 });
    horizon = new Horizon.Server(stellar.sandbox.url, { allowHttp: true });
    database = await createTestDatabase('e2e_reconciliation');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 5 });
    const workerConfig = testWorkerConfig({
      taskQueue,
      databaseUrl: database.url,
      stellar: vestingStellar(),
      paymentBudgetSeconds: 120,
    });
    connection = await connectToTemporal(workerConfig);
    worker = await createPlatformWorker({
      config: workerConfig,
      connection,
      identity: `e2e-${taskQueue}`,
      workflowSource: workflowSourceFor(workerConfig),
      activities: await createWorkerActivities({
        config: workerConfig,
        db,
        temporal: createTemporalClient(connection, workerConfig),
        identity: `e2e-${taskQueue}`,
      }),
    });
    workerRun = worker.run();
    app = await createApp(testApiConfig({ taskQueue, databaseUrl: database.url, stellar: vestingStellar().network }));
    baseUrl = await listenForClients(app);
    const created = (
      await expectStatus(as(TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: 'Reconciled shop' } }), 201)
    ).data!;
    merchant = { id: created.merchant.id, key: created.apiKey.key };
    campaignId = (await runningCampaign(as(merchant.key), { name: 'Reconciled', budget: '1000000' })).id;
    // The wallets are funded from the distribution account: before any window below.
    wallets = await createWallets(stellar, 60);
  });
  afterAll(async () => {
    await app?.close();
    worker?.shutdown();
    await workerRun;
    await connection?.close();
    await db?.$disconnect();
    await database?.drop();
    await stellar?.stop();
  });

  it(`a clean window of ${ISSUANCES} batched payments: every payment maps to its confirmed issuance, 0 mismatches`, async () => {
    const from = await boundary();
    const ids = await issueAll(ISSUANCES, (i) => `${1 + (i % 17)}.${String(i).padStart(3, '0')}`);
    const to = await boundary();
    const accepted = await expectStatus(reconcile({ from, to }), 202);
    const started = accepted.data!;
    assert.equal(accepted.response.headers.get('location'), `/v1/admin/reconciliations/${started.id}`);
    assert.equal(started.status, 'running');
    assert.equal(started.trigger, 'admin');
    assert.deepEqual(started.window, { from, to });
    assert.equal(started.workflowId, `reconciliation/${started.id}`);

    const report = await completed(started.id);
    assert.deepEqual(report.mismatches, []);
    assert.equal(report.mismatchCount, 0);
    assert.equal(report.counts.checked.chainPayments, ISSUANCES, 'each payment left the distribution account once');
    assert.equal(report.counts.checked.issuances, ids.length, 'each confirmed issuance has its payment');
    assert.deepEqual(report.counts.mismatches, {});
    // Batched: far fewer transactions than payments, so the journal's operation index is what matched them.
    const transactions = await db.$queryRaw<{ count: bigint }[]>`
      SELECT count(DISTINCT tx_hash) AS count FROM issuances WHERE id = ANY(${ids}::uuid[])`;
    assert.ok(Number(transactions[0]!.count) < ISSUANCES, `${transactions[0]!.count} transactions`);
    // The staged payments went with the report's completion; the list shows the report.
    assert.equal(await db.reconciliationChainPayment.count({ where: { reconciliationId: report.id } }), 0);
    const list = await expectStatus(
      as(TEST_ADMIN_KEY).GET('/v1/admin/reconciliations', { params: { query: { status: 'completed' } } }),
      200,
    );
    assert.ok(list.data!.data.some((item) => item.id === report.id));
  });

  it('a payment made outside the platform and an issuance altered by hand are each reported with both sides', async () => {
    const from = await boundary();
    const [altered, untouched] = await issueAll(2, () => '10');
    // An issuance's amount changed in the read model behind the platform's back.
    await db.$executeRaw`UPDATE issuances SET amount_stroops = 990000000 WHERE id = ${altered}::uuid`;
    // A payment straight from the distribution account, signed with its key, bypassing the platform.
    const source = await horizon.loadAccount(stellar.distribution.publicKey());
    const foreign = new TransactionBuilder(source, {
      fee: '100',
      networkPassphrase: stellar.sandbox.networkPassphrase,
      memo: Memo.text('manual transfer'),
    })
      .addOperation(
        Operation.payment({
          destination: wallets[0]!.publicKey(),
          asset: new Asset(stellar.sandbox.asset.code, stellar.sandbox.asset.issuer),
          amount: '7',
        }),
      )
      .setTimeout(30)
      .build();
    foreign.sign(stellar.distribution);
    const foreignHash = (await horizon.submitTransaction(foreign)).hash;
    const to = await boundary();
    const withoutRecordBefore = await mismatchesCounted('payment_without_record');
    const differsBefore = await mismatchesCounted('payment_differs');

    const report = await completed((await expectStatus(reconcile({ from, to }), 202)).data!.id);
    assert.equal(report.mismatchCount, 2, JSON.stringify(report.mismatches));
    assert.deepEqual(report.counts.mismatches, { payment_without_record: 1, payment_differs: 1 });
    assert.deepEqual(report.counts.checked, {
      chainPayments: 3,
      issuances: 2,
      redemptionRefunds: 0,
      vestingReleases: 0,
      campaigns: 0,
      redemptions: 0,
    });

    const outside = report.mismatches.find((m) => m.kind === 'payment_without_record');
    assert.ok(outside);
    assert.equal(outside.merchantId, null, 'nobody on the platform made it: the admin hears of it, no merchant');
    assert.equal(outside.resourceKind, 'unknown');
    assert.equal(outside.readModel, null);
    assert.deepEqual(
      {
        txHash: outside.chain?.txHash,
        from: outside.chain?.from,
        to: outside.chain?.to,
        amount: outside.chain?.amount,
        memo: outside.chain?.memo,
        asset: outside.chain?.asset,
      },
      {
        txHash: foreignHash,
        from: stellar.distribution.publicKey(),
        to: wallets[0]!.publicKey(),
        amount: '7.0000000',
        memo: 'manual transfer',
        asset: `${stellar.sandbox.asset.code}:${stellar.sandbox.asset.issuer}`,
      },
    );

    const differs = report.mismatches.find((m) => m.kind === 'payment_differs');
    assert.ok(differs);
    assert.equal(differs.resourceKind, 'issuance');
    assert.equal(differs.resourceId, altered);
    assert.equal(differs.merchantId, merchant.id);
    assert.match(differs.message, /amount 10\.0000000 on chain, 99\.0000000 recorded/);
    assert.equal(differs.chain?.amount, '10.0000000');
    const readModel = differs.readModel as { record: Record<string, unknown>; journal: Record<string, unknown> };
    assert.equal(readModel.record.amount, '99.0000000');
    assert.equal(readModel.record.status, 'confirmed');
    assert.equal(readModel.record.txHash, differs.chain?.txHash);
    assert.deepEqual(
      [readModel.journal.businessKey, readModel.journal.amount, readModel.journal.status],
      [`issuance/${altered}`, '10.0000000', 'landed'],
    );
    assert.ok(!report.mismatches.some((m) => m.resourceId === untouched));

    // The merchant hears of its own resource's mismatch; the foreign payment has no merchant to tell.
    const events = await db.outboxEvent.findMany({
      where: { type: 'reconciliation.mismatch', aggregateId: report.id },
    });
    assert.deepEqual(
      events.map((event) => [event.merchantId, (event.payload as { resourceId: string }).resourceId]),
      [[merchant.id, altered]],
    );
    const payload = events[0]!.payload as { kind: string; chain: { amount: string }; readModel: unknown };
    assert.equal(payload.kind, 'payment_differs');
    assert.equal(payload.chain.amount, '10.0000000');
    // The alert metric counts each mismatch once.
    assert.equal(await mismatchesCounted('payment_without_record'), withoutRecordBefore + 1);
    assert.equal(await mismatchesCounted('payment_differs'), differsBefore + 1);
  });

  it('vesting payments map to the read model (releases paid together are one payment); a release altered by hand is reported', async () => {
    const from = await boundary();
    const beneficiary = wallets[59]!.publicKey();
    const startAt = new Date((Math.floor(Date.now() / 1000) + 1) * 1000);
    const created = await expectStatus(
      as(merchant.key).POST('/v1/vesting-schedules', {
        params: idempotencyKey(),
        body: {
          campaignId,
          beneficiary,
          totalAmount: '4',
          startAt: startAt.toISOString(),
          cliffAt: new Date(startAt.getTime() + 2_000).toISOString(),
          endAt: new Date(startAt.getTime() + 8_000).toISOString(),
          interval: 'PT2S',
          revocable: false,
        },
      }),
      202,
    );
    const scheduleId = created.data!.id;
    await eventually(
      async () =>
        (await db.vestingSchedule.findUniqueOrThrow({ where: { id: scheduleId } })).status === 'completed'
          ? true
          : undefined,
      { what: 'the vesting schedule completed', timeoutMs: 120_000 },
    );
    const to = await boundary();
    const payments = await db.vestingRelease.groupBy({ by: ['txHash'], where: { scheduleId } });

    const clean = await completed((await expectStatus(reconcile({ from, to }), 202)).data!.id);
    assert.equal(clean.mismatchCount, 0, JSON.stringify(clean.mismatches));
    assert.equal(clean.counts.checked.vestingReleases, payments.length, 'each payment checked against the read model');
    assert.equal(clean.counts.checked.chainPayments, payments.length);

    // The newest release of the last payment claims a stroop more than the chain paid.
    const last = await db.vestingRelease.findFirstOrThrow({ where: { scheduleId }, orderBy: { number: 'desc' } });
    await db.vestingRelease.update({
      where: { scheduleId_number: { scheduleId, number: last.number } },
      data: { amountStroops: last.amountStroops + 1n },
    });
    const altered = await completed((await expectStatus(reconcile({ from, to }), 202)).data!.id);
    assert.deepEqual(altered.counts.mismatches, { payment_differs: 1 }, JSON.stringify(altered.mismatches));
    const [differs] = altered.mismatches;
    assert.equal(differs?.resourceKind, 'vesting_release');
    assert.equal(differs?.resourceId, `vesting/${scheduleId}/release/${last.number}`);
    assert.equal(differs?.merchantId, merchant.id);
  });

  it('POST takes an Idempotency-Key: the same window answers with the same report, another window 422, none 400', async () => {
    const to = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    const from = new Date(Date.parse(to) - 60_000).toISOString();
    const key = `reconcile-${randomUUID()}`;
    const first = await expectStatus(reconcile({ from, to }, key), 202);
    const again = await expectStatus(reconcile({ to, from }, key), 202);
    assert.equal(again.response.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.data!.id, first.data!.id);
    assert.equal(first.response.headers.get('idempotent-replayed'), null);
    const other = await expectStatus(reconcile({ from, to: new Date(Date.parse(to) - 1000).toISOString() }, key), 422);
    assert.equal(reasonOf(other.error), 'IdempotencyKeyReused');
    const missing = await http().post('/v1/admin/reconciliations').set('X-API-Key', TEST_ADMIN_KEY).send({ from, to });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.details[0].field, 'Idempotency-Key');
    await completed(first.data!.id);
  });

  it('refuses a window it cannot reconcile with 400 naming the field', async () => {
    const now = Date.now();
    const at = (offsetMs: number) => new Date(now + offsetMs).toISOString();
    const cases: [object, string, RegExp][] = [
      [{ from: at(-1_000), to: at(-2_000) }, 'to', /after from/],
      [{ from: at(-1_000), to: at(-1_000) }, 'to', /after from/],
      [{ from: at(-60_000), to: at(3_600_000) }, 'to', /future/],
      [{ from: at(-40 * 86_400_000), to: at(-1_000) }, 'to', /at most 2678400 seconds/],
      [{ from: 'yesterday', to: at(-1_000) }, 'from', /ISO-8601/],
      [{ from: at(-1_000) }, 'to', /ISO-8601/],
    ];
    for (const [body, field, message] of cases) {
      const refused = await expectStatus(reconcile(body), 400);
      const details = refused.error?.details;
      const detail = (Array.isArray(details) ? details : []).find((d) => d.field === field);
      assert.ok(detail, `${JSON.stringify(body)}: ${JSON.stringify(refused.error)}`);
      assert.match(detail.messages.join(' '), message, JSON.stringify(body));
    }
    await expectStatus(
      as(TEST_ADMIN_KEY).GET('/v1/admin/reconciliations/{id}', { params: { path: { id: randomUUID() } } }),
      404,
    );
    await expectStatus(as(merchant.key).GET('/v1/admin/reconciliations'), 403);
  });
});
