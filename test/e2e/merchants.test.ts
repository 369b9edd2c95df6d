import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { eventually, required, TEST_ADMIN_KEY, testApiConfig, uniqueTaskQueue } from '../support/environment';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const KEY = /^nk_([A-Za-z0-9_-]{12})\.[A-Za-z0-9_-]{43}$/;

interface FieldError {
  field: string;
  messages: string[];
}

function fields(body: { details?: FieldError[] }): string[] {
  return (body.details ?? []).map((d) => d.field);
}

// Merchants and their API keys, through the real app and PostgreSQL (Temporal is never reached).
describe('merchants and API keys', () => {
  let app: NestExpressApplication;
  let db: PrismaClient;
  const http = () => request(app.getHttpServer());

  async function createMerchant(name = `Merchant ${randomUUID().slice(0, 8)}`) {
    const response = await http().post('/v1/merchants').set('X-API-Key', TEST_ADMIN_KEY).send({ name }).expect(201);
    return response.body as {
      merchant: { id: string; name: string; createdAt: string };
      apiKey: { id: string; key: string; prefix: string; label: string | null; createdAt: string };
    };
  }

  /** A merchant route: 200 when the key is live. */
  const listCampaigns = (key: string) => http().get('/v1/campaigns').set('X-API-Key', key);

  beforeAll(async () => {
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 2 });
    app = await createApp(testApiConfig({ taskQueue: uniqueTaskQueue('e2e-merchants') }));
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    await db?.$disconnect();
  });

  describe('POST /v1/merchants', () => {
    it('201: creates the merchant and its first key, shown once and stored hashed', async () => {
      const before = Date.now();
      const created = await createMerchant('  Blue Bottle Coffee  ');
      assert.deepEqual(Object.keys(created).sort(), ['apiKey', 'merchant']);
      assert.match(created.merchant.id, UUID);
      assert.equal(created.merchant.name, 'Blue Bottle Coffee', 'the name is trimmed');
      assert.ok(Date.parse(created.merchant.createdAt) >= before - 1000);
      assert.deepEqual(Object.keys(created.apiKey).sort(), ['createdAt', 'id', 'key', 'label', 'prefix']);
      assert.match(created.apiKey.id, UUID);
      const match = KEY.exec(created.apiKey.key);
      assert.ok(match, `key shape: ${created.apiKey.key}`);
      assert.equal(created.apiKey.prefix, match[1]);
      assert.equal(created.apiKey.label, null);

      const row = await db.apiKey.findUniqueOrThrow({ where: { id: created.apiKey.id } });
      assert.equal(row.merchantId, created.merchant.id);
      assert.equal(row.prefix, created.apiKey.prefix);
      assert.match(row.secretHash, /^[0-9a-f]{64}$/);
      const secret = created.apiKey.key.split('.')[1]!;
      assert.ok(!JSON.stringify(row).includes(secret), 'the secret is not stored');

      const campaigns = await listCampaigns(created.apiKey.key).expect(200);
      assert.deepEqual(campaigns.body, { data: [], nextCursor: null });
    });

    it('400 names the field: missing, blank, not a string, too long, unknown field', async () => {
      const cases: [unknown, string][] = [
        [{}, 'name'],
        [{ name: '   ' }, 'name'],
        [{ name: 42 }, 'name'],
        [{ name: 'x'.repeat(201) }, 'name'],
        [{ name: 'ok', tier: 'gold' }, 'tier'],
      ];
      for (const [body, field] of cases) {
        const response = await http()
          .post('/v1/merchants')
          .set('X-API-Key', TEST_ADMIN_KEY)
          .send(body as object)
          .expect(400);
        assert.equal(response.body.statusCode, 400);
        assert.equal(response.body.error, 'Bad Request');
        assert.deepEqual(fields(response.body), [field], JSON.stringify(body));
        assert.match(response.body.message, new RegExp(field));
      }
    });

    it('401 without a key or with an invalid one; 403 with a genuine merchant key (not the role)', async () => {
      const missing = await http().post('/v1/merchants').send({ name: 'x' }).expect(401);
      assert.deepEqual(missing.body, {
        statusCode: 401,
        error: 'Unauthorized',
        message: 'X-API-Key header is required',
      });
      const { apiKey } = await createMerchant();
      const merchantKey = await http()
        .post('/v1/merchants')
        .set('X-API-Key', apiKey.key)
        .send({ name: 'x' })
        .expect(403);
      assert.deepEqual(merchantKey.body, {
        statusCode: 403,
        error: 'Forbidden',
        message: 'a merchant API key cannot use admin routes: use the admin key',
      });
      const forged = `${apiKey.key.slice(0, -4)}AAAA`;
      const invalid = await http().post('/v1/merchants').set('X-API-Key', forged).send({ name: 'x' }).expect(401);
      assert.equal(invalid.body.message, 'X-API-Key is not a valid admin key');
      await http().post('/v1/merchants').set('X-API-Key', 'not-a-key').send({ name: 'x' }).expect(401);
    });
  });

  describe('GET /v1/merchants/:id', () => {
    it('200: the merchant and its keys, without secrets', async () => {
      const created = await createMerchant();
      const response = await http()
        .get(`/v1/merchants/${created.merchant.id}`)
        .set('X-API-Key', TEST_ADMIN_KEY)
        .expect(200);
      assert.deepEqual(response.body, {
        ...created.merchant,
        apiKeys: [
          {
            id: created.apiKey.id,
            prefix: created.apiKey.prefix,
            label: null,
            createdAt: created.apiKey.createdAt,
            revokedAt: null,
          },
        ],
      });
    });

    it('404 for an unknown merchant, 400 naming id for a malformed one, 401 without the admin key', async () => {
      const unknown = randomUUID();
      const missing = await http().get(`/v1/merchants/${unknown}`).set('X-API-Key', TEST_ADMIN_KEY).expect(404);
      assert.deepEqual(missing.body, { statusCode: 404, error: 'Not Found', message: `merchant ${unknown} not found` });
      const malformed = await http().get('/v1/merchants/nope').set('X-API-Key', TEST_ADMIN_KEY).expect(400);
      assert.deepEqual(fields(malformed.body), ['id']);
      await http().get(`/v1/merchants/${unknown}`).expect(401);
    });
  });

  describe('POST /v1/merchants/:id/api-keys', () => {
    it('201: another live key with its label; both keys work', async () => {
      const created = await createMerchant();
      const response = await http()
        .post(`/v1/merchants/${created.merchant.id}/api-keys`)
        .set('X-API-Key', TEST_ADMIN_KEY)
        .send({ label: 'checkout server' })
        .expect(201);
      assert.deepEqual(Object.keys(response.body).sort(), ['createdAt', 'id', 'key', 'label', 'prefix']);
      assert.equal(response.body.label, 'checkout server');
      assert.equal(KEY.exec(response.body.key)?.[1], response.body.prefix);
      assert.notEqual(response.body.key, created.apiKey.key);
      await listCampaigns(response.body.key).expect(200);
      await listCampaigns(created.apiKey.key).expect(200);

      const unlabelled = await http()
        .post(`/v1/merchants/${created.merchant.id}/api-keys`)
        .set('X-API-Key', TEST_ADMIN_KEY)
        .send({})
        .expect(201);
      assert.equal(unlabelled.body.label, null);

      const detail = await http()
        .get(`/v1/merchants/${created.merchant.id}`)
        .set('X-API-Key', TEST_ADMIN_KEY)
        .expect(200);
      assert.deepEqual(
        detail.body.apiKeys.map((k: { id: string }) => k.id),
        [unlabelled.body.id, response.body.id, created.apiKey.id],
        'newest first',
      );
    });

    it('404 for an unknown merchant; 400 naming label or id; 401 without the admin key', async () => {
      const unknown = randomUUID();
      const missing = await http()
        .post(`/v1/merchants/${unknown}/api-keys`)
        .set('X-API-Key', TEST_ADMIN_KEY)
        .send({ label: 'x' })
        .expect(404);
      assert.equal(missing.body.message, `merchant ${unknown} not found`);
      const { merchant } = await createMerchant();
      for (const label of [42, '', 'x'.repeat(101)]) {
        const bad = await http()
          .post(`/v1/merchants/${merchant.id}/api-keys`)
          .set('X-API-Key', TEST_ADMIN_KEY)
          .send({ label })
          .expect(400);
        assert.deepEqual(fields(bad.body), ['label'], String(label));
      }
      const malformed = await http().post('/v1/merchants/123/api-keys').set('X-API-Key', TEST_ADMIN_KEY).expect(400);
      assert.deepEqual(fields(malformed.body), ['id']);
      await http().post(`/v1/merchants/${merchant.id}/api-keys`).send({}).expect(401);
    });
  });

  describe('DELETE /v1/api-keys/:id', () => {
    it('204: the key stops working at once; the merchant’s other keys keep working', async () => {
      const created = await createMerchant();
      const second = await http()
        .post(`/v1/merchants/${created.merchant.id}/api-keys`)
        .set('X-API-Key', TEST_ADMIN_KEY)
        .send({ label: 'second' })
        .expect(201);
      await listCampaigns(created.apiKey.key).expect(200);

      const revoked = await http()
        .delete(`/v1/api-keys/${created.apiKey.id}`)
        .set('X-API-Key', TEST_ADMIN_KEY)
        .expect(204);
      assert.equal(revoked.text, '');
      const refused = await listCampaigns(created.apiKey.key).expect(401);
      assert.deepEqual(refused.body, {
        statusCode: 401,
        error: 'Unauthorized',
        message: 'X-API-Key is not a valid merchant API key',
      });
      await listCampaigns(second.body.key).expect(200);

      const row = await db.apiKey.findUniqueOrThrow({ where: { id: created.apiKey.id } });
      assert.ok(row.revokedAt);
    });

    it('revoking twice is 204 and keeps the first revocation time', async () => {
      const { merchant, apiKey } = await createMerchant();
      await http().delete(`/v1/api-keys/${apiKey.id}`).set('X-API-Key', TEST_ADMIN_KEY).expect(204);
      const first = await db.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
      // A second revocation from now on would stamp a later time (the API's clock, in milliseconds).
      await eventually(async () => (Date.now() > first.revokedAt!.getTime() ? true : undefined), {
        what: 'the clock to pass the first revocation',
      });
      await http().delete(`/v1/api-keys/${apiKey.id}`).set('X-API-Key', TEST_ADMIN_KEY).expect(204);
      const again = await db.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
      assert.deepEqual(again.revokedAt, first.revokedAt);
      const detail = await http().get(`/v1/merchants/${merchant.id}`).set('X-API-Key', TEST_ADMIN_KEY).expect(200);
      assert.equal(detail.body.apiKeys[0].revokedAt, first.revokedAt?.toISOString());
      await listCampaigns(apiKey.key).expect(401);
    });

    it('404 for an unknown key, 400 naming id for a malformed one, 403 for a merchant key, 401 for none', async () => {
      const unknown = randomUUID();
      const missing = await http().delete(`/v1/api-keys/${unknown}`).set('X-API-Key', TEST_ADMIN_KEY).expect(404);
      assert.deepEqual(missing.body, { statusCode: 404, error: 'Not Found', message: `API key ${unknown} not found` });
      const malformed = await http().delete('/v1/api-keys/not-a-uuid').set('X-API-Key', TEST_ADMIN_KEY).expect(400);
      assert.deepEqual(fields(malformed.body), ['id']);
      const { apiKey } = await createMerchant();
      await http().delete(`/v1/api-keys/${apiKey.id}`).set('X-API-Key', apiKey.key).expect(403);
      await http().delete(`/v1/api-keys/${apiKey.id}`).expect(401);
      await listCampaigns(apiKey.key).expect(200);
    });
  });

  it('the OpenAPI document describes the routes, bodies and responses', async () => {
    const doc = (await http().get('/docs-json').expect(200)).body;
    const post = doc.paths['/v1/merchants'].post;
    assert.deepEqual(post.tags, ['merchants']);
    assert.ok(post.summary);
    assert.deepEqual(post.security, [{ 'admin-key': [] }]);
    assert.equal(
      post.requestBody.content['application/json'].schema.$ref,
      '#/components/schemas/CreateMerchantRequest',
    );
    assert.equal(
      post.responses['201'].content['application/json'].schema.$ref,
      '#/components/schemas/CreatedMerchantView',
    );
    for (const status of ['400', '401', '429'])
      assert.equal(
        post.responses[status].content['application/json'].schema.$ref,
        '#/components/schemas/ErrorResponse',
      );
    assert.ok(doc.paths['/v1/merchants/{id}'].get.responses['404']);
    assert.ok(doc.paths['/v1/merchants/{id}/api-keys'].post.responses['201']);
    assert.ok(doc.paths['/v1/api-keys/{id}'].delete.responses['204']);
    assert.deepEqual(doc.components.schemas.CreateMerchantRequest.required, ['name']);
    assert.deepEqual(Object.keys(doc.components.schemas.CreatedApiKeyView.properties).sort(), [
      'createdAt',
      'id',
      'key',
      'label',
      'prefix',
    ]);
  });
});
