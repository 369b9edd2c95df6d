// Calls the API through the typed client (@nova/client). Bodies the document refuses (a number
// for a name, an unknown field) are sent through it with a cast: the point is the API's 400.
// Raw HTTP (supertest) stays for the OpenAPI document itself (/docs-json), which it does not list.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import type { NovaClient } from '@nova/client';
import { apiClient, expectStatus, fieldsOf, listenForClients } from '../support/api-client';
import { eventually, required, TEST_ADMIN_KEY, testApiConfig, uniqueTaskQueue } from '../support/environment';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const KEY = /^nk_([A-Za-z0-9_-]{12})\.[A-Za-z0-9_-]{43}$/;

// Merchants and their API keys, through the real app and PostgreSQL (Temporal is never reached).
describe('merchants and API keys', () => {
  let app: NestExpressApplication;
  let db: PrismaClient;
  let baseUrl: string;
  let admin: NovaClient;
  const http = () => request(app.getHttpServer());
  const as = (key?: string) => apiClient(baseUrl, key);

  async function createMerchant(name = `Merchant ${randomUUID().slice(0, 8)}`) {
    const { data } = await expectStatus(admin.POST('/v1/merchants', { body: { name } }), 201);
    return data!;
  }

  /** A merchant route: 200 when the key is live. */
  const listCampaigns = (key: string) => as(key).GET('/v1/campaigns');
  const merchantOf = (id: string, client = admin) => client.GET('/v1/merchants/{id}', { params: { path: { id } } });
  const newKey = (id: string, body: { label?: string } | undefined, client = admin) =>
    client.POST('/v1/merchants/{id}/api-keys', { params: { path: { id } }, body });
  const revoke = (id: string, client = admin) => client.DELETE('/v1/api-keys/{id}', { params: { path: { id } } });

  beforeAll(async () => {
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 2 });
    app = await createApp(testApiConfig({ taskQueue: uniqueTaskQueue('e2e-merchants') }));
    baseUrl = await listenForClients(app);
    admin = as(TEST_ADMIN_KEY);
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

      const campaigns = await expectStatus(listCampaigns(created.apiKey.key), 200);
      assert.deepEqual(campaigns.data, { data: [], nextCursor: null });
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
        const { error } = await expectStatus(admin.POST('/v1/merchants', { body: body as { name: string } }), 400);
        assert.equal(error?.statusCode, 400);
        assert.equal(error?.error, 'Bad Request');
        assert.deepEqual(fieldsOf(error), [field], JSON.stringify(body));
        assert.match(error!.message, new RegExp(field));
      }
    });

    it('401 without a key or with an invalid one; 403 with a genuine merchant key (not the role)', async () => {
      const missing = await expectStatus(as().POST('/v1/merchants', { body: { name: 'x' } }), 401);
      assert.deepEqual(missing.error, {
        statusCode: 401,
        error: 'Unauthorized',
        message: 'X-API-Key header is required',
      });
      const { apiKey } = await createMerchant();
      const merchantKey = await expectStatus(as(apiKey.key).POST('/v1/merchants', { body: { name: 'x' } }), 403);
      assert.deepEqual(merchantKey.error, {
        statusCode: 403,
        error: 'Forbidden',
        message: 'a merchant API key cannot use admin routes: use the admin key',
      });
      const forged = `${apiKey.key.slice(0, -4)}AAAA`;
      const invalid = await expectStatus(as(forged).POST('/v1/merchants', { body: { name: 'x' } }), 401);
      assert.equal(invalid.error?.message, 'X-API-Key is not a valid admin key');
      await expectStatus(as('not-a-key').POST('/v1/merchants', { body: { name: 'x' } }), 401);
    });
  });

  describe('GET /v1/merchants/:id', () => {
    it('200: the merchant and its keys, without secrets', async () => {
      const created = await createMerchant();
      const response = await expectStatus(merchantOf(created.merchant.id), 200);
      assert.deepEqual(response.data, {
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
      const missing = await expectStatus(merchantOf(unknown), 404);
      assert.deepEqual(missing.error, {
        statusCode: 404,
        error: 'Not Found',
        message: `merchant ${unknown} not found`,
      });
      const malformed = await expectStatus(merchantOf('nope'), 400);
      assert.deepEqual(fieldsOf(malformed.error), ['id']);
      await expectStatus(merchantOf(unknown, as()), 401);
    });
  });

  describe('POST /v1/merchants/:id/api-keys', () => {
    it('201: another live key with its label; both keys work', async () => {
      const created = await createMerchant();
      const response = (await expectStatus(newKey(created.merchant.id, { label: 'checkout server' }), 201)).data!;
      assert.deepEqual(Object.keys(response).sort(), ['createdAt', 'id', 'key', 'label', 'prefix']);
      assert.equal(response.label, 'checkout server');
      assert.equal(KEY.exec(response.key)?.[1], response.prefix);
      assert.notEqual(response.key, created.apiKey.key);
      await expectStatus(listCampaigns(response.key), 200);
      await expectStatus(listCampaigns(created.apiKey.key), 200);

      const unlabelled = (await expectStatus(newKey(created.merchant.id, {}), 201)).data!;
      assert.equal(unlabelled.label, null);

      const detail = (await expectStatus(merchantOf(created.merchant.id), 200)).data!;
      assert.deepEqual(
        detail.apiKeys.map((k) => k.id),
        [unlabelled.id, response.id, created.apiKey.id],
        'newest first',
      );
    });

    it('404 for an unknown merchant; 400 naming label or id; 401 without the admin key', async () => {
      const unknown = randomUUID();
      const missing = await expectStatus(newKey(unknown, { label: 'x' }), 404);
      assert.equal(missing.error?.message, `merchant ${unknown} not found`);
      const { merchant } = await createMerchant();
      for (const label of [42, '', 'x'.repeat(101)]) {
        const bad = await expectStatus(newKey(merchant.id, { label: label as string }), 400);
        assert.deepEqual(fieldsOf(bad.error), ['label'], String(label));
      }
      // No body at all, as the supertest version sent: the id is refused first.
      const malformed = await expectStatus(newKey('123', undefined), 400);
      assert.deepEqual(fieldsOf(malformed.error), ['id']);
      await expectStatus(newKey(merchant.id, {}, as()), 401);
    });
  });

  describe('DELETE /v1/api-keys/:id', () => {
    it('204: the key stops working at once; the merchant’s other keys keep working', async () => {
      const created = await createMerchant();
      const second = (await expectStatus(newKey(created.merchant.id, { label: 'second' }), 201)).data!;
      await expectStatus(listCampaigns(created.apiKey.key), 200);

      await expectStatus(revoke(created.apiKey.id), 204);
      const refused = await expectStatus(listCampaigns(created.apiKey.key), 401);
      assert.deepEqual(refused.error, {
        statusCode: 401,
        error: 'Unauthorized',
        message: 'X-API-Key is not a valid merchant API key',
      });
      await expectStatus(listCampaigns(second.key), 200);

      const row = await db.apiKey.findUniqueOrThrow({ where: { id: created.apiKey.id } });
      assert.ok(row.revokedAt);
    });

    it('revoking twice is 204 and keeps the first revocation time', async () => {
      const { merchant, apiKey } = await createMerchant();
      await expectStatus(revoke(apiKey.id), 204);
      const first = await db.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
      // A second revocation from now on would stamp a later time (the API's clock, in milliseconds).
      await eventually(async () => (Date.now() > first.revokedAt!.getTime() ? true : undefined), {
        what: 'the clock to pass the first revocation',
      });
      await expectStatus(revoke(apiKey.id), 204);
      const again = await db.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
      assert.deepEqual(again.revokedAt, first.revokedAt);
      const detail = (await expectStatus(merchantOf(merchant.id), 200)).data!;
      assert.equal(detail.apiKeys[0]?.revokedAt, first.revokedAt?.toISOString());
      await expectStatus(listCampaigns(apiKey.key), 401);
    });

    it('404 for an unknown key, 400 naming id for a malformed one, 403 for a merchant key, 401 for none', async () => {
      const unknown = randomUUID();
      const missing = await expectStatus(revoke(unknown), 404);
      assert.deepEqual(missing.error, { statusCode: 404, error: 'Not Found', message: `API key ${unknown} not found` });
      const malformed = await expectStatus(revoke('not-a-uuid'), 400);
      assert.deepEqual(fieldsOf(malformed.error), ['id']);
      const { apiKey } = await createMerchant();
      await expectStatus(revoke(apiKey.id, as(apiKey.key)), 403);
      await expectStatus(revoke(apiKey.id, as()), 401);
      await expectStatus(listCampaigns(apiKey.key), 200);
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
