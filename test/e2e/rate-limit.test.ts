import { afterEach, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '@nova/api';
import type { ApiConfig } from '@nova/config';
import { TEST_ADMIN_KEY, testApiConfig, uniqueTaskQueue } from '../support/environment';

const LIMIT = 3;
const BY_IP = 'client address without a valid API key';

function configWithLimit(perMinute: number): ApiConfig {
  return testApiConfig({ taskQueue: uniqueTaskQueue('e2e-rate-limit'), rateLimitPerMinute: perMinute });
}

// Each test gets an app of its own, so that its counters start at zero.
describe('rate limit per API key', () => {
  let app: NestExpressApplication;
  const http = () => request(app.getHttpServer());

  /** A merchant made directly in a roomy app, so that its creation spends nobody's budget. */
  async function createMerchantKey(): Promise<{ id: string; key: string; keyId: string }> {
    const setup = await createApp(configWithLimit(1000));
    await setup.init();
    try {
      const response = await request(setup.getHttpServer())
        .post('/v1/merchants')
        .set('X-API-Key', TEST_ADMIN_KEY)
        .send({ name: `Busy ${randomUUID().slice(0, 8)}` })
        .expect(201);
      return { id: response.body.merchant.id, key: response.body.apiKey.key, keyId: response.body.apiKey.id };
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
    await app.init();
  }

  function assertTooManyRequests(response: request.Response, per = 'API key'): void {
    assert.equal(response.status, 429);
    assert.deepEqual(Object.keys(response.body).sort(), ['error', 'message', 'statusCode']);
    assert.equal(response.body.statusCode, 429);
    assert.equal(response.body.error, 'Too Many Requests');
    assert.match(response.body.message, new RegExp(`at most ${LIMIT} requests per minute per ${per};`));
    const retryAfter = Number(response.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
  }

  it('429 with Retry-After once a merchant key exceeds its limit; other keys are unaffected', async () => {
    await startApp();
    for (let i = 0; i < LIMIT; i += 1) {
      const ok = await http().get('/v1/campaigns').set('X-API-Key', merchantA.key).expect(200);
      assert.equal(ok.headers['x-ratelimit-limit'], String(LIMIT));
      assert.equal(ok.headers['x-ratelimit-remaining'], String(LIMIT - i - 1));
    }
    assertTooManyRequests(await http().get('/v1/campaigns').set('X-API-Key', merchantA.key));
    // One budget per key across routes, not per route.
    assertTooManyRequests(await http().get(`/v1/campaigns/${randomUUID()}`).set('X-API-Key', merchantA.key));
    await http().get('/v1/campaigns').set('X-API-Key', merchantB.key).expect(200);
  });

  it("a forged key quoting a merchant's prefix counts against the caller's IP, not the merchant", async () => {
    await startApp();
    const forged = `${merchantA.key.split('.')[0]}.${'A'.repeat(43)}`;
    for (let i = 0; i < LIMIT; i += 1) await http().get('/v1/campaigns').set('X-API-Key', forged).expect(401);
    assertTooManyRequests(await http().get('/v1/campaigns').set('X-API-Key', forged), BY_IP);
    // The IP's budget is spent (requests without a key share it) but the genuine key's is not.
    assertTooManyRequests(await http().get('/v1/campaigns'), BY_IP);
    await http().get('/v1/campaigns').set('X-API-Key', merchantA.key).expect(200);
  });

  it('the admin key has a budget of its own', async () => {
    await startApp();
    for (let i = 0; i < LIMIT; i += 1) {
      await http().get(`/v1/merchants/${merchantA.id}`).set('X-API-Key', TEST_ADMIN_KEY).expect(200);
    }
    assertTooManyRequests(await http().get(`/v1/merchants/${merchantA.id}`).set('X-API-Key', TEST_ADMIN_KEY));
    assertTooManyRequests(await http().delete(`/v1/api-keys/${merchantA.keyId}`).set('X-API-Key', TEST_ADMIN_KEY));
    await http().get('/v1/campaigns').set('X-API-Key', merchantA.key).expect(200); // not revoked: refused before
    await http().get('/v1/campaigns').expect(401); // the IP's budget is untouched
  });

  it('requests without a key are limited by IP; /health and /health/ready never are', async () => {
    await startApp();
    for (let i = 0; i < LIMIT; i += 1) await http().get('/v1/campaigns').expect(401);
    assertTooManyRequests(await http().get('/v1/campaigns'), BY_IP);
    assertTooManyRequests(await http().post('/v1/merchants').send({ name: 'x' }), BY_IP);
    for (let i = 0; i < LIMIT * 3; i += 1) {
      const live = await http().get('/health').expect(200);
      assert.equal(live.headers['x-ratelimit-limit'], undefined);
    }
    // Once is enough: with Temporal unreachable the probe waits for its timeout. 200 or 503
    // depends on the environment's Temporal and worker; never 429.
    const ready = await http().get('/health/ready');
    assert.ok([200, 503].includes(ready.status), `status ${ready.status}`);
    assert.ok(ready.body.checks, 'the readiness report, not an error');
    assert.equal(ready.headers['x-ratelimit-limit'], undefined);
  });

  it('the 429 is documented on the routes', async () => {
    await startApp();
    const doc = (await http().get('/docs-json').expect(200)).body;
    const tooMany = doc.paths['/v1/campaigns'].get.responses['429'];
    assert.equal(tooMany.content['application/json'].schema.$ref, '#/components/schemas/ErrorResponse');
    assert.ok(tooMany.headers['Retry-After']);
  });
});
