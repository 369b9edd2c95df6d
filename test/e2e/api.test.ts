import { after, before, describe, it } from 'node:test';
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

  before(async () => {
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
    await app.init();
  });
  after(async () => {
    await app?.close();
    worker?.shutdown();
    await workerRun;
    await connection?.close();
    await db?.$disconnect();
    await stellar?.stop();
  });

  it('GET /health answers while the process lives', async () => {
    const response = await request(app.getHttpServer()).get('/health').expect(200);
    assert.deepEqual(response.body, { status: 'ok' });
  });

  it('GET /health/ready is 200 with every dependency up once the worker polls', async () => {
    const body = await eventually(
      async () => {
        const response = await request(app.getHttpServer()).get('/health/ready');
        return response.status === 200 ? response.body : undefined;
      },
      { what: 'readiness 200' },
    );
    assert.equal(body.status, 'ready');
    for (const name of ['database', 'temporal', 'worker', 'stellar'])
      assert.equal(body.checks[name].status, 'up', name);
    assert.match(body.checks.worker.detail, new RegExp(taskQueue));
  });

  it('GET /health/ready is 503 naming the worker when nobody polls the task queue', async () => {
    const lonely = await createApp(
      testApiConfig({ taskQueue: uniqueTaskQueue('nobody-polls'), stellar: sandboxStellarConfig(stellar).network }),
    );
    await lonely.init();
    try {
      const response = await request(lonely.getHttpServer()).get('/health/ready').expect(503);
      assert.equal(response.body.status, 'not-ready');
      assert.equal(response.body.checks.database.status, 'up');
      assert.equal(response.body.checks.temporal.status, 'up');
      assert.equal(response.body.checks.stellar.status, 'up');
      assert.equal(response.body.checks.worker.status, 'down');
      assert.match(response.body.checks.worker.detail, /no workflow pollers/);
    } finally {
      await lonely.close();
    }
  });

  it('GET /health/ready is 503 naming the database when PostgreSQL is unreachable', async () => {
    const broken = await createApp(testApiConfig({ taskQueue, databaseUrl: 'postgresql://nova@127.0.0.1:1/nova' }));
    await broken.init();
    try {
      const response = await request(broken.getHttpServer()).get('/health/ready').expect(503);
      assert.equal(response.body.checks.database.status, 'down');
      assert.ok(response.body.checks.database.detail);
    } finally {
      await broken.close();
    }
  });

  it('GET /health/ready is 503 naming Stellar when Horizon is unreachable', async () => {
    const offline = await createApp(testApiConfig({ taskQueue, stellar: unreachableStellar().network }));
    await offline.init();
    try {
      const response = await request(offline.getHttpServer()).get('/health/ready').expect(503);
      assert.equal(response.body.checks.stellar.status, 'down');
      assert.equal(response.body.checks.database.status, 'up');
    } finally {
      await offline.close();
    }
  });

  it('GET /v1/stellar tells a wallet what it needs, without authentication', async () => {
    const response = await request(app.getHttpServer()).get('/v1/stellar').expect(200);
    assert.deepEqual(response.body, {
      network: 'sandbox',
      networkPassphrase: stellar.sandbox.networkPassphrase,
      horizonUrl: stellar.sandbox.url,
      sorobanRpcUrl: stellar.sandbox.rpcUrl,
      asset: { code: 'NOVA', issuer: stellar.sandbox.asset.issuer },
      distributionAccount: stellar.distribution.publicKey(),
    });
    assert.ok(!JSON.stringify(response.body).includes(stellar.keys.distribution.secretKey), 'no secret in the answer');
  });

  it('admin routes refuse a missing or wrong key with the one error shape', async () => {
    const missing = await request(app.getHttpServer()).post('/v1/admin/self-checks').expect(401);
    assert.deepEqual(missing.body, { statusCode: 401, error: 'Unauthorized', message: 'X-API-Key header is required' });
    const wrong = await request(app.getHttpServer())
      .post('/v1/admin/self-checks')
      .set('X-API-Key', 'not-the-key')
      .expect(401);
    assert.equal(wrong.body.message, 'X-API-Key is not a valid admin key');
  });

  it('runs a self-check through Temporal, the worker and PostgreSQL, carrying the request id', async () => {
    const requestId = `req-${randomUUID()}`;
    const accepted = await request(app.getHttpServer())
      .post('/v1/admin/self-checks')
      .set('X-API-Key', TEST_ADMIN_KEY)
      .set('X-Request-Id', requestId)
      .expect(202);
    assert.equal(accepted.headers['x-request-id'], requestId);
    assert.equal(accepted.body.status, 'started');
    assert.equal(accepted.body.requestId, requestId);
    assert.equal(accepted.body.links.self, `/v1/admin/self-checks/${accepted.body.id}`);
    assert.match(accepted.body.links.temporalUi, /\/namespaces\/default\/workflows\/self-check%2F/);

    const completed = await eventually(
      async () => {
        const response = await request(app.getHttpServer())
          .get(accepted.body.links.self)
          .set('X-API-Key', TEST_ADMIN_KEY)
          .expect(200);
        return response.body.status === 'completed' ? response.body : undefined;
      },
      { what: 'self-check completion' },
    );
    assert.equal(completed.workerIdentity, 'e2e-worker');
    assert.ok(completed.completedAt);

    // Operators find the workflow by the request id that started it.
    const client = new Client({ connection: await Connection.connect({ address: required('TEMPORAL_ADDRESS') }) });
    try {
      const handle = client.workflow.getHandle(accepted.body.workflowId);
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
    const bad = await request(app.getHttpServer())
      .get('/v1/admin/self-checks/not-a-uuid')
      .set('X-API-Key', TEST_ADMIN_KEY)
      .expect(400);
    assert.equal(bad.body.statusCode, 400);
    assert.equal(bad.body.error, 'Bad Request');
    assert.deepEqual(bad.body.details, [{ field: 'id', messages: ['id must be a UUID'] }]);
    const unknown = randomUUID();
    const missing = await request(app.getHttpServer())
      .get(`/v1/admin/self-checks/${unknown}`)
      .set('X-API-Key', TEST_ADMIN_KEY)
      .expect(404);
    assert.deepEqual(missing.body, { statusCode: 404, error: 'Not Found', message: `self-check ${unknown} not found` });
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
