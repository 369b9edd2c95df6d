// Calls the API through the typed client (@nova/client). Bodies and queries the document refuses
// are sent through it with a cast: the point is the API's 400 naming the field. Raw HTTP
// (supertest) stays for the OpenAPI document itself (/docs-json), which it does not list. The
// requests of a missing or bad key leave out the Idempotency-Key the document requires (a
// cast): authentication is checked first.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { NotFoundException } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '@nova/api';
import { CampaignsService } from '@nova/api/dist/campaigns/campaigns.service';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import type { NovaClient, Schemas } from '@nova/client';
import {
  apiClient,
  expectStatus,
  fieldsOf,
  idempotencyKey,
  listenForClients,
  NO_IDEMPOTENCY_KEY,
  reasonOf,
} from '../support/api-client';
import { required, TEST_ADMIN_KEY, testApiConfig, uniqueTaskQueue } from '../support/environment';

type CampaignView = Schemas['CampaignView'];
type ListQuery = { limit?: number; cursor?: string };

const STARTS = '2026-03-01T00:00:00.000Z';
const ENDS = '2026-06-01T00:00:00.000Z';

// Campaigns through the real app and PostgreSQL (Temporal is never reached: no campaign
// contract is configured, so campaign sync is off; test/e2e/campaign-chain.test.ts has it on).
describe('campaigns', () => {
  let app: NestExpressApplication;
  let db: PrismaClient;
  let baseUrl: string;
  const http = () => request(app.getHttpServer());
  const as = (key?: string): NovaClient => apiClient(baseUrl, key);
  let merchantA: { id: string; key: string };
  let merchantB: { id: string; key: string };

  async function createMerchant(): Promise<{ id: string; key: string }> {
    const { data } = await expectStatus(
      as(TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: `Campaigner ${randomUUID().slice(0, 8)}` } }),
      201,
    );
    return { id: data!.merchant.id, key: data!.apiKey.key };
  }

  // Loosely typed bodies and queries: the 400 cases send what the document refuses.
  function create(body: Record<string, unknown>, key = merchantA.key) {
    return as(key).POST('/v1/campaigns', {
      params: idempotencyKey(),
      body: body as Schemas['CreateCampaignRequest'],
    });
  }

  /** POST /v1/campaigns with `key` and no Idempotency-Key (bad keys are refused before that header's check). */
  function createWithoutIdempotencyKey(body: Record<string, unknown>, key: string) {
    return as(key).POST('/v1/campaigns', {
      params: NO_IDEMPOTENCY_KEY,
      body: body as Schemas['CreateCampaignRequest'],
    });
  }

  function update(id: string, body: Record<string, unknown>, key = merchantA.key) {
    return as(key).PATCH('/v1/campaigns/{id}', {
      params: { ...idempotencyKey(), path: { id } },
      body: body as Schemas['UpdateCampaignRequest'],
    });
  }

  const read = (id: string, key?: string) => as(key).GET('/v1/campaigns/{id}', { params: { path: { id } } });

  const listing = (query: ListQuery | Record<string, string>, key = merchantA.key) =>
    as(key).GET('/v1/campaigns', { params: { query: query as ListQuery } });

  async function createCampaign(key: string, body: Record<string, unknown> = {}): Promise<CampaignView> {
    return (
      await expectStatus(
        create({ name: 'Spring bonus', budget: '1000', startsAt: STARTS, endsAt: ENDS, ...body }, key),
        201,
      )
    ).data!;
  }

  beforeAll(async () => {
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 2 });
    app = await createApp(testApiConfig({ taskQueue: uniqueTaskQueue('e2e-campaigns') }));
    baseUrl = await listenForClients(app);
    merchantA = await createMerchant();
    merchantB = await createMerchant();
  });
  afterAll(async () => {
    await app?.close();
    await db?.$disconnect();
  });

  describe('POST /v1/campaigns', () => {
    it('201: the campaign view, amounts as 7-decimal strings, remaining = budget', async () => {
      const campaign = await createCampaign(merchantA.key, {
        name: '  Spring bonus ',
        budget: '1000.5',
        maxPerWallet: '25.0000001',
        startsAt: '2026-03-01T01:00:00+01:00',
      });
      assert.deepEqual(Object.keys(campaign).sort(), [
        'budget',
        'createdAt',
        'endsAt',
        'id',
        'maxPerWallet',
        'name',
        'onChain',
        'paid',
        'remaining',
        'reserved',
        'startsAt',
        'status',
        'updatedAt',
      ]);
      assert.equal(campaign.onChain, null, 'campaign sync is off: nothing goes on chain');
      assert.equal(await db.campaignChainChange.count({ where: { campaignId: campaign.id } }), 0);
      assert.equal(campaign.name, 'Spring bonus');
      assert.equal(campaign.budget, '1000.5000000');
      assert.equal(campaign.reserved, '0.0000000');
      assert.equal(campaign.paid, '0.0000000');
      assert.equal(campaign.remaining, '1000.5000000');
      assert.equal(campaign.maxPerWallet, '25.0000001');
      assert.equal(campaign.startsAt, STARTS, 'normalised to UTC');
      assert.equal(campaign.endsAt, ENDS);
      assert.equal(campaign.status, 'active');
      const row = await db.campaign.findUniqueOrThrow({ where: { id: campaign.id } });
      assert.equal(row.merchantId, merchantA.id);
      assert.equal(row.budgetStroops, 10_005_000_000n);
      assert.equal(row.maxPerWalletStroops, 250_000_001n);
    });

    it('maxPerWallet is optional (null: no cap)', async () => {
      assert.equal((await createCampaign(merchantA.key)).maxPerWallet, null);
      assert.equal((await createCampaign(merchantA.key, { maxPerWallet: null })).maxPerWallet, null);
    });

    it('400 names the field', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ name: undefined }, 'name'],
        [{ name: ' ' }, 'name'],
        [{ budget: undefined }, 'budget'],
        [{ budget: 1000 }, 'budget'],
        [{ budget: '0' }, 'budget'],
        [{ budget: '-5' }, 'budget'],
        [{ budget: '1.12345678' }, 'budget'],
        [{ budget: '1e3' }, 'budget'],
        [{ budget: '999999999999.9999999' }, 'budget'], // beyond int64 stroops
        [{ maxPerWallet: '0' }, 'maxPerWallet'],
        [{ maxPerWallet: 5 }, 'maxPerWallet'],
        [{ startsAt: 'tomorrow' }, 'startsAt'],
        [{ startsAt: '2026-03-01T00:00:00' }, 'startsAt'], // no time zone
        [{ startsAt: '2026-02-30T00:00:00Z' }, 'startsAt'],
        [{ endsAt: undefined }, 'endsAt'],
        [{ endsAt: '2026-02-01T00:00:00Z' }, 'endsAt'], // before startsAt
        [{ endsAt: STARTS }, 'endsAt'], // equal to startsAt
        [{ status: 'paused' }, 'status'], // not settable at creation
        [{ reserved: '5' }, 'reserved'],
      ];
      for (const [override, field] of cases) {
        const body = { name: 'x', budget: '10', startsAt: STARTS, endsAt: ENDS, ...override };
        const { error } = await expectStatus(create(body), 400);
        assert.equal(error?.statusCode, 400);
        assert.equal(error?.error, 'Bad Request');
        assert.deepEqual(fieldsOf(error), [field], JSON.stringify(override));
        assert.match(error!.message, new RegExp(field));
      }
      const before = await expectStatus(create({}), 400);
      assert.deepEqual(fieldsOf(before.error).sort(), ['budget', 'endsAt', 'name', 'startsAt']);
    });

    it('401 without a key, with an unknown, a forged or a revoked key; 403 with the admin key', async () => {
      const body = { name: 'x', budget: '10', startsAt: STARTS, endsAt: ENDS };
      // Neither X-API-Key nor Idempotency-Key: the 401 comes first.
      const missing = await expectStatus(
        as().POST('/v1/campaigns', { params: NO_IDEMPOTENCY_KEY, body: body as Schemas['CreateCampaignRequest'] }),
        401,
      );
      assert.deepEqual(missing.error, {
        statusCode: 401,
        error: 'Unauthorized',
        message: 'X-API-Key header is required',
      });
      // The bad keys without an Idempotency-Key too: authentication is checked first.
      await expectStatus(createWithoutIdempotencyKey(body, 'nonsense'), 401);
      const forged = `${merchantA.key.split('.')[0]}.${'A'.repeat(43)}`;
      await expectStatus(createWithoutIdempotencyKey(body, forged), 401);

      const doomed = await createMerchant();
      const keyRow = await db.apiKey.findFirstOrThrow({ where: { merchantId: doomed.id } });
      await expectStatus(as(TEST_ADMIN_KEY).DELETE('/v1/api-keys/{id}', { params: { path: { id: keyRow.id } } }), 204);
      const revoked = await expectStatus(createWithoutIdempotencyKey(body, doomed.key), 401);
      assert.equal(revoked.error?.message, 'X-API-Key is not a valid merchant API key');

      const admin = await expectStatus(createWithoutIdempotencyKey(body, TEST_ADMIN_KEY), 403);
      assert.equal(admin.error?.statusCode, 403);
      assert.equal(admin.error?.error, 'Forbidden');
      await expectStatus(listing({}, TEST_ADMIN_KEY), 403);
      assert.equal(await db.campaign.count({ where: { merchantId: doomed.id } }), 0);
    });
  });

  describe('GET /v1/campaigns/:id', () => {
    it('200 for the owner; 404 (never 403) for another merchant; 404 unknown; 400 naming id', async () => {
      const campaign = await createCampaign(merchantA.key);
      const own = await expectStatus(read(campaign.id, merchantA.key), 200);
      assert.deepEqual(own.data, campaign);

      const foreign = await expectStatus(read(campaign.id, merchantB.key), 404);
      assert.equal(foreign.error?.statusCode, 404);
      assert.equal(foreign.error?.error, 'Not Found');
      assert.equal(foreign.error?.message, `campaign ${campaign.id} not found`);
      const unknownId = randomUUID();
      const unknown = await expectStatus(read(unknownId, merchantB.key), 404);
      assert.equal(unknown.error?.message, `campaign ${unknownId} not found`);
      assert.deepEqual({ ...foreign.error, message: '', details: [] }, { ...unknown.error, message: '', details: [] });

      const malformed = await expectStatus(read('42', merchantA.key), 400);
      assert.deepEqual(fieldsOf(malformed.error), ['id']);
      await expectStatus(read(campaign.id), 401);
    });

    it('remaining = budget - reserved - paid, as the issuance workflows move the counters', async () => {
      const campaign = await createCampaign(merchantA.key, { budget: '1000' });
      // The counters are written by activities, never by the API: simulate them.
      await db.campaign.update({
        where: { id: campaign.id },
        data: { reservedStroops: 1_202_500_000n, paidStroops: 3_000_000_001n },
      });
      const view = (await expectStatus(read(campaign.id, merchantA.key), 200)).data!;
      assert.equal(view.budget, '1000.0000000');
      assert.equal(view.reserved, '120.2500000');
      assert.equal(view.paid, '300.0000001');
      assert.equal(view.remaining, '579.7499999');
    });
  });

  describe('PATCH /v1/campaigns/:id', () => {
    it('200: renames, pauses, resumes and moves endsAt; leaves the counters alone', async () => {
      const campaign = await createCampaign(merchantA.key);
      await db.campaign.update({ where: { id: campaign.id }, data: { reservedStroops: 5n, paidStroops: 7n } });
      const patch = async (body: Record<string, unknown>) => (await expectStatus(update(campaign.id, body), 200)).data!;

      const paused = await patch({ status: 'paused', name: 'Renamed' });
      assert.equal(paused.status, 'paused');
      assert.equal(paused.name, 'Renamed');
      assert.equal(paused.reserved, '0.0000005');
      assert.equal(paused.paid, '0.0000007');
      assert.equal(paused.budget, campaign.budget);
      assert.ok(Date.parse(paused.updatedAt) >= Date.parse(campaign.updatedAt));

      const moved = await patch({ endsAt: '2026-07-01T12:00:00+02:00' });
      assert.equal(moved.endsAt, '2026-07-01T10:00:00.000Z');
      assert.equal(moved.status, 'paused');
      assert.equal(moved.name, 'Renamed');

      const resumed = await patch({ status: 'active' });
      assert.equal(resumed.status, 'active');
      const unchanged = await patch({});
      assert.deepEqual({ ...unchanged, updatedAt: '' }, { ...resumed, updatedAt: '' });
      const stored = await db.campaign.findUniqueOrThrow({ where: { id: campaign.id } });
      assert.equal(stored.status, 'active');
      assert.equal(stored.reservedStroops, 5n);
      assert.equal(unchanged.onChain, null);
      assert.equal(await db.campaignChainChange.count({ where: { campaignId: campaign.id } }), 0, 'sync is off');
    });

    it('200: changes the budget (remaining follows); 409 BudgetBelowCommitted below reserved + paid', async () => {
      const campaign = await createCampaign(merchantA.key, { budget: '1000' });
      await db.campaign.update({
        where: { id: campaign.id },
        data: { reservedStroops: 1_000_000_000n, paidStroops: 500_000_000n },
      });
      const patch = (body: Record<string, unknown>) => update(campaign.id, body);

      const raised = (await expectStatus(patch({ budget: '2500.5' }), 200)).data!;
      assert.deepEqual([raised.budget, raised.remaining], ['2500.5000000', '2350.5000000']);
      const exact = (await expectStatus(patch({ budget: '150' }), 200)).data!;
      assert.equal(exact.remaining, '0.0000000', 'down to exactly what is committed');

      const refused = await expectStatus(patch({ budget: '149.9999999', name: 'not applied either' }), 409);
      assert.equal(refused.error?.statusCode, 409);
      assert.equal(reasonOf(refused.error), 'BudgetBelowCommitted');
      assert.equal((refused.error?.details as Schemas['ErrorReason'] | undefined)?.committed, '150.0000000');
      const stored = await db.campaign.findUniqueOrThrow({ where: { id: campaign.id } });
      assert.equal(stored.budgetStroops, 1_500_000_000n);
      assert.equal(stored.name, 'Spring bonus');
    });

    it('400 names the field: unchangeable fields, bad values, endsAt not after startsAt', async () => {
      const campaign = await createCampaign(merchantA.key);
      const cases: [Record<string, unknown>, string][] = [
        [{ budget: '0' }, 'budget'],
        [{ budget: 5000 }, 'budget'],
        [{ budget: null }, 'budget'],
        [{ budget: '1.12345678' }, 'budget'],
        [{ startsAt: STARTS }, 'startsAt'],
        [{ maxPerWallet: '1' }, 'maxPerWallet'],
        [{ reserved: '0' }, 'reserved'],
        [{ status: 'ended' }, 'status'],
        [{ status: null }, 'status'],
        [{ name: null }, 'name'],
        [{ name: '' }, 'name'],
        [{ endsAt: 'soon' }, 'endsAt'],
        [{ endsAt: null }, 'endsAt'],
        [{ endsAt: '2026-02-01T00:00:00Z' }, 'endsAt'],
        [{ endsAt: STARTS }, 'endsAt'],
      ];
      for (const [body, field] of cases) {
        const { error } = await expectStatus(update(campaign.id, body), 400);
        assert.deepEqual(fieldsOf(error), [field], JSON.stringify(body));
        assert.match(error!.message, new RegExp(field));
      }
      const stored = await db.campaign.findUniqueOrThrow({ where: { id: campaign.id } });
      assert.equal(stored.endsAt.toISOString(), ENDS, 'nothing changed');
      assert.equal(stored.status, 'active');
      assert.equal(stored.budgetStroops, 10_000_000_000n);
    });

    it("404 for another merchant's campaign, which stays untouched; 401/403 as elsewhere", async () => {
      const campaign = await createCampaign(merchantA.key);
      await expectStatus(update(campaign.id, { status: 'paused' }, merchantB.key), 404);
      assert.equal((await db.campaign.findUniqueOrThrow({ where: { id: campaign.id } })).status, 'active');
      // Without an Idempotency-Key: authentication is checked first.
      const anonymous = as().PATCH('/v1/campaigns/{id}', {
        params: { ...NO_IDEMPOTENCY_KEY, path: { id: campaign.id } },
        body: { status: 'paused' },
      });
      await expectStatus(anonymous, 401);
      const admin = as(TEST_ADMIN_KEY).PATCH('/v1/campaigns/{id}', {
        params: { ...NO_IDEMPOTENCY_KEY, path: { id: campaign.id } },
        body: { status: 'paused' },
      });
      await expectStatus(admin, 403);
    });
  });

  describe('GET /v1/campaigns (cursor pagination)', () => {
    it('walks every page newest first: no duplicates, no gaps, despite inserts during the walk and equal timestamps', async () => {
      const owner = await createMerchant();
      const created: string[] = [];
      for (let i = 0; i < 23; i += 1) created.push((await createCampaign(owner.key, { name: `c${i}` })).id);
      // Rows sharing one millisecond: only the id breaks the tie.
      const sameInstant = new Date();
      for (let i = 0; i < 4; i += 1) {
        const id = randomUUID();
        await db.campaign.create({
          data: {
            id,
            merchantId: owner.id,
            name: `tie${i}`,
            budgetStroops: 1n,
            startsAt: new Date(STARTS),
            endsAt: new Date(ENDS),
            createdAt: sameInstant,
          },
        });
        created.push(id);
      }
      const expected = await db.campaign.findMany({
        where: { merchantId: owner.id },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        select: { id: true },
      });
      assert.equal(expected.length, 27);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: ListQuery = { limit: 5 };
        if (cursor) query.cursor = cursor;
        const page: Schemas['CampaignPage'] = (await expectStatus(listing(query, owner.key), 200)).data!;
        assert.deepEqual(Object.keys(page).sort(), ['data', 'nextCursor']);
        assert.ok(page.data.length <= 5);
        seen.push(...page.data.map((c) => c.id));
        cursor = page.nextCursor;
        pages += 1;
        if (pages === 1) {
          // Concurrent inserts sort before the cursor: they must not shift later pages.
          for (let i = 0; i < 3; i += 1) await createCampaign(owner.key, { name: `late${i}` });
        }
      } while (cursor !== null);

      assert.equal(pages, 6, '27 rows at 5 a page');
      assert.equal(new Set(seen).size, seen.length, 'no duplicates');
      assert.deepEqual(
        seen,
        expected.map((row) => row.id),
        'every row that existed, in (createdAt desc, id desc) order',
      );
      assert.deepEqual(new Set(seen), new Set(created));
    });

    it('defaults to 20 a page, returns only the caller’s campaigns, and a null cursor on the last page', async () => {
      const owner = await createMerchant();
      const mine: string[] = [];
      for (let i = 0; i < 21; i += 1) mine.push((await createCampaign(owner.key)).id);
      const first = (await expectStatus(listing({}, owner.key), 200)).data!;
      assert.equal(first.data.length, 20);
      assert.equal(typeof first.nextCursor, 'string');
      assert.match(first.nextCursor!, /^[A-Za-z0-9_-]+$/, 'base64url');
      const second = (await expectStatus(listing({ cursor: first.nextCursor! }, owner.key), 200)).data!;
      assert.equal(second.data.length, 1);
      assert.equal(second.nextCursor, null);
      assert.deepEqual(
        [...first.data, ...second.data].map((c) => c.id),
        [...mine].reverse(),
      );

      const exact = (await expectStatus(listing({ limit: 21 }, owner.key), 200)).data!;
      assert.equal(exact.data.length, 21);
      assert.equal(exact.nextCursor, null, 'no empty extra page');

      const other = (await expectStatus(listing({ limit: 100 }, merchantB.key), 200)).data!;
      assert.ok(!other.data.some((c) => mine.includes(c.id)));
    });

    it('400 naming limit or cursor when they are malformed, or for an unknown parameter', async () => {
      const cases: [Record<string, string>, string][] = [
        [{ limit: '0' }, 'limit'],
        [{ limit: '101' }, 'limit'],
        [{ limit: 'ten' }, 'limit'],
        [{ limit: '2.5' }, 'limit'],
        [{ cursor: 'garbage' }, 'cursor'],
        [{ cursor: Buffer.from('["yesterday","x"]').toString('base64url') }, 'cursor'],
        [{ cursor: Buffer.from(`["2026-01-01T00:00:00.000Z","${randomUUID()}",1]`).toString('base64url') }, 'cursor'],
        [{ sort: 'asc' }, 'sort'],
      ];
      for (const [query, field] of cases) {
        const response = await expectStatus(listing(query), 400);
        assert.deepEqual(fieldsOf(response.error), [field], JSON.stringify(query));
      }
    });
  });

  describe('CampaignsService.findForMerchant (for the issuances module)', () => {
    it("returns the merchant's own row; 404 naming campaignId otherwise", async () => {
      const service = app.get(CampaignsService);
      const campaign = await createCampaign(merchantA.key, { budget: '12.5' });
      const row = await service.findForMerchant(merchantA.id, campaign.id);
      assert.equal(row.id, campaign.id);
      assert.equal(row.budgetStroops, 125_000_000n);
      for (const [merchantId, id] of [
        [merchantB.id, campaign.id],
        [merchantA.id, randomUUID()],
        [merchantA.id, 'not-a-uuid'],
      ] as const) {
        await assert.rejects(service.findForMerchant(merchantId, id), (error: unknown) => {
          assert.ok(error instanceof NotFoundException);
          const body = error.getResponse() as { message: string; details: { field: string }[] };
          assert.equal(body.message, `campaign ${id} not found`);
          assert.deepEqual(
            body.details.map((d) => d.field),
            ['campaignId'],
          );
          return true;
        });
      }
    });
  });

  it('the OpenAPI document describes the campaign routes and the page shape', async () => {
    const doc = (await http().get('/docs-json').expect(200)).body;
    const list = doc.paths['/v1/campaigns'].get;
    assert.deepEqual(list.tags, ['campaigns']);
    assert.deepEqual(list.security, [{ 'merchant-key': [] }]);
    assert.deepEqual(list.parameters.map((p: { name: string }) => p.name).sort(), ['cursor', 'limit']);
    assert.equal(list.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/CampaignPage');
    for (const status of ['401', '403', '429']) assert.ok(list.responses[status], status);
    const create = doc.paths['/v1/campaigns'].post;
    assert.equal(
      create.requestBody.content['application/json'].schema.$ref,
      '#/components/schemas/CreateCampaignRequest',
    );
    assert.equal(create.responses['201'].content['application/json'].schema.$ref, '#/components/schemas/CampaignView');
    const patch = doc.paths['/v1/campaigns/{id}'].patch;
    assert.deepEqual(Object.keys(doc.components.schemas.UpdateCampaignRequest.properties).sort(), [
      'budget',
      'endsAt',
      'name',
      'status',
    ]);
    assert.ok(patch.responses['404']);
    assert.ok(patch.responses['409']);
    const onChain = doc.components.schemas.CampaignOnChainView;
    assert.deepEqual(onChain.properties.status.enum, ['pending', 'synced', 'failed']);
    assert.deepEqual(Object.keys(onChain.properties).sort(), ['error', 'ledger', 'status', 'txHash']);
    assert.deepEqual(doc.components.schemas.CreateCampaignRequest.required.sort(), [
      'budget',
      'endsAt',
      'name',
      'startsAt',
    ]);
    assert.equal(doc.components.schemas.CampaignPage.properties.data.items.$ref, '#/components/schemas/CampaignView');
  });
});
