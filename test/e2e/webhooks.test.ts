// Calls the API through the typed client (@nova/client). Raw HTTP stays for one request the
// client cannot express: an endpoint registration without its required Idempotency-Key header.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { WebhookRelay, type WebhookDeliveryStartRecord } from '@nova/activities';
import { WorkflowHandoffs } from '@nova/workflows/client';
import {
  connectToTemporal,
  createPlatformWorkers,
  createTemporalClient,
  createWorkerActivities,
  ensureReconciler,
  workflowSourceFor,
} from '@nova/worker';
import {
  eventually,
  quietTemporalRuntime,
  required,
  TEST_ADMIN_KEY,
  testApiConfig,
  testWorkerConfig,
  uniqueTaskQueue,
} from '../support/environment';
import { createWallets, sandboxStellarConfig, startStellarFixture, type StellarFixture } from '../support/stellar';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { WebhookReceiver, type ReceivedWebhook } from '../support/webhook-receiver';
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

quietTemporalRuntime();

type EndpointView = Schemas['WebhookEndpointView'] & { secret?: string };
type DeliveryView = Schemas['WebhookDeliveryView'] & { attempts?: Schemas['WebhookDeliveryDetailView']['attempts'] };

/** The standard headers of a received delivery, for the verifier. */
function signed(received: ReceivedWebhook): Record<string, string> {
  return {
    'webhook-id': String(received.headers['webhook-id']),
    'webhook-timestamp': String(received.headers['webhook-timestamp']),
    'webhook-signature': String(received.headers['webhook-signature']),
  };
}

// Webhooks on the real stack: API -> outbox -> relay -> webhookDeliveryWorkflow (its own task
// queue, on the dev server) -> a real HTTP receiver on loopback (allowed by WEBHOOK_ALLOWED_HOSTS).
describe('webhook delivery end to end', () => {
  let stellar: StellarFixture;
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestExpressApplication;
  let connection: NativeConnection;
  let workers: Worker[];
  let workersRun: Promise<unknown>;
  let temporal: Client;
  const receiver = new WebhookReceiver();
  const taskQueue = uniqueTaskQueue('e2e-webhooks');
  const http = () => request(app.getHttpServer());
  let baseUrl: string;
  /** A caller sending `key` as X-API-Key (through the typed client). */
  const as = (key = merchant.key): NovaClient => apiClient(baseUrl, key);
  let merchant: { id: string; key: string };

  const workerConfig = () =>
    testWorkerConfig({
      taskQueue,
      databaseUrl: database.url,
      stellar: sandboxStellarConfig(stellar),
      paymentBudgetSeconds: 120,
      fulfilmentDeadlineSeconds: 3_600,
      reconciler: { everySeconds: 1, afterSeconds: 1 },
      webhookAllowedHosts: '127.0.0.1',
    });

  async function createMerchant() {
    const { data } = await expectStatus(
      as(TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: `Shop ${randomUUID().slice(0, 6)}` } }),
      201,
    );
    return { id: data!.merchant.id, key: data!.apiKey.key };
  }

  /** POST /v1/webhooks/endpoints; loosely typed: the 400 cases send events the document refuses. */
  function register(body: { url: string; events: string[] }, key = merchant.key) {
    return as(key).POST('/v1/webhooks/endpoints', {
      params: idempotencyKey(),
      body: body as Schemas['CreateWebhookEndpointRequest'],
    });
  }

  const sendTest = (endpointId: string, key = merchant.key) =>
    as(key).POST('/v1/webhooks/endpoints/{id}/test', { params: { ...idempotencyKey(), path: { id: endpointId } } });

  const readEndpoint = (id: string, key = merchant.key) =>
    as(key).GET('/v1/webhooks/endpoints/{id}', { params: { path: { id } } });

  const readDelivery = (id: string, key = merchant.key) =>
    as(key).GET('/v1/webhooks/deliveries/{id}', { params: { path: { id } } });

  const redeliver = (id: string) =>
    as().POST('/v1/webhooks/deliveries/{id}/redeliver', { params: { ...idempotencyKey(), path: { id } } });

  async function endpoint(path: string, events: string[] = ['*'], key = merchant.key): Promise<EndpointView> {
    return (await expectStatus(register({ url: receiver.url(path), events }, key), 201)).data!;
  }

  async function delivery(id: string, key = merchant.key): Promise<DeliveryView> {
    return (await expectStatus(readDelivery(id, key), 200)).data!;
  }

  async function deliveriesOf(endpointId: string, key = merchant.key): Promise<DeliveryView[]> {
    const page = await expectStatus(as(key).GET('/v1/webhooks/deliveries', { params: { query: { endpointId } } }), 200);
    return page.data!.data;
  }

  async function ended(id: string, timeoutMs = 60_000): Promise<DeliveryView> {
    return await eventually(
      async () => {
        const view = await delivery(id);
        return view.status === 'succeeded' || view.status === 'failed' ? view : undefined;
      },
      { what: `delivery ${id} to end`, timeoutMs },
    );
  }

  async function testEvent(endpointId: string): Promise<{ deliveryId: string; eventId: string }> {
    return (await expectStatus(sendTest(endpointId), 202)).data!;
  }

  async function confirmedIssuance(): Promise<{ id: string; view: Record<string, unknown> }> {
    const [wallet] = await createWallets(stellar, 1);
    const campaign = await runningCampaign(as(), { name: 'Hooks', budget: '100' });
    const accepted = await expectStatus(
      as().POST('/v1/rewards/issuances', {
        params: idempotencyKey(),
        body: { campaignId: campaign.id, walletAddress: wallet!.publicKey(), amount: '4.5' },
      }),
      202,
    );
    const id = accepted.data!.id;
    const view = await eventually(
      async () => {
        const got = await expectStatus(as().GET('/v1/rewards/issuances/{id}', { params: { path: { id } } }), 200);
        return got.data?.status === 'confirmed' ? (got.data as Record<string, unknown>) : undefined;
      },
      { what: `issuance ${id} confirmed`, timeoutMs: 60_000 },
    );
    return { id, view };
  }

  beforeAll(async () => {
    await receiver.start();
    stellar = await startStellarFixture({ ledgerIntervalMs: 250, submitTimeoutMs: 3_000 });
    database = await createTestDatabase('e2e_webhooks');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 5 });
    const config = workerConfig();
    connection = await connectToTemporal(config);
    temporal = new Client({ connection: await Connection.connect({ address: required('TEMPORAL_ADDRESS') }) });
    workers = await createPlatformWorkers({
      config,
      connection,
      identity: `e2e-${taskQueue}`,
      workflowSource: workflowSourceFor(config),
      activities: await createWorkerActivities({
        config,
        db,
        temporal: createTemporalClient(connection, config),
        identity: `e2e-${taskQueue}`,
      }),
    });
    workersRun = Promise.all(workers.map((worker) => worker.run()));
    app = await createApp(
      testApiConfig({
        taskQueue,
        databaseUrl: database.url,
        stellar: sandboxStellarConfig(stellar).network,
        webhookAllowedHosts: '127.0.0.1',
      }),
    );
    baseUrl = await listenForClients(app);
    merchant = await createMerchant();
  });
  afterAll(async () => {
    await app?.close();
    for (const worker of workers ?? []) worker.shutdown();
    await workersRun;
    await temporal?.connection.close();
    await connection?.close();
    await db?.$disconnect();
    await database?.drop();
    await stellar?.stop();
    await receiver.stop();
  });

  it('registers an endpoint with a whsec_ secret shown once, and refuses URLs into private networks', async () => {
    const created = await endpoint('/registered', ['issuance.confirmed', 'issuance.failed']);
    assert.match(created.secret ?? '', /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(created.secret!.slice('whsec_'.length), 'base64').length, 32);
    const read = (await expectStatus(readEndpoint(created.id), 200)).data!;
    assert.equal((read as EndpointView).secret, undefined, 'the secret is never shown again');
    assert.deepEqual(read.events, ['issuance.confirmed', 'issuance.failed']);
    const listed = await expectStatus(as().GET('/v1/webhooks/endpoints'), 200);
    assert.ok(listed.data!.data.some((e) => e.id === created.id));

    for (const url of [
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]:8080/',
      'http://localhost:3000/',
      'ftp://example.com/hook',
    ]) {
      const refused = await expectStatus(register({ url, events: ['*'] }), 400);
      assert.equal(fieldsOf(refused.error)[0], 'url', `${url}: ${JSON.stringify(refused.error)}`);
    }
    const badEvents = await expectStatus(register({ url: receiver.url('/x'), events: ['nope'] }), 400);
    assert.equal(fieldsOf(badEvents.error)[0], 'events');
    await http()
      .post('/v1/webhooks/endpoints')
      .set('X-API-Key', merchant.key)
      .send({ url: receiver.url('/x'), events: ['*'] })
      .expect(400); // no Idempotency-Key

    const other = await createMerchant();
    await expectStatus(readEndpoint(created.id, other.key), 404);
    await expectStatus(sendTest(created.id, other.key), 404);

    const patched = await expectStatus(
      as().PATCH('/v1/webhooks/endpoints/{id}', {
        params: { ...idempotencyKey(), path: { id: created.id } },
        body: { events: ['*'], enabled: false },
      }),
      200,
    );
    assert.deepEqual(patched.data?.events, ['*']);
    assert.equal(patched.data?.enabled, false);
    await expectStatus(sendTest(created.id), 409);
    await expectStatus(
      as().DELETE('/v1/webhooks/endpoints/{id}', { params: { ...idempotencyKey(), path: { id: created.id } } }),
      204,
    );
    await expectStatus(readEndpoint(created.id), 404);
  });

  it('delivers an issuance.confirmed once, signed, with the issuance exactly as the API returns it', async () => {
    const hook = await endpoint('/confirmed', ['issuance.confirmed']);
    const { id, view } = await confirmedIssuance();
    const [received] = await eventually(
      async () => (receiver.on('/confirmed').length > 0 ? receiver.on('/confirmed') : undefined),
      {
        what: 'the issuance.confirmed delivery',
      },
    );
    const payload = new Webhook(hook.secret!).verify(received!.body, signed(received!)) as {
      id: string;
      type: string;
      data: Record<string, unknown>;
    };
    assert.equal(payload.type, 'issuance.confirmed');
    assert.deepEqual(payload.data, view, 'data is the issuance as GET returns it');
    assert.equal(received!.headers['webhook-id'], payload.id);

    const [listed] = await eventually(
      async () => {
        const rows = await deliveriesOf(hook.id);
        return rows[0]?.status === 'succeeded' ? rows : undefined;
      },
      { what: 'the delivery to read succeeded' },
    );
    const detail = await delivery(listed!.id);
    assert.equal(detail.attemptCount, 1);
    assert.equal(detail.attempts?.[0]?.responseStatus, 200);
    assert.equal(detail.attempts?.[0]?.responseBody, 'ok');
    assert.equal(detail.workflowId, `webhook-delivery/${detail.eventId.slice(4)}/${hook.id}`);
    // Still once, after the relay and the reconciler have had their turn.
    const { scheduleId } = await ensureReconciler(temporal, workerConfig());
    try {
      await eventually(
        async () =>
          (await db.outboxEvent.count({ where: { relayedAt: null } })) === 0 &&
          (await db.webhookDelivery.count({ where: { handedOffAt: null } })) === 0
            ? true
            : undefined,
        { what: 'everything relayed and handed off' },
      );
    } finally {
      await temporal.schedule.getHandle(scheduleId).delete();
    }
    assert.equal(receiver.on('/confirmed').length, 1, `one delivery of issuance ${id}`);
  });

  it('retries a 500 after the schedule’s first wait and delivers; webhook-id stays, the timestamp is per attempt', async () => {
    receiver.answer('/flaky', { status: 500, body: 'boom' }, { status: 200 });
    const hook = await endpoint('/flaky');
    const { deliveryId, eventId } = await testEvent(hook.id);
    const done = await ended(deliveryId);
    assert.equal(done.status, 'succeeded');
    assert.deepEqual(
      done.attempts?.map((a) => a.responseStatus),
      [500, 200],
    );
    assert.equal(done.attempts?.[0]?.responseBody, 'boom');
    const [first, second] = receiver.on('/flaky');
    assert.equal(first!.headers['webhook-id'], eventId);
    assert.equal(second!.headers['webhook-id'], eventId);
    const waited = (second!.receivedAt - first!.receivedAt) / 1000;
    assert.ok(waited >= 4.5 && waited < 15, `retried after ${waited} s (5 s +/- 10%)`);
    new Webhook(hook.secret!).verify(second!.body, signed(second!));
  });

  it('honours Retry-After on a 429', async () => {
    receiver.answer('/throttled', { status: 429, headers: { 'retry-after': '8' } }, { status: 204 });
    const hook = await endpoint('/throttled');
    const { deliveryId } = await testEvent(hook.id);
    const done = await ended(deliveryId);
    assert.equal(done.status, 'succeeded');
    const [first, second] = receiver.on('/throttled');
    const waited = (second!.receivedAt - first!.receivedAt) / 1000;
    assert.ok(waited >= 8, `waited ${waited} s, asked for 8`);
  });

  it('disables an endpoint that answers 410 and tells the merchant’s other endpoints (endpoint.disabled)', async () => {
    const shop = await createMerchant();
    receiver.answer('/gone', { status: 410 });
    const gone = await endpoint('/gone', ['*'], shop.key);
    const watcher = await endpoint('/watcher', ['endpoint.disabled'], shop.key);
    const { deliveryId } = (await expectStatus(sendTest(gone.id, shop.key), 202)).data!;
    const done = await eventually(
      async () => {
        const { data: view } = await readDelivery(deliveryId, shop.key);
        return view?.status === 'failed' ? view : undefined;
      },
      { what: 'the delivery to the gone endpoint to fail' },
    );
    assert.equal(done.failure?.type, 'EndpointGone');
    assert.equal(done.attemptCount, 1, 'no retry after 410');
    const endpointNow = (await expectStatus(readEndpoint(gone.id, shop.key), 200)).data!;
    assert.equal(endpointNow.enabled, false);
    assert.match(endpointNow.disabledReason ?? '', /410/);
    const [notice] = await eventually(
      async () => (receiver.on('/watcher').length > 0 ? receiver.on('/watcher') : undefined),
      {
        what: 'endpoint.disabled at the other endpoint',
      },
    );
    const payload = new Webhook(watcher.secret!).verify(notice!.body, signed(notice!)) as {
      type: string;
      data: { id: string; enabled: boolean };
    };
    assert.equal(payload.type, 'endpoint.disabled');
    assert.equal(payload.data.id, gone.id);
    assert.equal(payload.data.enabled, false);
    assert.equal(receiver.on('/gone').length, 1, 'the disabled endpoint does not get its own endpoint.disabled');
  });

  it('cuts a receiver that never answers at 15 s, records the timeout, and retries', async () => {
    receiver.answer('/silent', { hang: true }, { status: 200 });
    const hook = await endpoint('/silent');
    const { deliveryId } = await testEvent(hook.id);
    const done = await ended(deliveryId, 60_000);
    assert.equal(done.status, 'succeeded');
    const [timedOut, delivered] = done.attempts!;
    assert.equal(timedOut!.errorKind, 'timeout');
    assert.equal(timedOut!.responseStatus, null);
    assert.ok(timedOut!.latencyMs >= 14_500 && timedOut!.latencyMs < 20_000, `cut after ${timedOut!.latencyMs} ms`);
    assert.equal(delivered!.responseStatus, 200);
  });

  it('does not follow a redirect (to a metadata address), and says so', async () => {
    receiver.answer('/redirect', { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } });
    const hook = await endpoint('/redirect');
    const { deliveryId } = await testEvent(hook.id);
    const attempted = await eventually(
      async () => {
        const view = await delivery(deliveryId);
        return view.attempts && view.attempts.length > 0 ? view : undefined;
      },
      { what: 'the first attempt' },
    );
    assert.equal(attempted.status, 'retrying');
    assert.equal(attempted.attempts![0]!.errorKind, 'redirect');
    assert.match(attempted.attempts![0]!.error ?? '', /169\.254\.169\.254/);
    assert.equal(receiver.on('/redirect').length, 1);
  });

  it('redelivers an ended delivery as a new run with the same webhook-id; refuses one in progress', async () => {
    receiver.answer('/again', { status: 200 });
    const hook = await endpoint('/again');
    const { deliveryId, eventId } = await testEvent(hook.id);
    await ended(deliveryId);
    const accepted = await expectStatus(redeliver(deliveryId), 202);
    assert.equal(accepted.data?.run, 2);
    assert.equal(accepted.data?.status, 'pending');
    const again = await eventually(
      async () => {
        const view = await delivery(deliveryId);
        return view.status === 'succeeded' && view.run === 2 ? view : undefined;
      },
      { what: 'the redelivery' },
    );
    assert.deepEqual(
      again.attempts!.map((a) => [a.run, a.number]),
      [
        [1, 1],
        [2, 1],
      ],
    );
    assert.deepEqual(
      receiver.on('/again').map((r) => r.headers['webhook-id']),
      [eventId, eventId],
    );

    receiver.answer('/busy', { hang: true });
    const slow = await endpoint('/busy');
    const pending = await testEvent(slow.id);
    const refused = await expectStatus(redeliver(pending.deliveryId), 409);
    assert.equal(reasonOf(refused.error), 'DeliveryInProgress');
    await expectStatus(readDelivery(randomUUID()), 404);
    receiver.release();
  });

  it('a dead endpoint holds only its own slots: other endpoints and payments go on', async () => {
    const shop = await createMerchant();
    receiver.answer('/stuck', { hang: true });
    const stuck = await endpoint('/stuck', ['*'], shop.key);
    const healthy = await endpoint('/healthy', ['*'], shop.key);
    for (let i = 0; i < 8; i++) await expectStatus(sendTest(stuck.id, shop.key), 202);
    // The endpoint's limit (WEBHOOK_ENDPOINT_CONCURRENCY, 4 here) of attempts hang; the others wait, unsent.
    await eventually(async () => (receiver.on('/stuck').length === 4 ? true : undefined), {
      what: 'the stuck endpoint to have its 4 attempts in flight',
    });
    const sent = (await expectStatus(sendTest(healthy.id, shop.key), 202)).data!;
    const delivered = await eventually(
      async () => {
        const { data: view } = await readDelivery(sent.deliveryId, shop.key);
        return view?.status === 'succeeded' ? view : undefined;
      },
      { what: 'the healthy endpoint’s delivery', timeoutMs: 10_000 },
    );
    assert.equal(delivered.attemptCount, 1);
    const { view } = await confirmedIssuance();
    assert.equal(view.status, 'confirmed', 'a payment does not wait for webhooks');
    assert.equal(receiver.on('/stuck').length, 4, 'never more than the limit in flight at the stuck endpoint');
    receiver.release(410); // the endpoint goes away: its deliveries end
    // Quiet again before the next test: every delivery ended, every event (endpoint.disabled) relayed.
    await eventually(
      async () =>
        (await db.webhookDelivery.count({
          where: { endpointId: stuck.id, status: { in: ['pending', 'retrying'] } },
        })) === 0 && (await db.outboxEvent.count({ where: { relayedAt: null } })) === 0
          ? true
          : undefined,
      { what: 'the stuck endpoint’s deliveries to end', timeoutMs: 60_000 },
    );
  });

  it('two relays racing over the same events start one delivery per (event, endpoint)', async () => {
    const shop = await createMerchant();
    const hooks = await Promise.all([endpoint('/race-a', ['*'], shop.key), endpoint('/race-b', ['*'], shop.key)]);
    const handoffs = new WorkflowHandoffs(temporal, {
      taskQueue,
      webhookTaskQueue: workerConfig().temporal.webhookTaskQueue,
      paymentBudgetSeconds: 60,
      fulfilmentDeadlineSeconds: 3_600,
      assetCode: 'NOVA',
    });
    // Each start waits until the other relay has asked to start the same delivery: both really send it.
    const asked = new Map<string, number>();
    const starter = {
      async startWebhookDelivery(record: WebhookDeliveryStartRecord) {
        asked.set(record.id, (asked.get(record.id) ?? 0) + 1);
        await eventually(async () => ((asked.get(record.id) ?? 0) >= 2 ? true : undefined), {
          what: 'the other relay to start the same delivery',
          timeoutMs: 10_000,
        }).catch(() => undefined);
        return await handoffs.startWebhookDelivery(record);
      },
    };
    const first = new WebhookRelay(db, starter);
    const second = new WebhookRelay(db, starter);
    const events = 5;
    // All at once (one statement), so that they are relayed together by whichever relay takes them.
    await db.outboxEvent.createMany({
      data: Array.from({ length: events }, (_, i) => ({
        merchantId: shop.id,
        type: 'issuance.confirmed',
        aggregateId: randomUUID(),
        dedupeKey: `race/${randomUUID()}`,
        payload: { n: i },
      })),
    });
    const [relayed, reconciled] = await Promise.all([
      first.relayEvents({ afterSeconds: 0, batchSize: 100 }),
      // The reconciler's start step, while the relay has recorded the deliveries and not yet marked them handed off.
      eventually(
        async () => {
          const batch = await second.reconcileStarts({ afterSeconds: 0, batchSize: 100 });
          return batch.seen > 0 ? batch : undefined;
        },
        { what: 'the second relay to see the deliveries' },
      ),
    ]);
    assert.equal(relayed.seen, events);
    assert.equal(relayed.redriven + reconciled.redriven, events * 2, 'every (event, endpoint) started once');
    assert.ok(relayed.alreadyTaken + reconciled.alreadyTaken > 0, 'the relays did race for the same deliveries');
    for (const hook of hooks) {
      await eventually(
        async () =>
          (await deliveriesOf(hook.id, shop.key)).filter((d) => d.status === 'succeeded').length === events
            ? true
            : undefined,
        {
          what: `${events} deliveries to ${hook.url}`,
        },
      );
    }
    assert.equal(receiver.on('/race-a').length, events);
    assert.equal(receiver.on('/race-b').length, events);
    assert.equal(await db.webhookDelivery.count({ where: { merchantId: shop.id } }), events * 2);
  });

  it('does not send old events to an endpoint added later; an event nobody wants is marked relayed', async () => {
    const shop = await createMerchant();
    const before = await db.outboxEvent.create({
      data: {
        merchantId: shop.id,
        type: 'issuance.confirmed',
        aggregateId: randomUUID(),
        dedupeKey: `old/${randomUUID()}`,
        payload: {},
      },
    });
    const relay = new WebhookRelay(db, { startWebhookDelivery: async () => 'started' });
    await relay.relayEvents({ afterSeconds: 0, batchSize: 100 });
    const marked = await db.outboxEvent.findUniqueOrThrow({ where: { id: before.id } });
    assert.ok(marked.relayedAt, 'relayed with no endpoint');
    const late = await endpoint('/late', ['*'], shop.key);
    await db.outboxEvent.update({ where: { id: before.id }, data: { relayedAt: null } });
    await relay.relayEvents({ afterSeconds: 0, batchSize: 100 });
    assert.equal(await db.webhookDelivery.count({ where: { endpointId: late.id } }), 0);
  });
});
