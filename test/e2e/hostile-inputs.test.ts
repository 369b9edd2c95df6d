// Raw HTTP (supertest, raw sockets) on purpose: most of these requests are ones the typed client
// cannot express (bodies over the limit, not JSON, with NUL bytes or lone surrogates, nested
// 5,000 deep; TRACE and other methods the API does not serve). The few it could (out-of-range
// cursors and dates, payments to the platform's own accounts, the 503 through a dropping proxy)
// stay beside them so that every hostile answer is checked the same way.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import request from 'supertest';
import { Keypair } from '@stellar/stellar-sdk';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { required, TEST_ADMIN_KEY, testApiConfig, uniqueTaskQueue, unreachableStellar } from '../support/environment';

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: { field: string; messages: string[] }[] | Record<string, unknown>;
}

function fieldsOf(body: ErrorBody): string[] {
  return Array.isArray(body.details) ? body.details.map((d) => d.field) : [];
}

const STARTS = '2026-01-01T00:00:00Z';
const ENDS = '2099-01-01T00:00:00Z';

/** A TCP proxy to PostgreSQL that a test can cut and restore: "the database went down". */
async function startDatabaseProxy(
  target: URL,
): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server!.address() as { port: number }).port;
  };
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  };
  await listen();
  return { port, cut: close, restore: listen, stop: close };
}

// Hostile input as a client may send it: every answer is a 4xx in the one error shape, never a 5xx.
describe('hostile inputs never produce a 5xx', () => {
  const stellar = unreachableStellar();
  const channel = Keypair.random().publicKey();
  let app: NestExpressApplication;
  let db: PrismaClient;
  let merchant: { id: string; key: string };
  let campaignId: string;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 2 });
    await db.channelAccount.create({ data: { publicKey: channel } });
    app = await createApp(
      testApiConfig({ taskQueue: uniqueTaskQueue('e2e-hostile'), stellar: stellar.network, bodyLimitBytes: 64 * 1024 }),
    );
    await app.init();
    const created = await http()
      .post('/v1/merchants')
      .set('X-API-Key', TEST_ADMIN_KEY)
      .send({ name: 'Hostile' })
      .expect(201);
    merchant = { id: created.body.merchant.id, key: created.body.apiKey.key };
    const campaign = await http()
      .post('/v1/campaigns')
      .set('X-API-Key', merchant.key)
      .set('Idempotency-Key', randomUUID())
      .send({ name: 'Target', budget: '1000', startsAt: STARTS, endsAt: ENDS })
      .expect(201);
    campaignId = campaign.body.id;
  });
  afterAll(async () => {
    await app?.close();
    await db?.channelAccount.deleteMany({ where: { publicKey: channel } });
    await db?.$disconnect();
  });

  const issue = (body: Record<string, unknown>) =>
    http()
      .post('/v1/rewards/issuances')
      .set('X-API-Key', merchant.key)
      .set('Idempotency-Key', randomUUID())
      .send({ campaignId, walletAddress: Keypair.random().publicKey(), amount: '1', ...body });

  it('413 naming the configured limit for a body over API_BODY_LIMIT, with or without a key', async () => {
    const big = { name: 'x'.repeat(70 * 1024), budget: '1', startsAt: STARTS, endsAt: ENDS };
    for (const key of [merchant.key, undefined]) {
      const call = http().post('/v1/campaigns').set('Idempotency-Key', randomUUID());
      const response = await (key ? call.set('X-API-Key', key) : call).send(big).expect(413);
      assert.deepEqual(response.body, {
        statusCode: 413,
        error: 'Payload Too Large',
        message: 'the request body is larger than the limit of 64 KiB (65536 bytes, API_BODY_LIMIT)',
        details: { reason: 'BodyTooLarge', limitBytes: 65536 },
      });
      assert.ok(response.headers['x-request-id'], 'answered inside the request pipeline (logged, with its id)');
    }
  });

  it('415 for a body that is not JSON (a form is never parsed into fields)', async () => {
    const form = await http()
      .post('/v1/rewards/issuances')
      .set('X-API-Key', merchant.key)
      .set('Idempotency-Key', randomUUID())
      .type('form')
      .send(`campaignId=${campaignId}&walletAddress=${Keypair.random().publicKey()}&amount=1`)
      .expect(415);
    assert.equal(form.body.statusCode, 415);
    assert.match(form.body.message, /application\/json/);
    await http()
      .post('/v1/campaigns')
      .set('X-API-Key', merchant.key)
      .set('Content-Type', 'text/plain')
      .send('{"name":"x"}')
      .expect(415);
    // A body that says it is JSON and is not: a 400, not a 500.
    const broken = await http()
      .post('/v1/campaigns')
      .set('X-API-Key', merchant.key)
      .set('Idempotency-Key', randomUUID())
      .set('Content-Type', 'application/json')
      .send('{"name":')
      .expect(400);
    assert.equal(broken.body.message, 'the request body is not valid JSON');
  });

  it('400 naming the field for NUL or a lone surrogate in any string: reference, metadata keys and values, campaign names (POST and PATCH)', async () => {
    for (const bad of ['a\u0000b', '\ud800', 'x\udc00']) {
      const reference = await issue({ reference: bad }).expect(400);
      assert.deepEqual(fieldsOf(reference.body), ['reference'], JSON.stringify(bad));
      const value = await issue({ metadata: { note: bad } }).expect(400);
      assert.deepEqual(fieldsOf(value.body), ['metadata.note']);
      const key = await issue({ metadata: { [`k${bad}`]: 1 } }).expect(400);
      assert.deepEqual(fieldsOf(key.body), ['metadata']);
      const created = await http()
        .post('/v1/campaigns')
        .set('X-API-Key', merchant.key)
        .set('Idempotency-Key', randomUUID())
        .send({ name: bad, budget: '1', startsAt: STARTS, endsAt: ENDS })
        .expect(400);
      assert.deepEqual(fieldsOf(created.body), ['name']);
      const patched = await http()
        .patch(`/v1/campaigns/${campaignId}`)
        .set('X-API-Key', merchant.key)
        .set('Idempotency-Key', randomUUID())
        .send({ name: bad })
        .expect(400);
      assert.deepEqual(fieldsOf(patched.body), ['name']);
      assert.match(patched.body.message, /name must not contain NUL characters or unpaired UTF-16 surrogates/);
    }
    // A surrogate pair (an emoji) is text like any other.
    const emoji = await issue({ reference: 'gift \ud83c\udf81', metadata: { note: '\ud83c\udf81' } }).expect(202);
    assert.equal(emoji.body.reference, 'gift \ud83c\udf81');
  });

  it('metadata is bounded (5 levels, 50 keys, 4096 bytes); 5,000 levels deep is a 400, not a stack overflow', async () => {
    // Written by hand: JSON.stringify itself overflows on 5,000 levels (about 30 KB).
    const deep = `{"campaignId":"${campaignId}","walletAddress":"${Keypair.random().publicKey()}","amount":"1","metadata":${'{"d":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    const tooDeep = await http()
      .post('/v1/rewards/issuances')
      .set('X-API-Key', merchant.key)
      .set('Idempotency-Key', randomUUID())
      .set('Content-Type', 'application/json')
      .send(deep)
      .expect(400);
    assert.deepEqual(fieldsOf(tooDeep.body), ['metadata']);
    let six: unknown = 1;
    for (let i = 0; i < 6; i++) six = { d: six };
    const sixLevels = await issue({ metadata: six as Record<string, unknown> }).expect(400);
    assert.deepEqual(sixLevels.body.details, [
      { field: 'metadata', messages: ['metadata must be nested at most 5 levels deep'] },
    ]);
    let five: unknown = 1;
    for (let i = 0; i < 5; i++) five = { d: five };
    await issue({ metadata: five as Record<string, unknown> }).expect(202);
    const manyKeys = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    const keys = await issue({ metadata: manyKeys }).expect(400);
    assert.equal(keys.body.message, 'metadata must have at most 50 keys in all');
    const large = await issue({ metadata: { blob: 'x'.repeat(4100) } }).expect(400);
    assert.equal(large.body.message, 'metadata must be at most 4096 bytes as JSON');
    const array = await issue({ metadata: [1, 2] as unknown as Record<string, unknown> }).expect(400);
    assert.deepEqual(fieldsOf(array.body), ['metadata']);
  });

  it('a cursor that decodes to an out-of-range date is a 400 naming cursor on every list', async () => {
    const lists = ['/v1/campaigns', '/v1/rewards/issuances'];
    for (const at of [
      '+010000-01-01T00:00:00.000Z',
      '-271821-04-20T00:00:00.000Z',
      '+275760-09-13T00:00:00.000Z',
      '-000001-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
    ]) {
      const cursor = Buffer.from(JSON.stringify([at, randomUUID()])).toString('base64url');
      for (const list of lists) {
        const response = await http().get(list).query({ cursor }).set('X-API-Key', merchant.key).expect(400);
        assert.deepEqual(fieldsOf(response.body), ['cursor'], `${list} ${at}`);
      }
      const admin = await http()
        .get('/v1/admin/issuances')
        .query({ cursor })
        .set('X-API-Key', TEST_ADMIN_KEY)
        .expect(400);
      assert.deepEqual(fieldsOf(admin.body), ['cursor']);
    }
  });

  it('campaign dates the contract cannot hold (before 1970; year 10000) are a 400 naming the field', async () => {
    for (const [body, field] of [
      [{ startsAt: '1969-12-31T23:59:59Z' }, 'startsAt'],
      [{ startsAt: '0001-01-01T00:00:00Z', endsAt: '1960-01-01T00:00:00Z' }, 'startsAt'],
      [{ endsAt: '+010000-01-01T00:00:00Z' }, 'endsAt'],
      [{ endsAt: '10000-01-01T00:00:00Z' }, 'endsAt'],
    ] as [Record<string, string>, string][]) {
      const response = await http()
        .post('/v1/campaigns')
        .set('X-API-Key', merchant.key)
        .set('Idempotency-Key', randomUUID())
        .send({ name: 'Old', budget: '1', startsAt: STARTS, endsAt: ENDS, ...body })
        .expect(400);
      assert.ok(fieldsOf(response.body).includes(field), JSON.stringify([body, response.body]));
    }
    const patched = await http()
      .patch(`/v1/campaigns/${campaignId}`)
      .set('X-API-Key', merchant.key)
      .set('Idempotency-Key', randomUUID())
      .send({ endsAt: '10000-01-01T00:00:00Z' })
      .expect(400);
    assert.deepEqual(fieldsOf(patched.body), ['endsAt']);
    await http()
      .post('/v1/campaigns')
      .set('X-API-Key', merchant.key)
      .set('Idempotency-Key', randomUUID())
      .send({ name: 'Epoch', budget: '1', startsAt: '1970-01-01T00:00:00Z', endsAt: '9999-12-31T23:59:59Z' })
      .expect(201);
  });

  it("400 with the reason for a reward to the platform's own accounts (issuer, distribution, channel), nothing counted", async () => {
    const cases = [
      [stellar.network.assetIssuer, /issuer: a payment to it would burn the tokens/],
      [stellar.network.distributionAccount, /distribution account: it would pay itself/],
      [channel, /channel accounts/],
    ] as const;
    for (const [walletAddress, reason] of cases) {
      const response = await issue({ walletAddress }).expect(400);
      assert.deepEqual(fieldsOf(response.body), ['walletAddress']);
      assert.match(response.body.message, reason);
      assert.equal(await db.issuance.count({ where: { walletAddress } }), 0);
    }
  });

  it('path ids that are not UUIDs are a 400 naming the parameter, in the one error shape, on every route', async () => {
    const routes: [string, string, string][] = [
      ['get', '/v1/campaigns/nope', merchant.key],
      ['get', '/v1/rewards/issuances/nope', merchant.key],
      ['get', '/v1/merchants/nope', TEST_ADMIN_KEY],
      ['post', '/v1/admin/issuances/nope/replay', TEST_ADMIN_KEY],
      ['get', '/v1/admin/self-checks/nope', TEST_ADMIN_KEY],
    ];
    for (const [method, path, key] of routes) {
      const call = method === 'get' ? http().get(path) : http().post(path);
      const response = await call.set('X-API-Key', key).set('Idempotency-Key', randomUUID()).expect(400);
      assert.deepEqual(
        response.body,
        {
          statusCode: 400,
          error: 'Bad Request',
          message: 'id must be a UUID',
          details: [{ field: 'id', messages: ['id must be a UUID'] }],
        },
        path,
      );
    }
  });

  it('405 with Allow for TRACE and other methods the API does not serve, and for a path served under other methods', async () => {
    const trace = await http().trace('/v1/campaigns').expect(405);
    assert.equal(trace.body.statusCode, 405);
    assert.match(String(trace.headers.allow), /GET/);
    await http().delete('/v1/campaigns').set('X-API-Key', merchant.key).expect(405);
    const wrong = await http().put(`/v1/campaigns/${campaignId}`).set('X-API-Key', merchant.key).expect(405);
    assert.equal(wrong.headers.allow, 'GET, PATCH, HEAD');
    await http().get('/v1/no-such-route').expect(404);
  });

  it('503 with Retry-After while PostgreSQL is unreachable; the same Idempotency-Key works once it is back', async () => {
    const proxy = await startDatabaseProxy(new URL(required('DATABASE_URL')));
    const url = new URL(required('DATABASE_URL'));
    url.port = String(proxy.port);
    const viaProxy = await createApp(
      testApiConfig({
        taskQueue: uniqueTaskQueue('e2e-hostile-db'),
        stellar: stellar.network,
        databaseUrl: url.toString(),
      }),
    );
    await viaProxy.init();
    try {
      const key = randomUUID();
      const body = { name: 'Through an outage', budget: '5', startsAt: STARTS, endsAt: ENDS };
      const create = () =>
        request(viaProxy.getHttpServer())
          .post('/v1/campaigns')
          .set('X-API-Key', merchant.key)
          .set('Idempotency-Key', key)
          .send(body);
      await proxy.cut();
      const down = await create().expect(503);
      assert.equal(down.headers['retry-after'], '5');
      assert.equal(down.body.details.reason, 'DatabaseUnavailable');
      const admin = await request(viaProxy.getHttpServer())
        .get('/v1/admin/issuances')
        .set('X-API-Key', TEST_ADMIN_KEY)
        .expect(503);
      assert.equal(admin.headers['retry-after'], '5');
      await proxy.restore();
      const created = await create().expect(201);
      assert.equal(created.body.name, 'Through an outage');
      const replayed = await create().expect(201);
      assert.equal(replayed.headers['idempotent-replayed'], 'true');
      assert.equal(replayed.body.id, created.body.id);
    } finally {
      await viaProxy.close();
      await proxy.stop();
    }
  });
});
