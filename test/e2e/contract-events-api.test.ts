import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Keypair } from '@stellar/stellar-sdk';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import type { NovaClient, operations } from '@nova/client';
import { TEST_ADMIN_KEY, testApiConfig, uniqueTaskQueue } from '../support/environment';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { apiClient, expectStatus, fieldsOf, idempotencyKey, listenForClients } from '../support/api-client';

type EventQuery = NonNullable<operations['contractEvents.list']['parameters']['query']>;
type Listing = '/v1/contract-events' | '/v1/admin/contract-events';

interface EventView {
  id: string;
  contract: string;
  type: string;
  resourceId: string | null;
  ledger: number;
  ledgerClosedAt: string;
  payload: Record<string, unknown>;
  topicXdr: string[];
  valueXdr: string;
}

// GET /v1/contract-events and /v1/admin/contract-events over the read model the indexers write
// (contract_events rows, as the indexer end-to-end test proves they are written): who sees what,
// the filters, the paging and the 400s that name their field. Through the typed client
// (@nova/client); the 400 cases send query values the document refuses with a cast.
describe('contract events API', () => {
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestExpressApplication;
  let baseUrl: string;
  const as = (key?: string): NovaClient => apiClient(baseUrl, key);
  const merchants: Record<'a' | 'b', { id: string; key: string; campaignId: string }> = {} as never;
  let redemptionOfA = '';
  const ids: Record<string, string> = {};

  async function merchantWithCampaign(name: string) {
    const created = await expectStatus(as(TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name } }), 201);
    const key = created.data!.apiKey.key;
    const campaign = await expectStatus(
      as(key).POST('/v1/campaigns', {
        params: idempotencyKey(),
        body: { name: 'c', budget: '10', startsAt: '2026-01-01T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' },
      }),
      201,
    );
    const row = await db.campaign.findUniqueOrThrow({ where: { id: campaign.data!.id } });
    return { id: row.merchantId, key, campaignId: row.id };
  }

  /** A redemption row of the merchant's (with the item and quote it needs), as the API writes them. */
  async function redemptionOf(merchantId: string): Promise<string> {
    const itemId = randomUUID();
    const quoteId = randomUUID();
    const id = randomUUID();
    const wallet = Keypair.random().publicKey();
    await db.catalogItem.create({
      data: { id: itemId, merchantId, name: 'Item', priceStroops: 10_000_000n, fulfilment: 'automatic' },
    });
    await db.redemptionQuote.create({
      data: {
        id: quoteId,
        merchantId,
        itemId,
        walletAddress: wallet,
        priceStroops: 10_000_000n,
        destination: wallet,
        sequence: 1n,
        memo: 'm',
        txHash: 'ab'.repeat(32),
        envelopeXdr: 'AAAA',
        expiresAt: new Date(Date.now() + 60_000),
      },
    });
    await db.redemption.create({
      data: {
        id,
        merchantId,
        quoteId,
        itemId,
        walletAddress: wallet,
        priceStroops: 10_000_000n,
        fulfilment: 'automatic',
        signedEnvelopeXdr: 'AAAA',
        workflowId: `redemption/${id}`,
      },
    });
    return id;
  }

  let sequence = 0;
  function event(name: string, contract: string, type: string, resourceId: string | null, closedAt: string) {
    sequence += 1;
    const id = `${(BigInt(100 + sequence) << 32n).toString().padStart(19, '0')}-0000000000`;
    ids[name] = id;
    return {
      id,
      contract,
      contractId: `C${'A'.repeat(55)}`,
      type,
      resourceId,
      ledger: 100 + sequence,
      ledgerClosedAt: new Date(closedAt),
      txHash: sequence.toString(16).padStart(64, '0'),
      payload: { at: closedAt },
      topicXdr: ['AAAADwAAAAhwYXVzZWQ='],
      valueXdr: 'AAAAAQ==',
    };
  }

  beforeAll(async () => {
    database = await createTestDatabase('e2e_contract_events_api');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 2 });
    app = await createApp(
      testApiConfig({ taskQueue: uniqueTaskQueue('e2e-contract-events'), databaseUrl: database.url }),
    );
    baseUrl = await listenForClients(app);
    merchants.a = await merchantWithCampaign('A');
    merchants.b = await merchantWithCampaign('B');
    redemptionOfA = await redemptionOf(merchants.a.id);
    // In the chain's order, as the indexers store them.
    await db.contractEvent.createMany({
      data: [
        event('init', 'campaign', 'campaign.initialized', null, '2026-02-01T00:00:00Z'),
        event('aRegistered', 'campaign', 'campaign.registered', merchants.a.campaignId, '2026-02-01T00:00:05Z'),
        event('bRegistered', 'campaign', 'campaign.registered', merchants.b.campaignId, '2026-02-01T00:00:10Z'),
        event('aOpened', 'redemption', 'redemption.opened', redemptionOfA, '2026-02-02T00:00:00Z'),
        event('aPaused', 'campaign', 'campaign.paused', merchants.a.campaignId, '2026-02-03T00:00:00Z'),
        event('strangerOpened', 'redemption', 'redemption.opened', 'made-outside-the-platform', '2026-02-03T00:00:05Z'),
        event('aConfirmed', 'redemption', 'redemption.confirmed', redemptionOfA, '2026-02-04T00:00:00Z'),
        event('schedule', 'vesting', 'vesting.schedule_created', randomUUID(), '2026-02-05T00:00:00Z'),
        event('bPaused', 'campaign', 'campaign.paused', merchants.b.campaignId, '2026-02-06T00:00:00Z'),
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.$disconnect();
    await database?.drop();
  });

  const list = (key: string | undefined, path: Listing, query: EventQuery = {}) =>
    path === '/v1/contract-events'
      ? as(key).GET('/v1/contract-events', { params: { query } })
      : as(key).GET('/v1/admin/contract-events', { params: { query } });

  async function all(key: string, path: Listing, query: EventQuery = {}): Promise<EventView[]> {
    const seen: EventView[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page += 1) {
      const pageQuery: EventQuery = { ...query, limit: 2, ...(cursor ? { cursor } : {}) };
      const { data } = await expectStatus(list(key, path, pageQuery), 200);
      seen.push(...(data!.data as EventView[]));
      cursor = data!.nextCursor;
      if (!cursor) return seen;
    }
    throw new Error('paging did not end');
  }
  const names = (events: EventView[]) => events.map((e) => Object.keys(ids).find((name) => ids[name] === e.id));

  it('a merchant sees the events about its own campaigns and redemptions only, in the chain’s order', async () => {
    assert.deepEqual(names(await all(merchants.a.key, '/v1/contract-events')), [
      'aRegistered',
      'aOpened',
      'aPaused',
      'aConfirmed',
    ]);
    assert.deepEqual(names(await all(merchants.b.key, '/v1/contract-events')), ['bRegistered', 'bPaused']);
  });

  it('the admin sees every event, the ones about no merchant’s resource too', async () => {
    const events = await all(TEST_ADMIN_KEY, '/v1/admin/contract-events');
    assert.deepEqual(names(events), Object.keys(ids));
    const opened = events.find((e) => e.id === ids.aOpened)!;
    assert.equal(opened.resourceId, redemptionOfA);
    assert.equal(opened.ledgerClosedAt, '2026-02-02T00:00:00.000Z');
    assert.deepEqual(opened.topicXdr, ['AAAADwAAAAhwYXVzZWQ=']);
    assert.deepEqual(opened.payload, { at: '2026-02-02T00:00:00Z' });
  });

  it('filters by contract, type and ledger close time', async () => {
    assert.deepEqual(names(await all(merchants.a.key, '/v1/contract-events', { contract: 'redemption' })), [
      'aOpened',
      'aConfirmed',
    ]);
    assert.deepEqual(names(await all(merchants.a.key, '/v1/contract-events', { type: 'campaign.paused' })), [
      'aPaused',
    ]);
    assert.deepEqual(names(await all(merchants.a.key, '/v1/contract-events', { since: '2026-02-03T00:00:00Z' })), [
      'aPaused',
      'aConfirmed',
    ]);
    assert.deepEqual(
      names(
        await all(TEST_ADMIN_KEY, '/v1/admin/contract-events', { contract: 'vesting', since: '2026-02-05T00:00:00Z' }),
      ),
      ['schedule'],
    );
  });

  it('a bad query value is a 400 naming the field', async () => {
    for (const [field, value] of [
      ['contract', 'token'],
      ['type', 'campaign.deleted'],
      ['since', 'yesterday'],
      ['cursor', 'not-a-cursor'],
      ['limit', '0'],
    ] as const) {
      const response = await expectStatus(
        list(merchants.a.key, '/v1/contract-events', { [field]: value } as EventQuery),
        400,
      );
      assert.ok(fieldsOf(response.error).includes(field), `${field}: ${JSON.stringify(response.error)}`);
    }
  });

  it('each key only on its own kind of route', async () => {
    await expectStatus(list(merchants.a.key, '/v1/admin/contract-events'), 403);
    await expectStatus(list(TEST_ADMIN_KEY, '/v1/contract-events'), 403);
    await expectStatus(list(undefined, '/v1/contract-events'), 401);
  });
});
