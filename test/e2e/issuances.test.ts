// Calls the API through the typed client (@nova/client). Bodies the document refuses are sent
// through it with a cast: the point is the API's 400 naming the field. Raw HTTP stays for one
// request the client cannot express: an issuance without its required Idempotency-Key header.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Keypair, Operation, TransactionBuilder, Horizon, Asset } from '@stellar/stellar-sdk';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { issuanceMemo } from '@nova/domain/memos';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { domainMetrics, systemClock } from '@nova/activities';
import {
  connectToTemporal,
  createPlatformWorker,
  createStellarServices,
  createTemporalClient,
  createWorkerActivities,
  ensureReconciler,
  workflowSourceFor,
} from '@nova/worker';
import { searchAttributes } from '@nova/workflows/definitions';
import { WorkflowHandoffs } from '@nova/workflows/client';
import {
  eventually,
  quietTemporalRuntime,
  required,
  TEST_ADMIN_KEY,
  testApiConfig,
  testWorkerConfig,
  uniqueTaskQueue,
} from '../support/environment';
import {
  createWallets,
  landedWithMemo,
  sandboxStellarConfig,
  startStellarFixture,
  type StellarFixture,
} from '../support/stellar';
import { freePort } from '../support/launcher';
import type { NovaClient, Schemas } from '@nova/client';
import {
  apiClient,
  expectStatus,
  fieldsOf,
  idempotencyKey,
  listenForClients,
  reasonOf,
  runningCampaign,
} from '../support/api-client';
import { createTestDatabase, type TestDatabase } from '../support/database';

quietTemporalRuntime();

type IssuanceView = Schemas['IssuanceView'];

const hoursFromNow = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

// The platform's main path on the real stack: API -> Temporal dev server -> worker -> sandbox ledger.
describe('reward issuance end to end', () => {
  let stellar: StellarFixture;
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestExpressApplication;
  let connection: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  let temporal: Client;
  const taskQueue = uniqueTaskQueue('e2e-issuance');
  const http = () => request(app.getHttpServer());
  let baseUrl: string;
  /** A caller sending `key` as X-API-Key (through the typed client). */
  const as = (key?: string, url = baseUrl): NovaClient => apiClient(url, key);
  let merchant: { id: string; key: string };

  const workerConfig = (queue: string) =>
    testWorkerConfig({
      taskQueue: queue,
      databaseUrl: database.url,
      stellar: sandboxStellarConfig(stellar),
      paymentBudgetSeconds: 120,
      fulfilmentDeadlineSeconds: 3_600,
      // The reconciler runs only while a test asks for it (withReconciler), every second then.
      reconciler: { everySeconds: 1, afterSeconds: 1 },
    });
  const apiConfig = (queue: string) =>
    testApiConfig({
      taskQueue: queue,
      databaseUrl: database.url,
      stellar: sandboxStellarConfig(stellar).network,
      paymentBudgetSeconds: 120,
    });

  async function startWorker(queue: string) {
    const config = workerConfig(queue);
    const started = await createPlatformWorker({
      config,
      connection,
      identity: `e2e-${queue}`,
      workflowSource: workflowSourceFor(config),
      activities: await createWorkerActivities({
        config,
        db,
        temporal: createTemporalClient(connection, config),
        identity: `e2e-${queue}`,
      }),
    });
    return { worker: started, run: started.run() };
  }

  /** Runs `body` while the worker's reconciler schedule exists, as a worker creates it at boot. */
  async function withReconciler<T>(body: () => Promise<T>): Promise<T> {
    const { scheduleId } = await ensureReconciler(temporal, workerConfig(taskQueue));
    try {
      return await body();
    } finally {
      await temporal.schedule.getHandle(scheduleId).delete();
    }
  }

  async function createMerchant() {
    const { data } = await expectStatus(
      as(TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: `Shop ${randomUUID().slice(0, 6)}` } }),
      201,
    );
    return { id: data!.merchant.id, key: data!.apiKey.key };
  }

  async function createCampaign(key: string, body: Partial<Schemas['CreateCampaignRequest']> = {}) {
    return await runningCampaign(as(key), { name: 'Welcome bonus', ...body });
  }

  /** POST /v1/rewards/issuances; loosely typed body: the 400 cases send what the document refuses. */
  function issue(key: string, body: Record<string, unknown>, idempotency: string = randomUUID(), url = baseUrl) {
    return as(key, url).POST('/v1/rewards/issuances', {
      params: idempotencyKey(idempotency),
      body: body as Schemas['CreateIssuanceRequest'],
    });
  }

  const issuanceView = (key: string, id: string) =>
    as(key).GET('/v1/rewards/issuances/{id}', { params: { path: { id } } });

  async function settled(key: string, id: string, timeoutMs = 60_000): Promise<IssuanceView> {
    return await eventually(
      async () => {
        const view = (await expectStatus(issuanceView(key, id), 200)).data!;
        return view.status === 'confirmed' || view.status === 'failed' ? view : undefined;
      },
      { what: `issuance ${id} to settle`, timeoutMs },
    );
  }

  /** A replayed issuance reads failed until its new run confirms it: wait for confirmed itself. */
  async function replayConfirmed(key: string, id: string): Promise<IssuanceView> {
    return await eventually(
      async () => {
        const { data: view } = await issuanceView(key, id);
        return view?.status === 'confirmed' ? view : undefined;
      },
      { what: `replayed issuance ${id} confirmed` },
    );
  }

  async function campaign(key: string, id: string) {
    return (await expectStatus(as(key).GET('/v1/campaigns/{id}', { params: { path: { id } } }), 200)).data!;
  }

  async function addTrustline(wallet: Keypair) {
    const horizon = new Horizon.Server(stellar.sandbox.url, { allowHttp: true });
    const account = await horizon.loadAccount(wallet.publicKey());
    const trust = new TransactionBuilder(account, { fee: '100', networkPassphrase: stellar.sandbox.networkPassphrase })
      .addOperation(
        Operation.changeTrust({ asset: new Asset(stellar.sandbox.asset.code, stellar.sandbox.asset.issuer) }),
      )
      .setTimeout(30)
      .build();
    trust.sign(wallet);
    await horizon.submitTransaction(trust);
  }

  beforeAll(async () => {
    stellar = await startStellarFixture({ ledgerIntervalMs: 250, submitTimeoutMs: 3_000 });
    // The reconciler re-drives what its database holds: this file's own.
    database = await createTestDatabase('e2e_issuances');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 5 });
    connection = await connectToTemporal(testWorkerConfig({ taskQueue }));
    temporal = new Client({ connection: await Connection.connect({ address: required('TEMPORAL_ADDRESS') }) });
    ({ worker, run: workerRun } = await startWorker(taskQueue));
    app = await createApp(apiConfig(taskQueue));
    baseUrl = await listenForClients(app);
    merchant = await createMerchant();
  });
  afterAll(async () => {
    await app?.close();
    worker?.shutdown();
    await workerRun;
    await temporal?.connection.close();
    await connection?.close();
    await db?.$disconnect();
    await database?.drop();
    await stellar?.stop();
  });

  it('pays a reward exactly once and confirms it', async () => {
    const [wallet] = await createWallets(stellar, 1);
    const { id: campaignId } = await createCampaign(merchant.key);
    const accepted = await expectStatus(
      issue(merchant.key, {
        campaignId,
        walletAddress: wallet!.publicKey(),
        amount: '12.5',
        reference: 'order-1',
      }),
      202,
    );
    const body = accepted.data!;
    assert.equal(accepted.response.headers.get('location'), `/v1/rewards/issuances/${body.id}`);
    assert.equal(body.status, 'pending');
    assert.equal(body.amount, '12.5000000');
    assert.equal(body.workflowId, `issuance/${body.id}`);
    assert.match(body.links.temporalUi, /workflows\/issuance%2F/);

    const done = await settled(merchant.key, body.id);
    assert.equal(done.status, 'confirmed', JSON.stringify(done.failure));
    assert.match(done.txHash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(done.attempts, 1);
    const received = await stellar.gateway.paymentsTo(wallet!.publicKey());
    assert.deepEqual(
      received.map((payment) => payment.hash),
      [done.txHash],
    );
    // Alone in its transaction, the payment carries the issuance's memo on chain.
    const landed = await landedWithMemo(stellar, issuanceMemo(body.id));
    assert.deepEqual([landed.count, landed.successful], [1, 1]);
    const budget = await campaign(merchant.key, campaignId);
    assert.deepEqual([budget.remaining, budget.reserved, budget.paid], ['987.5000000', '0.0000000', '12.5000000']);
    const events = await db.outboxEvent.findMany({ where: { aggregateId: body.id } });
    assert.deepEqual(
      events.map((e) => e.type),
      ['issuance.confirmed'],
    );

    // Operators find it in Temporal by merchant, campaign, wallet and status.
    const description = await temporal.workflow.getHandle(body.workflowId).describe();
    assert.equal(description.typedSearchAttributes.get(searchAttributes.merchantId), merchant.id);
    assert.equal(description.typedSearchAttributes.get(searchAttributes.campaignId), campaignId);
    assert.equal(description.typedSearchAttributes.get(searchAttributes.walletAddress), wallet!.publicKey());
    assert.equal(description.typedSearchAttributes.get(searchAttributes.issuanceStatus), 'confirmed');
  });

  it('is idempotent: same key and body -> the original 202 replayed; another body -> 422; no key -> 400', async () => {
    const [wallet] = await createWallets(stellar, 1);
    const { id: campaignId } = await createCampaign(merchant.key);
    const key = randomUUID();
    const body = { campaignId, walletAddress: wallet!.publicKey(), amount: '1' };
    const first = await expectStatus(issue(merchant.key, body, key), 202);
    assert.equal(first.response.headers.get('idempotent-replayed'), null);
    // Key order is no difference; the answer is the original one, Location included.
    const again = await expectStatus(
      issue(merchant.key, { amount: '1', walletAddress: body.walletAddress, campaignId }, key),
      202,
    );
    assert.equal(again.response.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.response.headers.get('location'), first.response.headers.get('location'));
    assert.deepEqual(again.data, first.data);
    // The body as sent is the request: the same amount spelt otherwise is another body.
    for (const amount of ['2', '1.0']) {
      const other = await expectStatus(issue(merchant.key, { ...body, amount }, key), 422);
      assert.equal(other.error?.statusCode, 422);
      assert.equal(reasonOf(other.error), 'IdempotencyKeyReused');
      assert.match(other.error!.message, /already used with a different request body/);
    }
    assert.equal(await db.issuance.count({ where: { merchantId: merchant.id, idempotencyKey: key } }), 1);
    // No Idempotency-Key at all: a request the typed client cannot make (the header is required).
    const missing = await http().post('/v1/rewards/issuances').set('X-API-Key', merchant.key).send(body).expect(400);
    assert.deepEqual(fieldsOf(missing.body), ['Idempotency-Key']);
    await settled(merchant.key, first.data!.id);
    assert.equal((await stellar.gateway.paymentsTo(wallet!.publicKey())).length, 1);
  });

  it('50 concurrent requests with one key -> one issuance, one payment', async () => {
    const [wallet] = await createWallets(stellar, 1);
    const { id: campaignId } = await createCampaign(merchant.key);
    const key = randomUUID();
    const body = { campaignId, walletAddress: wallet!.publicKey(), amount: '3' };
    const responses = await Promise.all(Array.from({ length: 50 }, () => issue(merchant.key, body, key)));
    // One ran; the others met it in flight (409) or got its answer replayed (202).
    const ran = responses.filter(
      (r) => r.response.status === 202 && r.response.headers.get('idempotent-replayed') === null,
    );
    assert.equal(ran.length, 1, 'exactly one request ran');
    const id = ran[0]!.data!.id;
    for (const answer of responses) {
      if (answer.response.status === 409) assert.equal(reasonOf(answer.error), 'IdempotencyKeyInFlight');
      else {
        assert.equal(answer.response.status, 202);
        assert.equal(answer.data?.id, id);
      }
    }
    const retry = await expectStatus(issue(merchant.key, body, key), 202);
    assert.deepEqual([retry.data?.id, retry.response.headers.get('idempotent-replayed')], [id, 'true']);
    assert.equal((await settled(merchant.key, id)).status, 'confirmed');
    assert.equal((await stellar.gateway.paymentsTo(wallet!.publicKey())).length, 1);
    assert.equal(await db.issuance.count({ where: { merchantId: merchant.id, idempotencyKey: key } }), 1);
  });

  it('accepts while Temporal is unreachable; the reconciler starts the run once Temporal is back, and it pays once', async () => {
    const [wallet] = await createWallets(stellar, 1);
    const { id: campaignId } = await createCampaign(merchant.key);
    const config = apiConfig(taskQueue);
    const offline = await createApp({
      ...config,
      temporal: { ...config.temporal, address: `127.0.0.1:${await freePort()}` },
    });
    const offlineUrl = await listenForClients(offline);
    const key = randomUUID();
    const body = { campaignId, walletAddress: wallet!.publicKey(), amount: '4' };
    let id: string;
    try {
      const accepted = await expectStatus(issue(merchant.key, body, key, offlineUrl), 202);
      id = accepted.data!.id;
      assert.deepEqual([accepted.data!.status, accepted.data!.attempts], ['pending', 0]);
      // The merchant's retry is answered from the record.
      const again = await expectStatus(issue(merchant.key, body, key, offlineUrl), 202);
      assert.deepEqual([again.data?.id, again.response.headers.get('idempotent-replayed')], [id, 'true']);
    } finally {
      await offline.close(); // waits for its start calls to fail
    }
    assert.ok(await db.issuanceWorkflowStart.findUnique({ where: { issuanceId: id } }), 'the start is still owed');
    await assert.rejects(temporal.workflow.getHandle(`issuance/${id}`).describe(), WorkflowNotFoundError);
    assert.equal((await campaign(merchant.key, campaignId)).reserved, '0.0000000');

    // No API reaches Temporal for it any more: the worker's reconciler (a Temporal Schedule) starts it.
    const done = await withReconciler(() => settled(merchant.key, id));
    assert.deepEqual([done.status, done.attempts], ['confirmed', 1], JSON.stringify(done.failure));
    assert.deepEqual(
      (await stellar.gateway.paymentsTo(wallet!.publicKey())).map((payment) => payment.hash),
      [done.txHash],
    );
    assert.equal(await db.issuanceWorkflowStart.count({ where: { issuanceId: id } }), 0);
    assert.equal((await temporal.workflow.count(`WorkflowId = 'issuance/${id}'`)).count, 1, 'one run');
    // Started the one way the API starts runs: same search attributes, request id included.
    const { requestId } = await db.issuance.findUniqueOrThrow({ where: { id } });
    const attributes = (await temporal.workflow.getHandle(`issuance/${id}`).describe()).typedSearchAttributes;
    assert.equal(attributes.get(searchAttributes.merchantId), merchant.id);
    assert.equal(attributes.get(searchAttributes.requestId), requestId);
    assert.equal(attributes.get(searchAttributes.issuanceStatus), 'confirmed');
  });

  it('a repeated first start of a failed issuance starts nothing and pays nothing, even once the wallet could be paid', async () => {
    const [wallet] = await createWallets(stellar, 1, { trustline: false });
    const { id: campaignId } = await createCampaign(merchant.key);
    const accepted = await expectStatus(
      issue(merchant.key, { campaignId, walletAddress: wallet!.publicKey(), amount: '2' }),
      202,
    );
    const id = accepted.data!.id;
    assert.equal((await settled(merchant.key, id)).failure?.type, 'TrustlineMissing');
    // A second run would pay now: only Temporal's refusal and the reconciler's check stand in the way.
    await addTrustline(wallet!);

    // The first-start hand-off again, exactly as the API's fast path and the reconciler make it.
    const handoffs = new WorkflowHandoffs(temporal, {
      taskQueue,
      webhookTaskQueue: `${taskQueue}-webhooks`,
      paymentBudgetSeconds: 120,
      fulfilmentDeadlineSeconds: 3_600,
      assetCode: 'NOVA',
    });
    const issuance = await db.issuance.findUniqueOrThrow({ where: { id } });
    assert.equal(await handoffs.startFirstIssuanceRun(issuance), 'already-started', 'Temporal refuses it');

    // As if the API had stopped before clearing its row: the reconciler finds an old start row.
    // (The API's own starter clears its row in the background, on a loaded machine after the run
    // has ended: that is waited for first, so the row below is the reconciler's to find.)
    await eventually(
      async () => ((await db.issuanceWorkflowStart.count({ where: { issuanceId: id } })) === 0 ? true : undefined),
      { what: "the API's starter to clear its start row" },
    );
    await db.issuanceWorkflowStart.create({ data: { issuanceId: id, createdAt: new Date(Date.now() - 3_600_000) } });
    await withReconciler(() =>
      eventually(
        async () => ((await db.issuanceWorkflowStart.count({ where: { issuanceId: id } })) === 0 ? true : undefined),
        { what: 'the reconciler to clear the start row' },
      ),
    );
    assert.equal((await temporal.workflow.count(`WorkflowId = 'issuance/${id}'`)).count, 1, 'still one run');
    const after = (await expectStatus(issuanceView(merchant.key, id), 200)).data!;
    assert.deepEqual([after.status, after.attempts], ['failed', 1]);
    assert.deepEqual(await stellar.gateway.paymentsTo(wallet!.publicKey()), [], 'nothing paid');
    assert.equal(await db.journalItem.count({ where: { businessKey: `issuance/${id}` } }), 0, 'nothing even built');
  });

  it('refuses bad input naming the field, and unusable campaigns with the reason', async () => {
    const [wallet] = await createWallets(stellar, 1);
    const address = wallet!.publicKey();
    const { id: campaignId } = await createCampaign(merchant.key, { budget: '10', maxPerWallet: '4' });
    const field = async (body: Record<string, unknown>) =>
      fieldsOf((await expectStatus(issue(merchant.key, body), 400)).error);
    assert.deepEqual(await field({ campaignId, walletAddress: 'GNOTAWALLET', amount: '1' }), ['walletAddress']);
    assert.deepEqual(await field({ campaignId, walletAddress: Keypair.random().secret(), amount: '1' }), [
      'walletAddress',
    ]);
    assert.deepEqual(await field({ campaignId, walletAddress: address, amount: '1.00000001' }), ['amount']);
    assert.deepEqual(await field({ campaignId, walletAddress: address, amount: 5 }), ['amount']);
    assert.deepEqual(await field({ campaignId: 'nope', walletAddress: address, amount: '1' }), ['campaignId']);
    assert.deepEqual(await field({ campaignId, walletAddress: address, amount: '1', surprise: true }), ['surprise']);

    const unknown = await expectStatus(
      issue(merchant.key, { campaignId: randomUUID(), walletAddress: address, amount: '1' }),
      404,
    );
    assert.equal(fieldsOf(unknown.error)[0], 'campaignId');
    const over = await expectStatus(issue(merchant.key, { campaignId, walletAddress: address, amount: '11' }), 409);
    assert.equal(reasonOf(over.error), 'CampaignBudgetExhausted');
    const perWallet = await expectStatus(issue(merchant.key, { campaignId, walletAddress: address, amount: '5' }), 409);
    assert.equal(reasonOf(perWallet.error), 'WalletLimitExceeded');

    await expectStatus(
      as(merchant.key).PATCH('/v1/campaigns/{id}', {
        params: { ...idempotencyKey(), path: { id: campaignId } },
        body: { status: 'paused' },
      }),
      200,
    );
    const paused = await expectStatus(issue(merchant.key, { campaignId, walletAddress: address, amount: '1' }), 409);
    assert.equal(reasonOf(paused.error), 'CampaignPaused');
    const { id: ended } = await createCampaign(merchant.key, {
      startsAt: '2025-01-01T00:00:00Z',
      endsAt: '2025-02-01T00:00:00Z',
    });
    assert.equal(
      reasonOf(
        (await expectStatus(issue(merchant.key, { campaignId: ended, walletAddress: address, amount: '1' }), 409))
          .error,
      ),
      'CampaignEnded',
    );
    const { id: future } = await createCampaign(merchant.key, { startsAt: hoursFromNow(5), endsAt: hoursFromNow(10) });
    assert.equal(
      reasonOf(
        (await expectStatus(issue(merchant.key, { campaignId: future, walletAddress: address, amount: '1' }), 409))
          .error,
      ),
      'CampaignNotStarted',
    );
  });

  it("another merchant's issuances and campaigns are 404", async () => {
    const [wallet] = await createWallets(stellar, 1);
    const { id: campaignId } = await createCampaign(merchant.key);
    const mine = (
      await expectStatus(issue(merchant.key, { campaignId, walletAddress: wallet!.publicKey(), amount: '1' }), 202)
    ).data!;
    const stranger = await createMerchant();
    await expectStatus(issuanceView(stranger.key, mine.id), 404);
    await expectStatus(issue(stranger.key, { campaignId, walletAddress: wallet!.publicKey(), amount: '1' }), 404);
    const list = await expectStatus(as(stranger.key).GET('/v1/rewards/issuances'), 200);
    assert.deepEqual(list.data?.data, []);
    await settled(merchant.key, mine.id);
  });

  it('a missing trustline fails the issuance and releases the reservation; after the trustline, a replay pays once', async () => {
    const [wallet] = await createWallets(stellar, 1, { trustline: false });
    const { id: campaignId } = await createCampaign(merchant.key, { budget: '100' });
    // The worker runs in this process: its issuance counters are this process's (the tests run one at a time).
    const issuances = async (outcome: string, failureType = '') =>
      (await domainMetrics.getSingleMetric('nova_issuances_total')?.get())?.values.find(
        (v) => v.labels.outcome === outcome && v.labels.failure_type === failureType,
      )?.value ?? 0;
    const [failedBefore, confirmedBefore] = [
      await issuances('failed', 'TrustlineMissing'),
      await issuances('confirmed'),
    ];
    const accepted = (
      await expectStatus(issue(merchant.key, { campaignId, walletAddress: wallet!.publicKey(), amount: '7' }), 202)
    ).data!;
    const failed = await settled(merchant.key, accepted.id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failure?.type, 'TrustlineMissing');
    // Counted right after the read model's commit, which the API may show a moment before.
    await eventually(
      async () => ((await issuances('failed', 'TrustlineMissing')) === failedBefore + 1 ? true : undefined),
      {
        what: 'the failed run counted once, by its failure type',
      },
    );
    const released = await campaign(merchant.key, campaignId);
    assert.deepEqual([released.remaining, released.reserved, released.paid], ['100.0000000', '0.0000000', '0.0000000']);
    assert.deepEqual(
      (await db.outboxEvent.findMany({ where: { aggregateId: accepted.id } })).map((e) => e.type),
      ['issuance.failed'],
    );

    const admin = (
      await expectStatus(
        as(TEST_ADMIN_KEY).GET('/v1/admin/issuances', {
          params: { query: { status: 'failed', merchantId: merchant.id } },
        }),
        200,
      )
    ).data!;
    const listed = admin.data.find((i) => i.id === accepted.id);
    assert.ok(listed);
    assert.equal(listed.merchantId, merchant.id, 'admins see whose issuance it is');
    assert.ok(admin.data.every((i) => i.merchantId === merchant.id));

    // The wallet adds its trustline; an admin replays.
    await addTrustline(wallet!);

    const replay = (id: string, key = TEST_ADMIN_KEY) =>
      as(key).POST('/v1/admin/issuances/{id}/replay', { params: { path: { id } } });
    const replaying = await expectStatus(replay(accepted.id), 202);
    assert.equal(replaying.data?.merchantId, merchant.id);
    const confirmed = await replayConfirmed(merchant.key, accepted.id);
    assert.equal(confirmed.attempts, 2);
    assert.equal((await stellar.gateway.paymentsTo(wallet!.publicKey())).length, 1);
    await eventually(async () => ((await issuances('confirmed')) === confirmedBefore + 1 ? true : undefined), {
      what: 'the replay counted confirmed once',
    });
    assert.equal(
      await issuances('failed', 'TrustlineMissing'),
      failedBefore + 1,
      'the failed run is not counted again',
    );
    const paid = await campaign(merchant.key, campaignId);
    assert.deepEqual([paid.remaining, paid.reserved, paid.paid], ['93.0000000', '0.0000000', '7.0000000']);

    // Replaying what is not failed is refused.
    const refused = await expectStatus(replay(accepted.id), 409);
    assert.equal(reasonOf(refused.error), 'NotFailed');
    await expectStatus(replay(randomUUID()), 404);
    await expectStatus(replay(accepted.id, merchant.key), 403);
  });

  it('replaying an issuance whose payment already landed confirms it without paying again, even with two replays at once', async () => {
    const [wallet] = await createWallets(stellar, 1, { trustline: false });
    const { id: campaignId } = await createCampaign(merchant.key);
    const accepted = (
      await expectStatus(issue(merchant.key, { campaignId, walletAddress: wallet!.publicKey(), amount: '2' }), 202)
    ).data!;
    assert.equal((await settled(merchant.key, accepted.id)).failure?.type, 'TrustlineMissing');
    await addTrustline(wallet!);
    // An earlier attempt's envelope landed (paid through the same exactly-once store).
    const { payments } = await createStellarServices(workerConfig(taskQueue), db, systemClock);
    const paid = await payments.pay({
      businessKey: `issuance/${accepted.id}`,
      destination: wallet!.publicKey(),
      amount: 20_000_000n,
      memo: issuanceMemo(accepted.id),
    });
    assert.equal((await stellar.gateway.paymentsTo(wallet!.publicKey())).length, 1);

    const replayMany = (ids: string[]) => as(TEST_ADMIN_KEY).POST('/v1/admin/issuances/replay', { body: { ids } });
    const replays = await Promise.all([1, 2].map(() => replayMany([accepted.id])));
    const outcomes = replays.map((r) => r.data!.results[0]!.outcome as string).sort();
    assert.deepEqual(outcomes, ['already-replaying', 'replaying']);
    const confirmed = await replayConfirmed(merchant.key, accepted.id);
    assert.equal(confirmed.txHash, paid.hash, 'confirmed with the payment that had landed');
    assert.equal((await stellar.gateway.paymentsTo(wallet!.publicKey())).length, 1, 'no second payment');
    const many = await expectStatus(replayMany([accepted.id, randomUUID()]), 202);
    assert.deepEqual(
      many.data!.results.map((r) => r.outcome),
      ['not-failed', 'not-found'],
    );
    const invalid = await expectStatus(replayMany([]), 400);
    assert.equal(fieldsOf(invalid.error)[0], 'ids');
  });

  it('the workflow is the authority on the budget: of two issuances that passed the door, one is refused', async () => {
    const queue = uniqueTaskQueue('e2e-budget');
    const gated = await createApp(apiConfig(queue));
    const gatedUrl = await listenForClients(gated);
    try {
      const wallets = await createWallets(stellar, 2);
      const { id: campaignId } = await createCampaign(merchant.key, { budget: '5' });
      // No worker polls `queue` yet: both requests pass the API's budget check.
      const ids: string[] = [];
      for (const wallet of wallets) {
        const response = await expectStatus(
          issue(merchant.key, { campaignId, walletAddress: wallet.publicKey(), amount: '5' }, randomUUID(), gatedUrl),
          202,
        );
        ids.push(response.data!.id);
      }
      const late = await startWorker(queue);
      try {
        const outcomes = await Promise.all(ids.map((id) => settled(merchant.key, id)));
        assert.deepEqual(outcomes.map((o) => o.status).sort(), ['confirmed', 'failed']);
        assert.equal(outcomes.find((o) => o.status === 'failed')?.failure?.type, 'CampaignBudgetExhausted');
        const final = await campaign(merchant.key, campaignId);
        assert.deepEqual([final.remaining, final.reserved, final.paid], ['0.0000000', '0.0000000', '5.0000000']);
      } finally {
        late.worker.shutdown();
        await late.run;
      }
    } finally {
      await gated.close();
    }
  });

  for (const fault of [{ kind: 'respond504ButApply' as const }, { kind: 'drop' as const }]) {
    it(`sandbox fault ${fault.kind}: still exactly one payment`, async () => {
      const [wallet] = await createWallets(stellar, 1);
      const { id: campaignId } = await createCampaign(merchant.key);
      stellar.sandbox.faults.add({ ...fault, count: 1, sourceAccount: stellar.distribution.publicKey() });
      try {
        const accepted = await expectStatus(
          issue(merchant.key, { campaignId, walletAddress: wallet!.publicKey(), amount: '4' }),
          202,
        );
        assert.equal((await settled(merchant.key, accepted.data!.id, 90_000)).status, 'confirmed');
        assert.equal((await stellar.gateway.paymentsTo(wallet!.publicKey())).length, 1);
      } finally {
        stellar.sandbox.faults.clear();
      }
    });
  }

  it('lists with filters and cursor pagination', async () => {
    const [wallet] = await createWallets(stellar, 1);
    const { id: campaignId } = await createCampaign(merchant.key);
    const ids = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (await expectStatus(issue(merchant.key, { campaignId, walletAddress: wallet!.publicKey(), amount: '1' }), 202))
          .data!.id,
      );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: IssuanceView[]; nextCursor: string | null } = (
        await expectStatus(
          as(merchant.key).GET('/v1/rewards/issuances', {
            params: { query: { campaignId, limit: 2, ...(cursor ? { cursor } : {}) } },
          }),
          200,
        )
      ).data!;
      seen.push(...page.data.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [...ids].reverse());
    const bad = await expectStatus(
      as(merchant.key).GET('/v1/rewards/issuances', {
        params: { query: { status: 'lost' as IssuanceView['status'] } },
      }),
      400,
    );
    assert.equal(fieldsOf(bad.error)[0], 'status');
    for (const id of ids) await settled(merchant.key, id);
  });
});
