// Calls the API through the typed client (@nova/client). Raw HTTP (supertest) stays for what the
// OpenAPI document does not state, so the client cannot name it: an unknown route, and the
// document (/docs-json) and Swagger UI (/docs) themselves.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '@nova/api';
import { searchAttributes } from '@nova/workflows/definitions';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import {
  connectToTemporal,
  createPlatformWorker,
  createTemporalClient,
  createWorkerActivities,
  workflowSourceFor,
} from '@nova/worker';
import type { NovaClient } from '@nova/client';
import { apiClient, listenForClients } from '../support/api-client';
import { sandboxStellarConfig, startStellarFixture, type StellarFixture } from '../support/stellar';
import {
  eventually,
  quietTemporalRuntime,
  required,
  TEST_ADMIN_KEY,
  testApiConfig,
  testWorkerConfig,
  uniqueTaskQueue,
  unreachableStellar,
} from '../support/environment';

quietTemporalRuntime();

// The real app (NestJS + supertest) against the real dev server, PostgreSQL and a real worker.
describe('API end to end', () => {
  const taskQueue = uniqueTaskQueue('e2e-api');
  let app: NestExpressApplication;
  let db: PrismaClient;
  let connection: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  let stellar: StellarFixture;
  let baseUrl: string;
  let anonymous: NovaClient;
  let admin: NovaClient;

  beforeAll(async () => {
    stellar = await startStellarFixture();
    const stellarConfig = sandboxStellarConfig(stellar);
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 2 });
    const workerConfig = testWorkerConfig({ taskQueue, stellar: stellarConfig });
    connection = await connectToTemporal(workerConfig);
    worker = await createPlatformWorker({
      config: workerConfig,
      connection,
      identity: 'e2e-worker',
      workflowSource: workflowSourceFor(workerConfig),
      activities: await createWorkerActivities({
        config: workerConfig,
        db,
        temporal: createTemporalClient(connection, workerConfig),
        identity: 'e2e-worker',
      }),
    });
    workerRun = worker.run();
    app = await createApp(testApiConfig({ taskQueue, stellar: stellarConfig.network }));
    baseUrl = await listenForClients(app);
    anonymous = apiClient(baseUrl);
    admin = apiClient(baseUrl, TEST_ADMIN_KEY);
  });
  afterAll(async () => {
    await app?.close();
    worker?.shutdown();
    await workerRun;
    await connection?.close();
    await db?.$disconnect();
    await stellar?.stop();
  });

  it('GET /health answers while the process lives', async () => {
    const { data, response } = await anonymous.GET('/health');
    assert.equal(response.status, 200);
    assert.deepEqual(data, { status: 'ok' });
  });

  it('GET /health/ready is 200 with every dependency up once the worker polls', async () => {
    const body = await eventually(
      async () => {
        const { data, response } = await anonymous.GET('/health/ready');
        return response.status === 200 ? data : undefined;
      },
      { what: 'readiness 200' },
    );
    assert.equal(body.status, 'ready');
    for (const name of ['database', 'temporal', 'worker', 'stellar'] as const)
      assert.equal(body.checks[name].status, 'up', name);
    assert.match(body.checks.worker.detail ?? '', new RegExp(taskQueue));
  });

  it('GET /health/ready is 503 naming the worker when nobody polls the task queue', async () => {
    const lonely = await createApp(
      testApiConfig({ taskQueue: uniqueTaskQueue('nobody-polls'), stellar: sandboxStellarConfig(stellar).network }),
    );
    try {
      const { error: body, response } = await apiClient(await listenForClients(lonely)).GET('/health/ready');
      assert.equal(response.status, 503);
      assert.equal(body?.status, 'not-ready');
      assert.equal(body?.checks.database.status, 'up');
      assert.equal(body?.checks.temporal.status, 'up');
      assert.equal(body?.checks.stellar.status, 'up');
      assert.equal(body?.checks.worker.status, 'down');
      assert.match(body?.checks.worker.detail ?? '', /no workflow pollers/);
    } finally {
      await lonely.close();
    }
  });

  it('GET /health/ready is 503 naming the database when PostgreSQL is unreachable', async () => {
    const broken = await createApp(testApiConfig({ taskQueue, databaseUrl: 'postgresql://nova@127.0.0.1:1/nova' }));
    try {
      const { error: body, response } = await apiClient(await listenForClients(broken)).GET('/health/ready');
      assert.equal(response.status, 503);
      assert.equal(body?.checks.database.status, 'down');
      assert.ok(body?.checks.database.detail);
    } finally {
      await broken.close();
    }
  });

  it('GET /health/ready is 503 naming Stellar when Horizon is unreachable', async () => {
    const offline = await createApp(testApiConfig({ taskQueue, stellar: unreachableStellar().network }));
    try {
      const { error: body, response } = await apiClient(await listenForClients(offline)).GET('/health/ready');
      assert.equal(response.status, 503);
      assert.equal(body?.checks.stellar.status, 'down');
      assert.equal(body?.checks.database.status, 'up');
    } finally {
      await offline.close();
    }
  });

  it('GET /v1/stellar tells a wallet what it needs, without authentication', async () => {
    const { data, response } = await anonymous.GET('/v1/stellar');
    assert.equal(response.status, 200);
    assert.deepEqual(data, {
      network: 'sandbox',
      networkPassphrase: stellar.sandbox.networkPassphrase,
      horizonUrl: stellar.sandbox.url,
      sorobanRpcUrl: stellar.sandbox.rpcUrl,
      asset: { code: 'NOVA', issuer: stellar.sandbox.asset.issuer },
      distributionAccount: stellar.distribution.publicKey(),
    });
    assert.ok(!JSON.stringify(data).includes(stellar.keys.distribution.secretKey), 'no secret in the answer');
  });

  it('admin routes refuse a missing or wrong key with the one error shape', async () => {
    const missing = await anonymous.POST('/v1/admin/self-checks');
    assert.equal(missing.response.status, 401);
    assert.deepEqual(missing.error, {
      statusCode: 401,
      error: 'Unauthorized',
      message: 'X-API-Key header is required',
    });
    const wrong = await apiClient(baseUrl, 'not-the-key').POST('/v1/admin/self-checks');
    assert.equal(wrong.response.status, 401);
    assert.equal(wrong.error?.message, 'X-API-Key is not a valid admin key');
  });

  it('runs a self-check through Temporal, the worker and PostgreSQL, carrying the request id', async () => {
    const requestId = `req-${randomUUID()}`;
    const started = await admin.POST('/v1/admin/self-checks', { headers: { 'X-Request-Id': requestId } });
    assert.equal(started.response.status, 202);
    assert.equal(started.response.headers.get('x-request-id'), requestId);
    const accepted = started.data!;
    assert.equal(accepted.status, 'started');
    assert.equal(accepted.requestId, requestId);
    assert.equal(accepted.links.self, `/v1/admin/self-checks/${accepted.id}`);
    assert.match(accepted.links.temporalUi, /\/namespaces\/default\/workflows\/self-check%2F/);

    const completed = await eventually(
      async () => {
        const { data, response } = await admin.GET('/v1/admin/self-checks/{id}', {
          params: { path: { id: accepted.id } },
        });
        assert.equal(response.status, 200);
        return data?.status === 'completed' ? data : undefined;
      },
      { what: 'self-check completion' },
    );
    assert.equal(completed.workerIdentity, 'e2e-worker');
    assert.ok(completed.completedAt);

    // Operators find the workflow by the request id that started it.
    const client = new Client({ connection: await Connection.connect({ address: required('TEMPORAL_ADDRESS') }) });
    try {
      const handle = client.workflow.getHandle(accepted.workflowId);
      await handle.result(); // the read model is written by the activity, just before the workflow completes
      const description = await handle.describe();
      assert.equal(description.status.name, 'COMPLETED');
      assert.deepEqual(description.memo, { requestId });
      assert.deepEqual(description.typedSearchAttributes.get(searchAttributes.requestId), requestId);
    } finally {
      await client.connection.close();
    }
  });

  it('a malformed id is a 400 naming the problem; an unknown one a 404', async () => {
    const bad = await admin.GET('/v1/admin/self-checks/{id}', { params: { path: { id: 'not-a-uuid' } } });
    assert.equal(bad.response.status, 400);
    assert.equal(bad.error?.statusCode, 400);
    assert.equal(bad.error?.error, 'Bad Request');
    assert.deepEqual(bad.error?.details, [{ field: 'id', messages: ['id must be a UUID'] }]);
    const unknown = randomUUID();
    const missing = await admin.GET('/v1/admin/self-checks/{id}', { params: { path: { id: unknown } } });
    assert.equal(missing.response.status, 404);
    assert.deepEqual(missing.error, {
      statusCode: 404,
      error: 'Not Found',
      message: `self-check ${unknown} not found`,
    });
  });

  it('an unknown route is a 404 in the same shape', async () => {
    const response = await request(app.getHttpServer()).get('/v1/nothing-here').expect(404);
    assert.equal(response.body.statusCode, 404);
    assert.equal(response.body.error, 'Not Found');
  });

  it('serves the OpenAPI document and the Swagger UI', async () => {
    const json = await request(app.getHttpServer()).get('/docs-json').expect(200);
    assert.equal(json.body.info.title, 'Nova Rewards API');
    for (const path of ['/health', '/health/ready', '/v1/admin/self-checks', '/v1/admin/self-checks/{id}']) {
      assert.ok(json.body.paths[path], `${path} documented`);
    }
    assert.ok(json.body.components.securitySchemes['admin-key']);
    // Webhooks: the routes, and every event type with its payload schema.
    for (const path of [
      '/v1/webhooks/endpoints',
      '/v1/webhooks/endpoints/{id}',
      '/v1/webhooks/endpoints/{id}/rotate-secret',
      '/v1/webhooks/endpoints/{id}/test',
      '/v1/webhooks/deliveries',
      '/v1/webhooks/deliveries/{id}',
      '/v1/webhooks/deliveries/{id}/redeliver',
    ]) {
      assert.ok(json.body.paths[path], `${path} documented`);
    }
    const schemas = json.body.components.schemas as Record<string, { properties: Record<string, { enum?: string[] }> }>;
    for (const [type, schema] of Object.entries({
      'issuance.confirmed': 'IssuanceConfirmedEvent',
      'issuance.failed': 'IssuanceFailedEvent',
      'campaign.synced': 'CampaignSyncedEvent',
      'campaign.sync_failed': 'CampaignSyncFailedEvent',
      'webhook.test': 'WebhookTestEvent',
      'endpoint.disabled': 'EndpointDisabledEvent',
      'vesting.released': 'VestingReleasedEvent',
      'vesting.stalled': 'VestingStalledEvent',
      'vesting.completed': 'VestingCompletedEvent',
      'vesting.revoked': 'VestingRevokedEvent',
      'reconciliation.mismatch': 'ReconciliationMismatchEvent',
    })) {
      assert.deepEqual(schemas[schema]?.properties.type?.enum, [type], `${schema} documents ${type}`);
      assert.ok(schemas[schema]?.properties.data, `${schema} has its data`);
    }
    const ui = await request(app.getHttpServer()).get('/docs').expect(200);
    assert.match(ui.text, /swagger-ui/i);
  });
});
