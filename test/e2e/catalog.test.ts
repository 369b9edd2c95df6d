import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '@nova/api';
import { violatesStockCoversReserved } from '@nova/api/dist/catalog/catalog.service';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { required, TEST_ADMIN_KEY, testApiConfig, uniqueTaskQueue } from '../support/environment';

interface CatalogItemView {
  id: string;
  name: string;
  description: string | null;
  price: string;
  stock: number | null;
  reserved: number;
  available: number | null;
  fulfilment: string;
  active: boolean;
  createdAt: string;
  updatedAt: string;
  links: { self: string };
}

function fields(body: { details?: { field: string }[] }): string[] {
  return (body.details ?? []).map((d) => d.field);
}

const ITEM = { name: 'Free coffee', price: '25', stock: 10, fulfilment: 'automatic' };

// Catalog items through the real app and PostgreSQL (pure CRUD: Temporal and Stellar are never reached).
describe('catalog items', () => {
  let app: NestExpressApplication;
  let db: PrismaClient;
  const http = () => request(app.getHttpServer());
  let merchantA: { id: string; key: string };
  let merchantB: { id: string; key: string };

  async function createMerchant(): Promise<{ id: string; key: string }> {
    const response = await http()
      .post('/v1/merchants')
      .set('X-API-Key', TEST_ADMIN_KEY)
      .send({ name: `Cataloguer ${randomUUID().slice(0, 8)}` })
      .expect(201);
    return { id: response.body.merchant.id, key: response.body.apiKey.key };
  }

  function post(body: Record<string, unknown>, key = merchantA.key, idempotencyKey = randomUUID()) {
    return http().post('/v1/catalog/items').set('X-API-Key', key).set('Idempotency-Key', idempotencyKey).send(body);
  }

  function patch(id: string, body: Record<string, unknown>, key = merchantA.key) {
    return http()
      .patch(`/v1/catalog/items/${id}`)
      .set('X-API-Key', key)
      .set('Idempotency-Key', randomUUID())
      .send(body);
  }

  async function createItem(body: Record<string, unknown> = {}, key = merchantA.key): Promise<CatalogItemView> {
    return (await post({ ...ITEM, ...body }, key).expect(201)).body as CatalogItemView;
  }

  async function list(
    query: string,
    key = merchantA.key,
  ): Promise<{ data: CatalogItemView[]; nextCursor: string | null }> {
    return (await http().get(`/v1/catalog/items${query}`).set('X-API-Key', key).expect(200)).body;
  }

  beforeAll(async () => {
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 2 });
    app = await createApp(testApiConfig({ taskQueue: uniqueTaskQueue('e2e-catalog') }));
    await app.init();
    merchantA = await createMerchant();
    merchantB = await createMerchant();
  });
  afterAll(async () => {
    await app?.close();
    await db?.$disconnect();
  });

  describe('POST /v1/catalog/items', () => {
    it('201: the resource with a Location header; price as a 7-decimal string; active by default', async () => {
      const response = await post({ ...ITEM, name: '  Free coffee ', description: 'Any size', price: '25.5' }).expect(
        201,
      );
      const item = response.body as CatalogItemView;
      assert.equal(response.headers.location, `/v1/catalog/items/${item.id}`);
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
        const response = await post({ ...ITEM, ...override }).expect(400);
        assert.equal(response.body.statusCode, 400);
        assert.equal(response.body.error, 'Bad Request');
        assert.deepEqual(fields(response.body), [field], JSON.stringify(override));
        assert.match(response.body.message, new RegExp(field));
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
      assert.deepEqual(fields(response.body), ['Idempotency-Key']);
      assert.equal(await db.catalogItem.count({ where: { merchantId: merchantA.id } }), before);
    });

    it('a retry with the same Idempotency-Key replays the answer (Location included) and creates one item', async () => {
      const key = randomUUID();
      const body = { ...ITEM, name: `Replayed ${key.slice(0, 8)}` };
      const first = await post(body, merchantA.key, key).expect(201);
      const again = await post(body, merchantA.key, key).expect(201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.deepEqual(again.body, first.body);
      assert.equal(again.headers.location, first.headers.location);
      assert.equal(await db.catalogItem.count({ where: { merchantId: merchantA.id, name: body.name } }), 1);
      const otherBody = await post({ ...body, price: '26' }, merchantA.key, key).expect(422);
      assert.equal(otherBody.body.details.reason, 'IdempotencyKeyReused');
    });

    it('401 without a key; 403 with the admin key', async () => {
      await http().post('/v1/catalog/items').set('Idempotency-Key', randomUUID()).send(ITEM).expect(401);
      await http().get('/v1/catalog/items').set('X-API-Key', TEST_ADMIN_KEY).expect(403);
    });
  });

  describe('GET /v1/catalog/items[/:id]', () => {
    it('200 for the owner; 404 (never 403) for another merchant and for an unknown id; 400 naming id', async () => {
      const item = await createItem();
      const own = await http().get(`/v1/catalog/items/${item.id}`).set('X-API-Key', merchantA.key).expect(200);
      assert.deepEqual(own.body, item);
      const foreign = await http().get(`/v1/catalog/items/${item.id}`).set('X-API-Key', merchantB.key).expect(404);
      assert.equal(foreign.body.message, `catalog item ${item.id} not found`);
      await http().get(`/v1/catalog/items/${randomUUID()}`).set('X-API-Key', merchantA.key).expect(404);
      const malformed = await http().get('/v1/catalog/items/not-a-uuid').set('X-API-Key', merchantA.key).expect(400);
      assert.deepEqual(fields(malformed.body), ['id']);
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
        const page = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`, merchant.key);
        assert.ok(page.data.length <= 2);
        walked.push(...page.data);
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(
        walked.map((item) => item.id),
        created.map((item) => item.id).reverse(),
      );
      assert.equal(
        (await list('', merchantB.key)).data.some((item) => created.some((c) => c.id === item.id)),
        false,
      );

      const names = async (query: string) => (await list(query, merchant.key)).data.map((item) => item.name);
      assert.deepEqual(await names('?active=true'), ['Item 4', 'Item 2', 'Item 0']);
      assert.deepEqual(await names('?active=false'), ['Item 3', 'Item 1']);
      assert.deepEqual(await names('?fulfilment=manual'), ['Item 4', 'Item 3']);
      assert.deepEqual(await names('?fulfilment=automatic&active=false'), ['Item 1']);
    });

    it('400 naming the filter, limit or cursor', async () => {
      for (const [query, field] of [
        ['?active=yes', 'active'],
        ['?active=1', 'active'],
        ['?fulfilment=later', 'fulfilment'],
        ['?limit=0', 'limit'],
        ['?cursor=nonsense', 'cursor'],
      ] as const) {
        const response = await http().get(`/v1/catalog/items${query}`).set('X-API-Key', merchantA.key).expect(400);
        assert.deepEqual(fields(response.body), [field], query);
      }
    });
  });

  describe('PATCH /v1/catalog/items/:id', () => {
    it('changes any subset; description null clears it; stock null makes it unlimited', async () => {
      const item = await createItem({ description: 'Small only' });
      const renamed = (await patch(item.id, { name: ' Large coffee ', price: '30.25' }).expect(200))
        .body as CatalogItemView;
      assert.equal(renamed.name, 'Large coffee');
      assert.equal(renamed.price, '30.2500000');
      assert.equal(renamed.description, 'Small only', 'unchanged when absent');
      assert.equal(renamed.stock, 10);

      const changed = (
        await patch(item.id, { description: null, stock: null, fulfilment: 'manual', active: false }).expect(200)
      ).body as CatalogItemView;
      assert.equal(changed.description, null);
      assert.equal(changed.stock, null);
      assert.equal(changed.available, null);
      assert.equal(changed.fulfilment, 'manual');
      assert.equal(changed.active, false);
      assert.equal(changed.name, 'Large coffee');
      const read = await http().get(`/v1/catalog/items/${item.id}`).set('X-API-Key', merchantA.key).expect(200);
      assert.deepEqual(read.body, changed);
      assert.equal((await db.catalogItem.findUniqueOrThrow({ where: { id: item.id } })).priceStroops, 302_500_000n);
    });

    it('400 for an empty body, an invalid or an unchangeable field, naming it', async () => {
      const item = await createItem();
      const empty = await patch(item.id, {}).expect(400);
      assert.deepEqual(fields(empty.body), ['body']);
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
        const response = await patch(item.id, body).expect(400);
        assert.deepEqual(fields(response.body), [field], JSON.stringify(body));
      }
      const unchanged = await http().get(`/v1/catalog/items/${item.id}`).set('X-API-Key', merchantA.key).expect(200);
      assert.deepEqual(unchanged.body, item);
    });

    it("404 for another merchant's item, which stays unchanged", async () => {
      const item = await createItem();
      await patch(item.id, { name: 'Hijacked' }, merchantB.key).expect(404);
      await patch(randomUUID(), { name: 'Nobody' }).expect(404);
      assert.equal((await db.catalogItem.findUniqueOrThrow({ where: { id: item.id } })).name, ITEM.name);
    });

    it('409 StockBelowReserved below the reserved units; down to exactly reserved is fine', async () => {
      const item = await createItem({ stock: 10 });
      // Redemptions in progress hold 4 units (the redemption workflow's reservations, set here directly).
      await db.catalogItem.update({ where: { id: item.id }, data: { reserved: 4 } });
      const refused = await patch(item.id, { stock: 3, name: 'Not renamed' }).expect(409);
      assert.equal(refused.body.statusCode, 409);
      assert.equal(refused.body.error, 'Conflict');
      assert.deepEqual(refused.body.details, { reason: 'StockBelowReserved', reserved: 4 });
      const row = await db.catalogItem.findUniqueOrThrow({ where: { id: item.id } });
      assert.equal(row.stock, 10, 'nothing of the refused change was written');
      assert.equal(row.name, ITEM.name);

      const exact = (await patch(item.id, { stock: 4 }).expect(200)).body as CatalogItemView;
      assert.equal(exact.stock, 4);
      assert.equal(exact.reserved, 4);
      assert.equal(exact.available, 0);
      assert.equal((await patch(item.id, { stock: null }).expect(200)).body.available, null);
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
