// Calls the API through the typed client (@nova/client); the stream itself through
// test/support/event-stream (Server-Sent Events read as they arrive, which a fetch-and-parse client
// cannot). Raw HTTP stays for GET /metrics, which the OpenAPI document does not list.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createApp, EVENT_STREAM_LISTENER_NAME, EventLog } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import type { NovaClient } from '@nova/client';
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
import { EventStreamClient, type StreamMessage } from '../support/event-stream';
import { apiClient, expectStatus, fieldsOf, idempotencyKey } from '../support/api-client';

quietTemporalRuntime();

interface WebhookBody {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

const hoursFromNow = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();
const body = (message: StreamMessage) => JSON.parse(message.data) as WebhookBody;

// The event stream on the real stack: the API (two instances, and a third with a short heartbeat
// and a small slow-client bound), the worker on the Temporal dev server paying on the sandbox,
// and the database of this file's own (NOTIFY is per database: no other file's events arrive).
describe('the event stream (GET /v1/events/stream)', () => {
  let stellar: StellarFixture;
  let database: TestDatabase;
  let db: PrismaClient;
  let connection: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  /** Two replicas whose heartbeat (and its re-read of the log) is 5 min away: what they deliver, a notification delivered. */
  let apiA: NestExpressApplication;
  let apiB: NestExpressApplication;
  /** One with a 500 ms heartbeat (a client that reads nothing for that long is dropped) and a 64 KiB buffer bound. */
  let apiC: NestExpressApplication;
  const taskQueue = uniqueTaskQueue('e2e-event-stream');
  const urlOf = (app: NestExpressApplication) =>
    `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const as = (app: NestExpressApplication, key?: string): NovaClient => apiClient(urlOf(app), key);
  const clients: EventStreamClient[] = [];
  const closedApps = new Set<NestExpressApplication>();
  let merchant: { id: string; key: string };
  let other: { id: string; key: string };
  let campaignId: string;

  async function connect(
    app: NestExpressApplication,
    key: string,
    options: { lastEventId?: string; paused?: boolean } = {},
  ) {
    const client = await EventStreamClient.connect(urlOf(app), { key, ...options });
    clients.push(client);
    // The stream is subscribed once its opening comment arrived (both happen before the first read).
    if (!options.paused)
      await client.until(() => client.comments.some((c) => c.text === 'stream open'), 'the stream to open');
    return client;
  }

  async function createMerchant(): Promise<{ id: string; key: string }> {
    const { data } = await expectStatus(
      as(apiA, TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: `Stream ${randomUUID().slice(0, 6)}` } }),
      201,
    );
    return { id: data!.merchant.id, key: data!.apiKey.key };
  }

  /** Issues a reward through `app` and waits until the API reads it confirmed. */
  async function issueConfirmed(
    app: NestExpressApplication,
    key: string,
    wallet: string,
  ): Promise<Record<string, unknown>> {
    const accepted = await expectStatus(
      as(app, key).POST('/v1/rewards/issuances', {
        params: idempotencyKey(),
        body: { campaignId, walletAddress: wallet, amount: '1.5' },
      }),
      202,
    );
    const id = accepted.data!.id;
    return await eventually(
      async () => {
        const read = await as(app, key).GET('/v1/rewards/issuances/{id}', { params: { path: { id } } });
        const view = (read.data ?? read.error) as Record<string, unknown>;
        assert.notEqual(view.status, 'failed', JSON.stringify(view));
        return view.status === 'confirmed' ? view : undefined;
      },
      { what: `issuance ${id} confirmed`, timeoutMs: 60_000 },
    );
  }

  /** An event written straight into the outbox, as any writer of it does (the trigger does the rest). */
  async function writeEvent(merchantId: string, payload: Record<string, unknown> = {}, type = 'webhook.test') {
    const [row] = await db.$queryRaw<{ id: string }[]>`
      INSERT INTO outbox_events (merchant_id, type, aggregate_id, dedupe_key, payload, relayed_at)
      VALUES (${merchantId}::uuid, ${type}, ${randomUUID()}, ${`test/${randomUUID()}`}, ${JSON.stringify(payload)}::jsonb, now())
      RETURNING id::text`;
    return row!.id;
  }

  async function metric(app: NestExpressApplication, line: RegExp): Promise<number> {
    const text = (await request(app.getHttpServer()).get('/metrics').expect(200)).text;
    const match = line.exec(text);
    assert.ok(match, `metric ${line} in /metrics`);
    return Number(match[1]);
  }

  beforeAll(async () => {
    stellar = await startStellarFixture({ ledgerIntervalMs: 250, submitTimeoutMs: 3_000 });
    database = await createTestDatabase('e2e_event_stream');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 5 });
    const workerConfig = testWorkerConfig({
      taskQueue,
      databaseUrl: database.url,
      stellar: sandboxStellarConfig(stellar),
    });
    connection = await connectToTemporal(workerConfig);
    worker = await createPlatformWorker({
      config: workerConfig,
      connection,
      identity: 'e2e-event-stream',
      workflowSource: workflowSourceFor(workerConfig),
      activities: await createWorkerActivities({
        config: workerConfig,
        db,
        temporal: createTemporalClient(connection, workerConfig),
        identity: 'e2e-event-stream',
      }),
    });
    workerRun = worker.run();
    const apiConfig = (eventStream?: Parameters<typeof testApiConfig>[0]['eventStream']) =>
      testApiConfig({
        taskQueue,
        databaseUrl: database.url,
        stellar: sandboxStellarConfig(stellar).network,
        eventStream,
      });
    apiA = await createApp(apiConfig({ heartbeatMs: 300_000 }));
    apiB = await createApp(apiConfig({ heartbeatMs: 300_000 }));
    apiC = await createApp(apiConfig({ heartbeatMs: 500, clientBufferLimitBytes: 64 * 1024 }));
    for (const app of [apiA, apiB, apiC]) await app.listen(0, '127.0.0.1');
    merchant = await createMerchant();
    other = await createMerchant();
    const campaign = await expectStatus(
      as(apiA, merchant.key).POST('/v1/campaigns', {
        params: idempotencyKey(),
        body: {
          name: 'Stream',
          budget: '1000',
          startsAt: new Date(Date.now() - 60_000).toISOString(),
          endsAt: hoursFromNow(24),
        },
      }),
      201,
    );
    campaignId = campaign.data!.id;
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    for (const app of [apiA, apiB, apiC]) if (!closedApps.has(app)) await app?.close();
    worker?.shutdown();
    await workerRun;
    await connection?.close();
    await db?.$disconnect();
    await database?.drop();
    await stellar?.stop();
  });

  let firstClient: EventStreamClient;
  let wallets: string[];

  it("delivers an issuance's issuance.confirmed as it happens, with the webhook's body", async () => {
    wallets = (await createWallets(stellar, 5)).map((wallet) => wallet.publicKey());
    firstClient = await connect(apiA, merchant.key);
    const issuance = await issueConfirmed(apiA, merchant.key, wallets[0]!);
    const message = await firstClient.next('issuance.confirmed');
    assert.equal(message.event, 'issuance.confirmed');
    const event = body(message);
    const [row] = await db.outboxEvent.findMany({ where: { aggregateId: issuance.id as string } });
    assert.ok(row, 'the outbox event');
    // The webhook's body exactly: { id: evt_<outbox id>, type, createdAt, data: the issuance as the API reads it }.
    assert.deepEqual(event, {
      id: `evt_${row.id}`,
      type: 'issuance.confirmed',
      createdAt: row.createdAt.toISOString(),
      data: issuance,
    });
    assert.equal(message.id, row.streamPosition?.toString(), 'id: is the event position');
    // The state change and its event are one transaction: the event's created_at is the change's time.
    const latencyMs = message.receivedAt - row.createdAt.getTime();
    assert.ok(latencyMs >= 0, `received after it was written (${latencyMs} ms)`);
    console.info(`issuance.confirmed received ${latencyMs} ms after the state change was written`);
    assert.equal(await metric(apiA, /^nova_event_stream_clients (\d+)$/m), 1);
  });

  it('resumes with Last-Event-ID: disconnected, three more events, reconnected -> exactly those three', async () => {
    const lastEventId = firstClient.lastEventId;
    assert.ok(lastEventId);
    firstClient.close();
    await firstClient.ended;
    const missed = await Promise.all(wallets.slice(1, 4).map((wallet) => issueConfirmed(apiA, merchant.key, wallet)));
    const resumed = await connect(apiA, merchant.key, { lastEventId });
    const received = [
      await resumed.next('missed event 1'),
      await resumed.next('missed event 2'),
      await resumed.next('missed event 3'),
    ];
    assert.deepEqual(
      received.map((m) => m.event),
      ['issuance.confirmed', 'issuance.confirmed', 'issuance.confirmed'],
    );
    assert.deepEqual(
      received.map((m) => (body(m).data as { id: string }).id).sort(),
      missed.map((issuance) => issuance.id as string).sort(),
    );
    const ids = received.map((m) => BigInt(m.id!));
    assert.ok(ids[0]! > BigInt(lastEventId) && ids[0]! < ids[1]! && ids[1]! < ids[2]!, `increasing ids ${ids}`);
    // Nothing else: the next message is one written after them.
    const sentinel = await writeEvent(merchant.id, { sentinel: true });
    const next = await resumed.next('the sentinel');
    assert.equal(body(next).id, `evt_${sentinel}`);
    resumed.close();
  });

  it("never sends another merchant's events", async () => {
    const ours = await connect(apiA, merchant.key);
    const theirs = await connect(apiB, other.key);
    await issueConfirmed(apiA, merchant.key, wallets[4]!);
    const theirEvent = await writeEvent(other.id, { for: 'other' });
    const ourEvent = await writeEvent(merchant.id, { for: 'merchant' });
    assert.equal((await ours.next('our issuance')).event, 'issuance.confirmed');
    assert.equal(body(await ours.next('our event')).id, `evt_${ourEvent}`);
    assert.equal(body(await theirs.next('their event')).id, `evt_${theirEvent}`);
    // Their event came between our two on the log; neither stream saw the other's.
    const theirIds = new Set(
      (await db.outboxEvent.findMany({ where: { merchantId: other.id }, select: { id: true } })).map(
        (e) => `evt_${e.id}`,
      ),
    );
    const ourIds = new Set(
      (await db.outboxEvent.findMany({ where: { merchantId: merchant.id }, select: { id: true } })).map(
        (e) => `evt_${e.id}`,
      ),
    );
    assert.ok(ours.messages.every((m) => ourIds.has(body(m).id)));
    assert.ok(theirs.messages.every((m) => theirIds.has(body(m).id)));
    assert.equal(theirs.messages.length, 1);
    ours.close();
    theirs.close();
  });

  it('delivers through PostgreSQL to any replica: the client on one API, the state change through the other', async () => {
    const onB = await connect(apiB, merchant.key);
    // A state change the API itself writes (the test event of a webhook endpoint), through replica A.
    const onA = as(apiA, merchant.key);
    const endpoint = (
      await expectStatus(
        onA.POST('/v1/webhooks/endpoints', {
          params: idempotencyKey(),
          body: { url: 'http://127.0.0.1:9/hooks', events: ['issuance.confirmed'] },
        }),
        201,
      )
    ).data!;
    await expectStatus(
      onA.POST('/v1/webhooks/endpoints/{id}/test', { params: { ...idempotencyKey(), path: { id: endpoint.id } } }),
      202,
    );
    const message = await onB.next('webhook.test written through API A');
    assert.equal(message.event, 'webhook.test');
    assert.equal((body(message).data as { endpointId: string }).endpointId, endpoint.id);
    onB.close();
  });

  it('reconnects its LISTEN connection when PostgreSQL drops it; events keep arriving', async () => {
    const stream = await connect(apiA, merchant.key);
    const killed = await db.$queryRaw<{ pid: number }[]>`
      SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = ${EVENT_STREAM_LISTENER_NAME}`;
    assert.equal(killed.length, 3, 'one LISTEN connection per API');
    await db.$queryRaw`SELECT pg_terminate_backend(pid) FROM unnest(${killed.map((k) => k.pid)}::int[]) AS pid`;
    await eventually(
      async () => {
        const gone = await db.$queryRaw<{ pid: number }[]>`
          SELECT pid FROM pg_stat_activity WHERE pid = ANY(${killed.map((k) => k.pid)}::int[])`;
        return gone.length === 0 ? true : undefined;
      },
      { what: 'the LISTEN connections to be gone' },
    );
    const written = await writeEvent(merchant.id, { during: 'reconnection' });
    assert.equal(body(await stream.next('the event written while the listener was down')).id, `evt_${written}`);
    await eventually(
      async () => {
        const listeners = await db.$queryRaw<{ pid: number }[]>`
          SELECT pid FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = ${EVENT_STREAM_LISTENER_NAME}`;
        return listeners.length === 3 ? listeners : undefined;
      },
      { what: 'three LISTEN connections again' },
    );
    stream.close();
  });

  it('sends a heartbeat comment every EVENT_STREAM_HEARTBEAT_SECONDS (500 ms here)', async () => {
    const stream = await connect(apiC, merchant.key);
    await stream.until(() => stream.comments.filter((c) => c.text === 'heartbeat').length >= 3, 'three heartbeats');
    const beats = stream.comments.filter((c) => c.text === 'heartbeat');
    // Comments, not events: nothing dispatched, and the stream stays open.
    assert.equal(stream.messages.length, 0);
    assert.equal(stream.response.destroyed, false);
    assert.ok(beats[2]!.receivedAt >= beats[0]!.receivedAt, 'in order');
    stream.close();
  });

  it('bounds what is buffered for a client that does not read, disconnects it, and it resumes by id missing nothing', async () => {
    const slowMerchant = await createMerchant();
    const slowDisconnects = () => metric(apiC, /^nova_event_stream_disconnects_total\{reason="slow"\} (\d+)$/m);
    const slowBefore = await slowDisconnects();
    // A socket that does not read: once Node's small buffer is full, nothing more is taken from the kernel.
    const slow = await connect(apiC, slowMerchant.key, { paused: true });
    // 400 events of 64 KiB (25 MiB): far more than the kernel's socket buffers and the 64 KiB bound.
    const filler = 'x'.repeat(64 * 1024);
    const written = await db.$queryRaw<{ id: string }[]>`
      INSERT INTO outbox_events (merchant_id, type, aggregate_id, dedupe_key, payload, relayed_at)
      SELECT ${slowMerchant.id}::uuid, 'webhook.test', n::text, ${`slow/${randomUUID()}/`} || n,
             jsonb_build_object('n', n, 'filler', ${filler}::text), now()
        FROM generate_series(1, 400) AS n
      RETURNING id::text`;
    assert.equal(written.length, 400);
    const writtenIds = new Set(written.map((w) => `evt_${w.id}`));
    await eventually(async () => ((await slowDisconnects()) > slowBefore ? true : undefined), {
      what: 'the client that does not read to be disconnected',
    });
    // It reads what reached it before the cut, then resumes from its last id as an EventSource does
    // (again after any further cut), until it has every event.
    slow.resume();
    await slow.ended;
    const received = slow.messages.map((m) => body(m).id);
    const cut = received.length;
    assert.ok(cut < 400, `cut before the end (${cut} of 400 received)`);
    let lastEventId = slow.lastEventId;
    for (let attempt = 1; received.length < 400; attempt++) {
      assert.ok(attempt <= 20, `every event within 20 connections (${received.length} of 400)`);
      const resumed = await connect(apiC, slowMerchant.key, lastEventId ? { lastEventId } : {});
      // Until it has the rest, or is cut again (then it reconnects from its last id).
      await resumed.until(() => received.length + resumed.messages.length >= 400, 'the rest').catch(() => undefined);
      received.push(...resumed.messages.map((m) => body(m).id));
      lastEventId = resumed.lastEventId ?? lastEventId;
      resumed.close();
    }
    console.info(`the client that did not read got ${cut} of 400 events before the cut`);
    assert.equal(received.length, 400, 'each event once');
    assert.deepEqual(new Set(received), writtenIds, 'every event');
  });

  it('streams an event whose transaction committed after a later-numbered one was streamed (out-of-order commits)', async () => {
    const raceMerchant = await createMerchant();
    const stream = await connect(apiA, raceMerchant.key);
    let releaseFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstInserted!: (id: string) => void;
    const firstId = new Promise<string>((resolve) => (firstInserted = resolve));
    // T1 draws the lower outbox id and stays open; T2 draws a higher one and commits first.
    const first = db.$transaction(
      async (tx) => {
        const [row] = await tx.$queryRaw<{ id: string }[]>`
          INSERT INTO outbox_events (merchant_id, type, aggregate_id, dedupe_key, payload, relayed_at)
          VALUES (${raceMerchant.id}::uuid, 'webhook.test', 'first', ${`race/${randomUUID()}`}, '{"order":"first"}', now())
          RETURNING id::text`;
        firstInserted(row!.id);
        await firstMayCommit;
      },
      { timeout: 60_000 },
    );
    const lowerId = await firstId;
    const higherId = await writeEvent(raceMerchant.id, { order: 'second' });
    assert.ok(BigInt(lowerId) < BigInt(higherId), `T1's id ${lowerId} is below T2's ${higherId}`);
    const streamedFirst = await stream.next('the higher-numbered event, committed first');
    assert.equal(body(streamedFirst).id, `evt_${higherId}`);
    // The race happened: the higher id was streamed while the lower one was still invisible.
    const visible = await db.$queryRaw<
      { id: string }[]
    >`SELECT id::text FROM outbox_events WHERE id = ${lowerId}::bigint`;
    assert.equal(visible.length, 0, 'the lower id is not committed yet');
    releaseFirst();
    await first;
    const streamedSecond = await stream.next('the lower-numbered event, committed last');
    assert.equal(body(streamedSecond).id, `evt_${lowerId}`, 'not skipped');
    assert.ok(BigInt(streamedSecond.id!) > BigInt(streamedFirst.id!), 'stream ids follow the commit order');
    // A client that had only the first one resumes and gets the late one: a cursor on outbox ids would have skipped it.
    const resumed = await connect(apiB, raceMerchant.key, { lastEventId: streamedFirst.id! });
    assert.equal(body(await resumed.next('the late event on resumption')).id, `evt_${lowerId}`);
    stream.close();
    resumed.close();
  });

  it('refuses a malformed Last-Event-ID (400 naming it), a missing key (401) and the admin key (403)', async () => {
    // Refusals only: each answers with a JSON error before any stream opens.
    const malformed = await expectStatus(
      as(apiA, merchant.key).GET('/v1/events/stream', { params: { header: { 'Last-Event-ID': 'evt_12' } } }),
      400,
    );
    assert.equal(fieldsOf(malformed.error)[0], 'Last-Event-ID');
    await expectStatus(as(apiA).GET('/v1/events/stream'), 401);
    await expectStatus(as(apiA, TEST_ADMIN_KEY).GET('/v1/events/stream'), 403);
  });

  it('says so when Last-Event-ID is past the retention (pruned) or unknown, and goes on from where it can', async () => {
    const unknown = await connect(apiA, merchant.key, { lastEventId: '900000000000' });
    const unknownGap = await unknown.next('the gap of an unknown id');
    assert.equal(unknownGap.event, 'stream.gap');
    assert.equal((JSON.parse(unknownGap.data) as { reason: string }).reason, 'UnknownLastEventId');
    unknown.close();

    // Everything written so far ages past the retention (72 h); one event still waits for the relay,
    // and the webhook endpoint's test event has its delivery: those two stay.
    const unrelayed = await writeEvent(merchant.id, { relay: 'pending' });
    await db.$executeRaw`UPDATE outbox_events SET relayed_at = NULL WHERE id = ${unrelayed}::bigint`;
    await db.$executeRaw`UPDATE outbox_events SET created_at = created_at - interval '100 hours'`;
    const delivered = await db.webhookDelivery.findMany({ select: { eventId: true } });
    assert.ok(delivered.length > 0, 'a delivery refers to an event');
    const oldest = await db.outboxEvent.findFirst({
      where: { merchantId: merchant.id },
      orderBy: { streamPosition: 'asc' },
    });
    const { prunedThrough, deleted } = await apiA.get(EventLog).sweep();
    assert.ok(deleted > 0, 'old events were deleted');
    const left = await db.outboxEvent.findMany({
      where: { streamPosition: { lte: prunedThrough } },
      select: { id: true },
    });
    assert.deepEqual(
      left.map((e) => e.id).sort(),
      [BigInt(unrelayed), ...delivered.map((d) => d.eventId)].sort(),
      'only what the relay and a delivery still need is kept',
    );

    const resumed = await connect(apiB, merchant.key, { lastEventId: oldest!.streamPosition!.toString() });
    const gap = await resumed.next('the gap');
    assert.equal(gap.event, 'stream.gap');
    const gapBody = JSON.parse(gap.data) as { reason: string; resumedAfter: string; retentionHours: number };
    assert.equal(gapBody.reason, 'OutsideRetention');
    assert.equal(gapBody.resumedAfter, prunedThrough.toString());
    assert.equal(gap.id, prunedThrough.toString(), 'its id is where the stream goes on from');
    const fresh = await writeEvent(merchant.id, { after: 'the gap' });
    assert.equal(body(await resumed.next('an event after the gap')).id, `evt_${fresh}`);
    resumed.close();
  });

  it('ends its streams when the API shuts down, so that clients reconnect to another replica', async () => {
    const stream = await connect(apiC, merchant.key);
    const shutdownsBefore = await metric(apiC, /^nova_event_stream_disconnects_total\{reason="shutdown"\} (\d+)$/m);
    closedApps.add(apiC);
    await apiC.close();
    await stream.ended;
    assert.equal(
      await metric(apiA, /^nova_event_stream_disconnects_total\{reason="shutdown"\} (\d+)$/m),
      shutdownsBefore + 1,
    );
    const elsewhere = await connect(apiB, merchant.key, stream.lastEventId ? { lastEventId: stream.lastEventId } : {});
    const written = await writeEvent(merchant.id, { after: 'the shutdown' });
    assert.equal(body(await elsewhere.next('an event on the other replica')).id, `evt_${written}`);
    elsewhere.close();
  });
});
