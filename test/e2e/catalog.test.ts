// Calls the API through the typed client (@nova/client). Bodies and filters the document
// refuses are sent through it with a cast: the point is the API's 400 naming the field. Raw HTTP
// (supertest) stays for one request the client cannot express: a POST without its required
// Idempotency-Key header.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '@nova/api';
import { violatesStockCoversReserved } from '@nova/api/dist/catalog/catalog.service';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import type { NovaClient, Schemas } from '@nova/client';
import { apiClient, expectStatus, fieldsOf, idempotencyKey, listenForClients } from '../support/api-client';
import { required, TEST_ADMIN_KEY, testApiConfig, uniqueTaskQueue } from '../support/environment';

type CatalogItemView = Schemas['CatalogItemView'];
type ListQuery = { limit?: number; cursor?: string; active?: boolean; fulfilment?: 'automatic' | 'manual' };

const ITEM = { name: 'Free coffee', price: '25', stock: 10, fulfilment: 'automatic' };

// Catalog items through the real app and PostgreSQL (pure CRUD: Temporal and Stellar are never reached).
describe('catalog items', () => {
  let app: NestExpressApplication;
  let db: PrismaClient;
  let baseUrl: string;
  const http = () => request(app.getHttpServer());
  const as = (key?: string): NovaClient => apiClient(baseUrl, key);
  let merchantA: { id: string; key: string };
  let merchantB: { id: string; key: string };

  async function createMerchant(): Promise<{ id: string; key: string }> {
    const { data } = await expectStatus(
      as(TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: `Cataloguer ${randomUUID().slice(0, 8)}` } }),
      201,
    );
    return { id: data!.merchant.id, key: data!.apiKey.key };
  }

  // Loosely typed bodies: the 400 cases send what the document refuses.
  function post(body: Record<string, unknown>, key = merchantA.key, idempotency = randomUUID()) {
    return as(key).POST('/v1/catalog/items', {
      params: idempotencyKey(idempotency),
      body: body as Schemas['CreateCatalogItemRequest'],
    });
  }

  function patch(id: string, body: Record<string, unknown>, key = merchantA.key) {
    return as(key).PATCH('/v1/catalog/items/{id}', {
      params: { ...idempotencyKey(), path: { id } },
      body: body as Schemas['UpdateCatalogItemRequest'],
    });
  }

  const read = (id: string, key = merchantA.key) => as(key).GET('/v1/catalog/items/{id}', { params: { path: { id } } });

  async function createItem(body: Record<string, unknown> = {}, key = merchantA.key): Promise<CatalogItemView> {
    return (await expectStatus(post({ ...ITEM, ...body }, key), 201)).data!;
  }

  const listing = (query: ListQuery, key = merchantA.key) => as(key).GET('/v1/catalog/items', { params: { query } });

  async function list(query: ListQuery, key = merchantA.key) {
    return (await expectStatus(listing(query, key), 200)).data!;
  }

  beforeAll(async () => {
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 2 });
    app = await createApp(testApiConfig({ taskQueue: uniqueTaskQueue('e2e-catalog') }));
    baseUrl = await listenForClients(app);
    merchantA = await createMerchant();
    merchantB = await createMerchant();
  });
  afterAll(async () => {
    await app?.close();
    await db?.$disconnect();
  });

  describe('POST /v1/catalog/items', () => {
    it('201: the resource with a Location header; price as a 7-decimal string; active by default', async () => {
      const created = await expectStatus(
        post({ ...ITEM, name: '  Free coffee ', description: 'Any size', price: '25.5' }),
        201,
      );
      const item = created.data!;
      assert.equal(created.response.headers.get('location'), `/v1/catalog/items/${item.id}`);
      assert.deepEqual(item, {
        id: item.id,
        name: 'Free coffee',
        description: 'Any size',
        price: '25.5000000',
        stock: 10,
        reserved: 0,
        available: 10,
        fulfilment: 'automatic',
        active: true,
        createdAt: item.createdAt,
        updatedAt: item.updatedAt,
        links: { self: `/v1/catalog/items/${item.id}` },
      });
      const row = await db.catalogItem.findUniqueOrThrow({ where: { id: item.id } });
      assert.equal(row.merchantId, merchantA.id);
      assert.equal(row.priceStroops, 255_000_000n);
    });

    it('stock null is unlimited: available is null too; active false and manual fulfilment are kept', async () => {
      const item = await createItem({ stock: null, active: false, fulfilment: 'manual' });
      assert.equal(item.stock, null);
      assert.equal(item.available, null);
      assert.equal(item.description, null);
      assert.equal(item.active, false);
      assert.equal(item.fulfilment, 'manual');
      assert.equal((await db.catalogItem.findUniqueOrThrow({ where: { id: item.id } })).stock, null);
    });

    it('400 names the field', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ name: undefined }, 'name'],
        [{ name: '   ' }, 'name'],
        [{ name: 'x'.repeat(201) }, 'name'],
        [{ description: 'x'.repeat(2001) }, 'description'],
        [{ price: undefined }, 'price'],
        [{ price: '1.12345678' }, 'price'],
        [{ price: '0' }, 'price'],
        [{ price: '-1' }, 'price'],
        [{ price: 25 }, 'price'],
        [{ stock: undefined }, 'stock'], // required: null for unlimited
        [{ stock: -1 }, 'stock'],
        [{ stock: 1.5 }, 'stock'],
        [{ stock: '5' }, 'stock'],
        [{ stock: 2_147_483_648 }, 'stock'],
        [{ fulfilment: 'later' }, 'fulfilment'],
        [{ fulfilment: undefined }, 'fulfilment'],
        [{ active: 'yes' }, 'active'],
        [{ active: null }, 'active'],
        [{ reserved: 3 }, 'reserved'], // not the merchant's to set
        [{ colour: 'red' }, 'colour'],
      ];
      for (const [override, field] of cases) {
        const { error } = await expectStatus(post({ ...ITEM, ...override }), 400);
        assert.equal(error?.statusCode, 400);
        assert.equal(error?.error, 'Bad Request');
        assert.deepEqual(fieldsOf(error), [field], JSON.stringify(override));
        assert.match(error!.message, new RegExp(field));
      }
      assert.equal(await db.catalogItem.count({ where: { merchantId: merchantA.id, name: 'x'.repeat(201) } }), 0);
    });

    it('400 without an Idempotency-Key, naming the header; nothing created', async () => {
      const before = await db.catalogItem.count({ where: { merchantId: merchantA.id } });
      const response = await http()
        .post('/v1/catalog/items')
        .set('X-API-Key', merchantA.key)
        .send({ ...ITEM, name: 'No key' })
        .expect(400);
      assert.deepEqual(fieldsOf(response.body), ['Idempotency-Key']);
      assert.equal(await db.catalogItem.count({ where: { merchantId: merchantA.id } }), before);
    });

    it('a retry with the same Idempotency-Key replays the answer (Location included) and creates one item', async () => {
      const key = randomUUID();
      const body = { ...ITEM, name: `Replayed ${key.slice(0, 8)}` };
      const first = await expectStatus(post(body, merchantA.key, key), 201);
      const again = await expectStatus(post(body, merchantA.key, key), 201);
      assert.equal(again.response.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(again.data, first.data);
      assert.equal(again.response.headers.get('location'), first.response.headers.get('location'));
      assert.equal(await db.catalogItem.count({ where: { merchantId: merchantA.id, name: body.name } }), 1);
      const otherBody = await expectStatus(post({ ...body, price: '26' }, merchantA.key, key), 422);
      assert.equal((otherBody.error?.details as { reason?: string } | undefined)?.reason, 'IdempotencyKeyReused');
    });

    it('401 without a key; 403 with the admin key', async () => {
      const anonymous = as().POST('/v1/catalog/items', {
        params: idempotencyKey(),
        body: ITEM as Schemas['CreateCatalogItemRequest'],
      });
      await expectStatus(anonymous, 401);
      await expectStatus(listing({}, TEST_ADMIN_KEY), 403);
    });
  });

  describe('GET /v1/catalog/items[/:id]', () => {
    it('200 for the owner; 404 (never 403) for another merchant and for an unknown id; 400 naming id', async () => {
      const item = await createItem();
      const own = await expectStatus(read(item.id), 200);
      assert.deepEqual(own.data, item);
      const foreign = await expectStatus(read(item.id, merchantB.key), 404);
      assert.equal(foreign.error?.message, `catalog item ${item.id} not found`);
      await expectStatus(read(randomUUID()), 404);
      const malformed = await expectStatus(read('not-a-uuid'), 400);
      assert.deepEqual(fieldsOf(malformed.error), ['id']);
    });

    it('lists only your items, newest first, through every page with no repeat; filters active and fulfilment', async () => {
      const merchant = await createMerchant();
      const created: CatalogItemView[] = [];
      for (let i = 0; i < 5; i++) {
        created.push(
          await createItem(
            { name: `Item ${i}`, active: i % 2 === 0, fulfilment: i < 3 ? 'automatic' : 'manual' },
            merchant.key,
          ),
        );
      }
      const walked: CatalogItemView[] = [];
      let cursor: string | null = null;
      do {
        const page: { data: CatalogItemView[]; nextCursor: string | null } = await list(
          { limit: 2, ...(cursor ? { cursor } : {}) },
          merchant.key,
        );
        assert.ok(page.data.length <= 2);
        walked.push(...page.data);
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(
        walked.map((item) => item.id),
        created.map((item) => item.id).reverse(),
      );
      assert.equal(
        (await list({}, merchantB.key)).data.some((item) => created.some((c) => c.id === item.id)),
        false,
      );

      const names = async (query: ListQuery) => (await list(query, merchant.key)).data.map((item) => item.name);
      assert.deepEqual(await names({ active: true }), ['Item 4', 'Item 2', 'Item 0']);
      assert.deepEqual(await names({ active: false }), ['Item 3', 'Item 1']);
      assert.deepEqual(await names({ fulfilment: 'manual' }), ['Item 4', 'Item 3']);
      assert.deepEqual(await names({ fulfilment: 'automatic', active: false }), ['Item 1']);
    });

    it('400 naming the filter, limit or cursor', async () => {
      for (const [query, field] of [
        [{ active: 'yes' }, 'active'],
        [{ active: '1' }, 'active'],
        [{ fulfilment: 'later' }, 'fulfilment'],
        [{ limit: 0 }, 'limit'],
        [{ cursor: 'nonsense' }, 'cursor'],
      ] as const) {
        const response = await expectStatus(listing(query as ListQuery), 400);
        assert.deepEqual(fieldsOf(response.error), [field], JSON.stringify(query));
      }
    });
  });

  describe('PATCH /v1/catalog/items/:id', () => {
    it('changes any subset; description null clears it; stock null makes it unlimited', async () => {
      const item = await createItem({ description: 'Small only' });
      const renamed = (await expectStatus(patch(item.id, { name: ' Large coffee ', price: '30.25' }), 200)).data!;
      assert.equal(renamed.name, 'Large coffee');
      assert.equal(renamed.price, '30.2500000');
      assert.equal(renamed.description, 'Small only', 'unchanged when absent');
      assert.equal(renamed.stock, 10);

      const changed = (
        await expectStatus(patch(item.id, { description: null, stock: null, fulfilment: 'manual', active: false }), 200)
      ).data!;
      assert.equal(changed.description, null);
      assert.equal(changed.stock, null);
      assert.equal(changed.available, null);
      assert.equal(changed.fulfilment, 'manual');
      assert.equal(changed.active, false);
      assert.equal(changed.name, 'Large coffee');
      const again = await expectStatus(read(item.id), 200);
      assert.deepEqual(again.data, changed);
      assert.equal((await db.catalogItem.findUniqueOrThrow({ where: { id: item.id } })).priceStroops, 302_500_000n);
    });

    it('400 for an empty body, an invalid or an unchangeable field, naming it', async () => {
      const item = await createItem();
      const empty = await expectStatus(patch(item.id, {}), 400);
      assert.deepEqual(fieldsOf(empty.error), ['body']);
      for (const [body, field] of [
        [{ name: null }, 'name'],
        [{ price: '1.12345678' }, 'price'],
        [{ price: '0' }, 'price'],
        [{ stock: -1 }, 'stock'],
        [{ stock: 1.5 }, 'stock'],
        [{ fulfilment: 'later' }, 'fulfilment'],
        [{ active: null }, 'active'],
        [{ reserved: 0 }, 'reserved'],
      ] as const) {
        const response = await expectStatus(patch(item.id, body), 400);
        assert.deepEqual(fieldsOf(response.error), [field], JSON.stringify(body));
      }
      const unchanged = await expectStatus(read(item.id), 200);
      assert.deepEqual(unchanged.data, item);
    });

    it("404 for another merchant's item, which stays unchanged", async () => {
      const item = await createItem();
      await expectStatus(patch(item.id, { name: 'Hijacked' }, merchantB.key), 404);
      await expectStatus(patch(randomUUID(), { name: 'Nobody' }), 404);
      assert.equal((await db.catalogItem.findUniqueOrThrow({ where: { id: item.id } })).name, ITEM.name);
    });

    it('409 StockBelowReserved below the reserved units; down to exactly reserved is fine', async () => {
      const item = await createItem({ stock: 10 });
      // Redemptions in progress hold 4 units (the redemption workflow's reservations, set here directly).
      await db.catalogItem.update({ where: { id: item.id }, data: { reserved: 4 } });
      const refused = await expectStatus(patch(item.id, { stock: 3, name: 'Not renamed' }), 409);
      assert.equal(refused.error?.statusCode, 409);
      assert.equal(refused.error?.error, 'Conflict');
      assert.deepEqual(refused.error?.details, { reason: 'StockBelowReserved', reserved: 4 });
      const row = await db.catalogItem.findUniqueOrThrow({ where: { id: item.id } });
      assert.equal(row.stock, 10, 'nothing of the refused change was written');
      assert.equal(row.name, ITEM.name);

      const exact = (await expectStatus(patch(item.id, { stock: 4 }), 200)).data!;
      assert.equal(exact.stock, 4);
      assert.equal(exact.reserved, 4);
      assert.equal(exact.available, 0);
      assert.equal((await expectStatus(patch(item.id, { stock: null }), 200)).data?.available, null);
    });

    it("the CHECK constraint's refusal is recognised as StockBelowReserved (the last guard)", async () => {
      const item = await createItem({ stock: 2 });
      await db.catalogItem.update({ where: { id: item.id }, data: { reserved: 2 } });
      const refusal = await db.catalogItem.update({ where: { id: item.id }, data: { stock: 1 } }).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(refusal, 'PostgreSQL refuses stock below reserved');
      assert.equal(violatesStockCoversReserved(refusal), true);
      const other = await db.catalogItem.update({ where: { id: item.id }, data: { priceStroops: 0n } }).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(other, 'PostgreSQL refuses a price of 0');
      assert.equal(violatesStockCoversReserved(other), false);
    });
  });
});
