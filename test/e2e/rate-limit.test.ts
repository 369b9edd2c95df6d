// Calls the API through the typed client (@nova/client). Raw HTTP (supertest) stays for the
// OpenAPI document itself (/docs-json), which the document does not list.
import { afterEach, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '@nova/api';
import type { ApiConfig } from '@nova/config';
import type { NovaClient } from '@nova/client';
import { apiClient, expectStatus, listenForClients } from '../support/api-client';
import { TEST_ADMIN_KEY, testApiConfig, uniqueTaskQueue } from '../support/environment';

const LIMIT = 3;
const BY_IP = 'client address without a valid API key';

function configWithLimit(perMinute: number): ApiConfig {
  return testApiConfig({ taskQueue: uniqueTaskQueue('e2e-rate-limit'), rateLimitPerMinute: perMinute });
}

// Each test gets an app of its own, so that its counters start at zero.
describe('rate limit per API key', () => {
  let app: NestExpressApplication;
  let baseUrl: string;
  const http = () => request(app.getHttpServer());
  /** A caller sending `key` as X-API-Key, none without. */
  const as = (key?: string): NovaClient => apiClient(baseUrl, key);
  const campaigns = (key?: string) => as(key).GET('/v1/campaigns');
  const merchant = (id: string) => as(TEST_ADMIN_KEY).GET('/v1/merchants/{id}', { params: { path: { id } } });

  /** A merchant made directly in a roomy app, so that its creation spends nobody's budget. */
  async function createMerchantKey(): Promise<{ id: string; key: string; keyId: string }> {
    const setup = await createApp(configWithLimit(1000));
    try {
      const admin = apiClient(await listenForClients(setup), TEST_ADMIN_KEY);
      const { data } = await expectStatus(
        admin.POST('/v1/merchants', { body: { name: `Busy ${randomUUID().slice(0, 8)}` } }),
        201,
      );
      return { id: data!.merchant.id, key: data!.apiKey.key, keyId: data!.apiKey.id };
    } finally {
      await setup.close();
    }
  }

  let merchantA: { id: string; key: string; keyId: string };
  let merchantB: { id: string; key: string; keyId: string };

  beforeAll(async () => {
    merchantA = await createMerchantKey();
    merchantB = await createMerchantKey();
  });
  afterEach(async () => {
    await app?.close();
  });

  async function startApp(perMinute = LIMIT): Promise<void> {
    app = await createApp(configWithLimit(perMinute));
    baseUrl = await listenForClients(app);
  }

  function assertTooManyRequests(
    answer: { response: Response; error?: { statusCode: number; error: string; message: string } },
    per = 'API key',
  ): void {
    assert.equal(answer.response.status, 429);
    const body = answer.error!;
    assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'statusCode']);
    assert.equal(body.statusCode, 429);
    assert.equal(body.error, 'Too Many Requests');
    assert.match(body.message, new RegExp(`at most ${LIMIT} requests per minute per ${per};`));
    const retryAfter = Number(answer.response.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
  }

  it('429 with Retry-After once a merchant key exceeds its limit; other keys are unaffected', async () => {
    await startApp();
    for (let i = 0; i < LIMIT; i += 1) {
      const ok = await expectStatus(campaigns(merchantA.key), 200);
      assert.equal(ok.response.headers.get('x-ratelimit-limit'), String(LIMIT));
      assert.equal(ok.response.headers.get('x-ratelimit-remaining'), String(LIMIT - i - 1));
    }
    assertTooManyRequests(await campaigns(merchantA.key));
    // One budget per key across routes, not per route.
    assertTooManyRequests(
      await as(merchantA.key).GET('/v1/campaigns/{id}', { params: { path: { id: randomUUID() } } }),
    );
    await expectStatus(campaigns(merchantB.key), 200);
  });

  it("a forged key quoting a merchant's prefix counts against the caller's IP, not the merchant", async () => {
    await startApp();
    const forged = `${merchantA.key.split('.')[0]}.${'A'.repeat(43)}`;
    for (let i = 0; i < LIMIT; i += 1) await expectStatus(campaigns(forged), 401);
    assertTooManyRequests(await campaigns(forged), BY_IP);
    // The IP's budget is spent (requests without a key share it) but the genuine key's is not.
    assertTooManyRequests(await campaigns(), BY_IP);
    await expectStatus(campaigns(merchantA.key), 200);
  });

  it('the admin key has a budget of its own', async () => {
    await startApp();
    for (let i = 0; i < LIMIT; i += 1) {
      await expectStatus(merchant(merchantA.id), 200);
    }
    assertTooManyRequests(await merchant(merchantA.id));
    assertTooManyRequests(
      await as(TEST_ADMIN_KEY).DELETE('/v1/api-keys/{id}', { params: { path: { id: merchantA.keyId } } }),
    );
    await expectStatus(campaigns(merchantA.key), 200); // not revoked: refused before
    await expectStatus(campaigns(), 401); // the IP's budget is untouched
  });

  it('requests without a key are limited by IP; /health and /health/ready never are', async () => {
    await startApp();
    for (let i = 0; i < LIMIT; i += 1) await expectStatus(campaigns(), 401);
    assertTooManyRequests(await campaigns(), BY_IP);
    assertTooManyRequests(await as().POST('/v1/merchants', { body: { name: 'x' } }), BY_IP);
    for (let i = 0; i < LIMIT * 3; i += 1) {
      const live = await expectStatus(as().GET('/health'), 200);
      assert.equal(live.response.headers.get('x-ratelimit-limit'), null);
    }
    // Once is enough: with Temporal unreachable the probe waits for its timeout. 200 or 503
    // depends on the environment's Temporal and worker; never 429.
    const ready = await as().GET('/health/ready');
    assert.ok([200, 503].includes(ready.response.status), `status ${ready.response.status}`);
    assert.ok((ready.data ?? ready.error)?.checks, 'the readiness report, not an error');
    assert.equal(ready.response.headers.get('x-ratelimit-limit'), null);
  });

  it('the 429 is documented on the routes', async () => {
    await startApp();
    const doc = (await http().get('/docs-json').expect(200)).body;
    const tooMany = doc.paths['/v1/campaigns'].get.responses['429'];
    assert.equal(tooMany.content['application/json'].schema.$ref, '#/components/schemas/ErrorResponse');
    assert.ok(tooMany.headers['Retry-After']);
  });
});
