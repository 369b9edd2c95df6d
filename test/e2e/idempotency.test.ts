// Calls the API through the typed client (@nova/client). Bodies the document refuses, and
// requests without the Idempotency-Key it requires, are sent through it with a cast: the point
// is the API's answer to them. Raw HTTP (supertest) stays for GET /docs-json (the OpenAPI
// document itself is no route of the document).
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { types } from 'node:util';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { Keypair } from '@stellar/stellar-sdk';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp, IdempotencyKeys } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import type { NovaClient, Schemas } from '@nova/client';
import {
  eventually,
  required,
  TEST_ADMIN_KEY,
  testApiConfig,
  uniqueTaskQueue,
  unreachableStellar,
} from '../support/environment';
import { freePort } from '../support/launcher';
import { spawnCollecting, waitForOutput, withTimeout } from '../support/processes';
import {
  apiClient,
  expectStatus,
  fieldsOf,
  idempotencyKey,
  listenForClients,
  NO_IDEMPOTENCY_KEY,
  reasonOf,
} from '../support/api-client';

const root = resolve(__dirname, '..', '..');
const hoursFromNow = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

interface Merchant {
  id: string;
  key: string;
}

interface DocumentedOperation {
  security?: object[];
  parameters: { name: string; in: string; required?: boolean }[];
  responses: Record<string, { description: string; headers?: Record<string, unknown> }>;
}

// Idempotency-Key through the real app and PostgreSQL (campaign sync is off; issuances start
// their workflows on a task queue no worker polls: nothing here needs them to run).
describe('Idempotency-Key on mutating merchant routes', () => {
  const taskQueue = uniqueTaskQueue('e2e-idempotency');
  let db: PrismaClient;
  let app: NestExpressApplication;
  /** Another API on the same database whose lock timeout is 1 s: it takes over dead requests' keys. */
  let takeover: NestExpressApplication;
  let merchantA: Merchant;
  let merchantB: Merchant;
  const http = () => request(app.getHttpServer());
  let baseUrl: string;
  let takeoverUrl: string;
  /** A caller sending `key` as X-API-Key (through the typed client), to the API at `url`. */
  const as = (key?: string, url = baseUrl): NovaClient => apiClient(url, key);

  async function createMerchant(): Promise<Merchant> {
    const { data } = await expectStatus(
      as(TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: `Idempotent ${randomUUID().slice(0, 8)}` } }),
      201,
    );
    return { id: data!.merchant.id, key: data!.apiKey.key };
  }

  function campaignBody(overrides: Record<string, unknown> = {}) {
    return {
      name: `Campaign ${randomUUID()}`,
      budget: '100',
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: hoursFromNow(24),
      ...overrides,
    };
  }

  // Loosely typed bodies: some cases send what the document refuses.
  const postCampaign = (merchant: Merchant, key: string, body: object, url = baseUrl) =>
    as(merchant.key, url).POST('/v1/campaigns', {
      params: idempotencyKey(key),
      body: body as Schemas['CreateCampaignRequest'],
    });

  const patchCampaign = (merchant: Merchant, id: string, key: string, body: object, url = baseUrl) =>
    as(merchant.key, url).PATCH('/v1/campaigns/{id}', {
      params: { ...idempotencyKey(key), path: { id } },
      body: body as Schemas['UpdateCampaignRequest'],
    });

  async function createCampaign(merchant: Merchant): Promise<Schemas['CampaignView']> {
    return (await expectStatus(postCampaign(merchant, randomUUID(), campaignBody()), 201)).data!;
  }

  const keyRow = (merchant: Merchant, key: string) =>
    db.idempotencyKey.findUnique({ where: { merchantId_key: { merchantId: merchant.id, key } } });

  /**
   * Holds the campaign's row lock (the one PATCH takes) in a transaction of the test's own
   * while `during` runs, so a PATCH of that campaign waits inside its handler for as long.
   */
  async function holdingCampaignLock<T>(campaignId: string, during: (lockHolderPid: number) => Promise<T>) {
    return await db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM campaigns WHERE id = ${campaignId}::uuid FOR UPDATE`;
        const [holder] = await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
        return await during(holder!.pid);
      },
      { timeout: 120_000 },
    );
  }

  /** The backend of a request waiting for the lock that `lockHolderPid` holds. */
  async function requestWaitingFor(lockHolderPid: number): Promise<number> {
    return await eventually(
      async () => {
        const [waiting] = await db.$queryRaw<{ pid: number }[]>`
          SELECT pid FROM pg_stat_activity WHERE ${lockHolderPid}::int = ANY(pg_blocking_pids(pid))`;
        return waiting?.pid;
      },
      { what: 'the request to wait for the campaign lock' },
    );
  }

  beforeAll(async () => {
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 4 });
    app = await createApp(testApiConfig({ taskQueue }));
    baseUrl = await listenForClients(app);
    takeover = await createApp(testApiConfig({ taskQueue, idempotencyLockTimeoutSeconds: 1 }));
    takeoverUrl = await listenForClients(takeover);
    merchantA = await createMerchant();
    merchantB = await createMerchant();
  });
  afterAll(async () => {
    await takeover?.close();
    await app?.close();
    await db?.$disconnect();
  });

  it('POST /v1/campaigns twice with one key: one campaign, the second answer replayed as it was', async () => {
    const key = randomUUID();
    const body = campaignBody();
    const first = await expectStatus(postCampaign(merchantA, key, body), 201);
    assert.equal(first.response.headers.get('idempotent-replayed'), null);
    // The same body with its fields in another order is the same request.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const again = await expectStatus(postCampaign(merchantA, key, reordered), 201);
    assert.equal(again.response.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.data, first.data);
    assert.equal(await db.campaign.count({ where: { merchantId: merchantA.id, name: body.name } }), 1);

    const row = await keyRow(merchantA, key);
    assert.deepEqual(
      [row?.state, row?.responseStatus, row?.requestMethod, row?.requestPath],
      ['completed', 201, 'POST', '/v1/campaigns'],
    );
    assert.equal(row!.expiresAt.getTime() - row!.createdAt.getTime(), 24 * 3_600_000, 'kept 24 h by default');
  });

  it('the same key with another body, or on another route: 422 IdempotencyKeyReused, nothing done', async () => {
    const key = randomUUID();
    const body = campaignBody();
    const created = (await expectStatus(postCampaign(merchantA, key, body), 201)).data!;
    const other = await expectStatus(postCampaign(merchantA, key, { ...body, budget: '101' }), 422);
    assert.deepEqual(other.error, {
      statusCode: 422,
      error: 'Unprocessable Entity',
      message: `Idempotency-Key ${key} was already used with a different request body`,
      details: { reason: 'IdempotencyKeyReused', usedFor: 'POST /v1/campaigns' },
    });
    assert.equal(await db.campaign.count({ where: { merchantId: merchantA.id, name: body.name } }), 1);

    const elsewhere = await expectStatus(patchCampaign(merchantA, created.id, key, { name: 'renamed' }), 422);
    assert.equal(reasonOf(elsewhere.error), 'IdempotencyKeyReused');
    assert.match(elsewhere.error!.message, /already used for POST \/v1\/campaigns/);
    assert.equal((await db.campaign.findUniqueOrThrow({ where: { id: created.id } })).name, body.name);
  });

  it('a missing or malformed key: 400 naming the Idempotency-Key header, nothing done', async () => {
    const body = campaignBody();
    // No Idempotency-Key at all (the document requires it: a cast).
    const missing = await expectStatus(
      as(merchantA.key).POST('/v1/campaigns', { params: NO_IDEMPOTENCY_KEY, body }),
      400,
    );
    assert.deepEqual(missing.error, {
      statusCode: 400,
      error: 'Bad Request',
      message: 'the Idempotency-Key header is required on POST /v1/campaigns',
      details: [
        { field: 'Idempotency-Key', messages: ['the Idempotency-Key header is required on POST /v1/campaigns'] },
      ],
    });
    for (const malformed of ['', 'k'.repeat(256), 'clé', 'tab\there']) {
      const refused = await expectStatus(postCampaign(merchantA, malformed, body), 400);
      assert.deepEqual(fieldsOf(refused.error), ['Idempotency-Key'], JSON.stringify(malformed));
    }
    await expectStatus(postCampaign(merchantA, 'k'.repeat(255), campaignBody()), 201);
    const campaign = await createCampaign(merchantA);
    // Without the header again.
    const patch = await expectStatus(
      as(merchantA.key).PATCH('/v1/campaigns/{id}', {
        params: { ...NO_IDEMPOTENCY_KEY, path: { id: campaign.id } },
        body: { name: 'no key' },
      }),
      400,
    );
    assert.equal(fieldsOf(patch.error)[0], 'Idempotency-Key');
    assert.equal(await db.campaign.count({ where: { name: { in: [body.name, 'no key'] } } }), 0);
  });

  it("keys are the merchant's own: another merchant's same key makes its own campaign", async () => {
    const key = `order-${randomUUID()}`;
    const body = campaignBody();
    const mine = await expectStatus(postCampaign(merchantA, key, body), 201);
    const theirs = await expectStatus(postCampaign(merchantB, key, body), 201);
    assert.equal(theirs.response.headers.get('idempotent-replayed'), null);
    assert.notEqual(theirs.data!.id, mine.data!.id);
    assert.equal(await db.campaign.count({ where: { merchantId: merchantA.id, name: body.name } }), 1);
    assert.equal(await db.campaign.count({ where: { merchantId: merchantB.id, name: body.name } }), 1);
  });

  it('PATCH replay: the original answer, without running the change again', async () => {
    const campaign = await createCampaign(merchantA);
    const key = randomUUID();
    const paused = await expectStatus(patchCampaign(merchantA, campaign.id, key, { status: 'paused' }), 200);
    assert.equal(paused.data!.status, 'paused');
    await expectStatus(patchCampaign(merchantA, campaign.id, randomUUID(), { status: 'active' }), 200);
    const replayed = await expectStatus(patchCampaign(merchantA, campaign.id, key, { status: 'paused' }), 200);
    assert.equal(replayed.response.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replayed.data, paused.data);
    assert.equal((await db.campaign.findUniqueOrThrow({ where: { id: campaign.id } })).status, 'active');
  });

  it('a 4xx answer is final and replayed too (409 BudgetBelowCommitted, 400 validation)', async () => {
    const campaign = await createCampaign(merchantA);
    await db.campaign.update({ where: { id: campaign.id }, data: { reservedStroops: 500_000_000n } });
    const key = randomUUID();
    const refused = await expectStatus(patchCampaign(merchantA, campaign.id, key, { budget: '10' }), 409);
    assert.equal(reasonOf(refused.error), 'BudgetBelowCommitted');
    // The refusal stands for this key even once the budget would fit: the retry is not run.
    await db.campaign.update({ where: { id: campaign.id }, data: { reservedStroops: 0n } });
    const again = await expectStatus(patchCampaign(merchantA, campaign.id, key, { budget: '10' }), 409);
    assert.equal(again.response.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.error, refused.error);
    await expectStatus(patchCampaign(merchantA, campaign.id, randomUUID(), { budget: '10' }), 200);

    const invalidKey = randomUUID();
    const invalid = await expectStatus(postCampaign(merchantA, invalidKey, { name: 'x' }), 400);
    const replayed = await expectStatus(postCampaign(merchantA, invalidKey, { name: 'x' }), 400);
    assert.equal(replayed.response.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replayed.error, invalid.error);
  });

  it('the same key while the first request runs: 409 IdempotencyKeyInFlight, then the answer', async () => {
    const campaign = await createCampaign(merchantA);
    const key = randomUUID();
    const change = { name: 'Held in flight' };
    const { first, second } = await holdingCampaignLock(campaign.id, async (holder) => {
      const first = patchCampaign(merchantA, campaign.id, key, change);
      await requestWaitingFor(holder); // the first request holds the key and waits inside its handler
      const second = await patchCampaign(merchantA, campaign.id, key, change);
      assert.equal((await keyRow(merchantA, key))?.state, 'in_flight');
      return { first, second };
    });
    assert.equal(second.response.status, 409);
    assert.deepEqual(second.error, {
      statusCode: 409,
      error: 'Conflict',
      message: `a request with Idempotency-Key ${key} is still in progress: retry later`,
      details: { reason: 'IdempotencyKeyInFlight' },
    });
    const answered = await first;
    assert.equal(answered.response.status, 200);
    assert.equal(answered.data!.name, 'Held in flight');
    const replayed = await expectStatus(patchCampaign(merchantA, campaign.id, key, change), 200);
    assert.equal(replayed.response.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replayed.data, answered.data);
  });

  it('a 5xx releases the key: the retry of the same request runs again', async () => {
    const campaign = await createCampaign(merchantA);
    const key = randomUUID();
    const change = { name: 'After a 5xx' };
    const failed = await holdingCampaignLock(campaign.id, async (holder) => {
      const first = patchCampaign(merchantA, campaign.id, key, change);
      // The request's statement is cancelled under it (as a statement timeout would): a 500.
      const backend = await requestWaitingFor(holder);
      await db.$queryRaw`SELECT pg_cancel_backend(${backend}::int)`;
      return await first;
    });
    assert.equal(failed.response.status, 500);
    assert.deepEqual(
      [(await keyRow(merchantA, key))?.state, (await keyRow(merchantA, key))?.attempts],
      ['released', 1],
    );
    assert.equal((await db.campaign.findUniqueOrThrow({ where: { id: campaign.id } })).name, campaign.name);
    await expectStatus(patchCampaign(merchantA, campaign.id, key, { name: 'another body' }), 422);

    const retried = await expectStatus(patchCampaign(merchantA, campaign.id, key, change), 200);
    assert.equal(retried.response.headers.get('idempotent-replayed'), null, 'run again, not replayed');
    assert.equal(retried.data!.name, 'After a 5xx');
    const row = await keyRow(merchantA, key);
    assert.deepEqual([row?.state, row?.attempts, row?.responseStatus], ['completed', 2, 200]);
  });

  it('a request whose process died keeps the key until the lock timeout; then a retry takes it over', async () => {
    const campaign = await createCampaign(merchantA);
    const key = randomUUID();
    const change = { name: 'After a crash' };
    const port = await freePort();
    const stellar = unreachableStellar().network;
    const api = spawnCollecting(process.execPath, [join(root, 'apps/api/dist/main.js')], {
      PATH: process.env.PATH,
      DATABASE_URL: required('DATABASE_URL'),
      TEMPORAL_ADDRESS: required('TEMPORAL_ADDRESS'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      NOVA_ASSET_ISSUER: stellar.assetIssuer,
      DISTRIBUTION_ACCOUNT: stellar.distributionAccount,
      HORIZON_URL: stellar.horizonUrl,
      PORT: String(port),
      LOG_LEVEL: 'info',
    });
    try {
      await waitForOutput(api, /API listening/, 60_000);
      await holdingCampaignLock(campaign.id, async (holder) => {
        // Through the typed client too, to the spawned API's own port.
        const doomed = patchCampaign(merchantA, campaign.id, key, change, `http://127.0.0.1:${port}`).catch(
          (error: unknown) => error,
        );
        await requestWaitingFor(holder);
        api.child.kill('SIGKILL');
        await withTimeout(api.exited, 10_000, 'API death');
        // The client rethrows Node's fetch error, of Node's realm, not the test file's (jest): not
        // `instanceof Error` here, but a native error all the same.
        assert.ok(types.isNativeError(await doomed), 'the request died with its process');
      });
    } finally {
      if (api.child.exitCode === null && api.child.signalCode === null) api.child.kill('SIGKILL');
    }
    const left = await keyRow(merchantA, key);
    assert.deepEqual([left?.state, left?.attempts], ['in_flight', 1], 'the dead request still holds the key');

    // Past the lock timeout (1 s on this API) the retry runs; until then it is told to wait.
    const retried = await eventually(
      async () => {
        const response = await patchCampaign(merchantA, campaign.id, key, change, takeoverUrl);
        if (response.response.status === 409) {
          assert.equal(reasonOf(response.error), 'IdempotencyKeyInFlight');
          return undefined;
        }
        return response;
      },
      { what: 'the retry to take the key over' },
    );
    assert.equal(retried.response.status, 200);
    assert.equal(retried.response.headers.get('idempotent-replayed'), null);
    assert.equal(retried.data!.name, 'After a crash');
    const row = await keyRow(merchantA, key);
    assert.deepEqual([row?.state, row?.attempts, row?.claimId], ['completed', 2, left?.claimId]);
  });

  it('issuances: replayed with the original 202 and Location; a take-over never inserts a second one', async () => {
    const campaign = await createCampaign(merchantA);
    const key = randomUUID();
    const body = { campaignId: campaign.id, walletAddress: Keypair.random().publicKey(), amount: '2' };
    const issue = (url: string) =>
      as(merchantA.key, url).POST('/v1/rewards/issuances', { params: idempotencyKey(key), body });
    const accepted = await expectStatus(issue(baseUrl), 202);
    const replayed = await expectStatus(issue(baseUrl), 202);
    assert.equal(replayed.response.headers.get('idempotent-replayed'), 'true');
    assert.equal(replayed.response.headers.get('location'), `/v1/rewards/issuances/${accepted.data!.id}`);
    assert.deepEqual(replayed.data, accepted.data);

    // As if the API had died after inserting the issuance, before storing its answer: the
    // retry past the lock timeout runs the handler again, which finds the issuance by the claim.
    await db.$executeRaw`
      UPDATE idempotency_keys
         SET state = 'in_flight', locked_at = now() - interval '1 hour',
             response_status = NULL, response_body = NULL, response_headers = NULL
       WHERE merchant_id = ${merchantA.id}::uuid AND key = ${key}`;
    const taken = await expectStatus(issue(takeoverUrl), 202);
    assert.equal(taken.response.headers.get('idempotent-replayed'), null, 'run again');
    assert.equal(taken.data!.id, accepted.data!.id);
    assert.equal(taken.response.headers.get('location'), accepted.response.headers.get('location'));
    assert.equal(await db.issuance.count({ where: { merchantId: merchantA.id, idempotencyKey: key } }), 1);
    assert.equal((await keyRow(merchantA, key))?.attempts, 2);
  });

  it('an expired key may be used again, as a new key; the sweep deletes expired keys', async () => {
    const key = randomUUID();
    const first = await expectStatus(postCampaign(merchantA, key, campaignBody()), 201);
    const before = await keyRow(merchantA, key);
    // As if the retention (24 h) had passed.
    const expire = () =>
      db.$executeRaw`UPDATE idempotency_keys SET expires_at = now() - interval '1 second'
                      WHERE merchant_id = ${merchantA.id}::uuid AND key = ${key}`;
    await expire();
    const reused = await expectStatus(postCampaign(merchantA, key, campaignBody()), 201);
    assert.equal(reused.response.headers.get('idempotent-replayed'), null);
    assert.notEqual(reused.data!.id, first.data!.id);
    const after = await keyRow(merchantA, key);
    assert.notEqual(after?.claimId, before?.claimId, 'a new claim');
    assert.ok(after!.expiresAt.getTime() > Date.now() + 23 * 3_600_000);

    await expire();
    assert.ok((await app.get(IdempotencyKeys).sweepExpired()) >= 1);
    assert.equal(await keyRow(merchantA, key), null);
    const afterSweep = await expectStatus(postCampaign(merchantA, key, campaignBody()), 201);
    assert.equal(afterSweep.response.headers.get('idempotent-replayed'), null);
  });

  it('the OpenAPI document gives every mutating merchant route the header, the replay marker and 409/422', async () => {
    // The document itself is no route of the document: raw HTTP.
    const doc = (await http().get('/docs-json').expect(200)).body;
    const mutating: string[] = [];
    const paths = doc.paths as Record<string, Record<string, DocumentedOperation | undefined>>;
    for (const [path, item] of Object.entries(paths)) {
      for (const method of ['post', 'put', 'patch', 'delete']) {
        const operation = item[method];
        if (!operation?.security?.some((s: object) => 'merchant-key' in s)) continue;
        mutating.push(`${method.toUpperCase()} ${path}`);
        const header = operation.parameters.find((p: { name: string }) => p.name === 'Idempotency-Key');
        assert.deepEqual([header?.in, header?.required], ['header', true], path);
        const success = Object.keys(operation.responses).filter((status) => status.startsWith('2'));
        assert.ok(success.length > 0, path);
        for (const status of success) assert.ok(operation.responses[status]?.headers?.['Idempotent-Replayed'], path);
        assert.match(operation.responses['409']?.description ?? '', /IdempotencyKeyInFlight/, path);
        assert.match(operation.responses['422']?.description ?? '', /IdempotencyKeyReused/, path);
        assert.match(operation.responses['400']?.description ?? '', /Idempotency-Key/, path);
      }
    }
    assert.deepEqual(mutating.sort(), [
      'DELETE /v1/webhooks/endpoints/{id}',
      'PATCH /v1/campaigns/{id}',
      'PATCH /v1/catalog/items/{id}',
      'PATCH /v1/webhooks/endpoints/{id}',
      'POST /v1/campaigns',
      'POST /v1/catalog/items',
      'POST /v1/redemptions',
      'POST /v1/redemptions/quotes',
      'POST /v1/redemptions/{id}/fulfil',
      'POST /v1/redemptions/{id}/reject',
      'POST /v1/rewards/issuances',
      'POST /v1/vesting-schedules',
      'POST /v1/vesting-schedules/{id}/revoke',
      'POST /v1/webhooks/deliveries/{id}/redeliver',
      'POST /v1/webhooks/endpoints',
      'POST /v1/webhooks/endpoints/{id}/rotate-secret',
      'POST /v1/webhooks/endpoints/{id}/test',
    ]);
    // Admin routes whose answer a retry must get again, with the header (kept with what they create).
    const adminIdempotent: string[] = [];
    for (const [path, item] of Object.entries(paths)) {
      for (const method of ['post', 'put', 'patch', 'delete']) {
        const operation = item[method];
        if (!operation?.security?.some((s: object) => 'admin-key' in s)) continue;
        const header = operation.parameters?.find((p: { name: string }) => p.name === 'Idempotency-Key');
        if (!header) continue;
        adminIdempotent.push(`${method.toUpperCase()} ${path}`);
        assert.deepEqual([header.in, header.required], ['header', true], path);
        for (const status of Object.keys(operation.responses).filter((s) => s.startsWith('2'))) {
          assert.ok(operation.responses[status]?.headers?.['Idempotent-Replayed'], path);
        }
        assert.match(operation.responses['422']?.description ?? '', /IdempotencyKeyReused/, path);
        assert.match(operation.responses['400']?.description ?? '', /Idempotency-Key/, path);
      }
    }
    assert.deepEqual(adminIdempotent.sort(), ['POST /v1/admin/reconciliations']);
    const issuance = paths['/v1/rewards/issuances']!.post!;
    assert.match(issuance.responses['409']?.description ?? '', /Campaign paused/, "the route's own 409 stays");
    assert.equal(issuance.responses['200'], undefined, 'a replay answers 202 like the original');
  });
});
