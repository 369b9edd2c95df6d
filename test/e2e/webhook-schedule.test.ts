// Calls the API through the typed client (@nova/client).
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { WEBHOOK_MAX_ATTEMPTS, webhookRetryDelaySeconds } from '@nova/domain';
import { createPlatformWorkers, createWorkerActivities, workflowSourceFor } from '@nova/worker';
import {
  eventually,
  quietTemporalRuntime,
  TEST_ADMIN_KEY,
  testApiConfig,
  testWorkerConfig,
  uniqueTaskQueue,
} from '../support/environment';
import type { NovaClient } from '@nova/client';
import { apiClient, expectStatus, idempotencyKey, listenForClients } from '../support/api-client';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTimeSkippingEnvironment } from '../support/time-skipping';
import { WebhookReceiver } from '../support/webhook-receiver';

quietTemporalRuntime();

// The whole retry schedule (about 3 days) with the real activities, API and receiver, on the
// time-skipping test server: Temporal skips the timers while the test waits for a result.
describe('webhook retry schedule end to end (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestExpressApplication;
  let workers: Worker[];
  let workersRun: Promise<unknown>;
  const receiver = new WebhookReceiver();
  const taskQueue = uniqueTaskQueue('e2e-webhook-schedule');
  let merchant: NovaClient;

  beforeAll(async () => {
    await receiver.start();
    env = await createTimeSkippingEnvironment();
    database = await createTestDatabase('e2e_webhook_schedule');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 4 });
    const base = testWorkerConfig({ taskQueue, databaseUrl: database.url, webhookAllowedHosts: '127.0.0.1' });
    const config = { ...base, temporal: { ...base.temporal, address: env.address } };
    workers = await createPlatformWorkers({
      config,
      connection: env.nativeConnection,
      identity: 'e2e-webhook-schedule',
      workflowSource: workflowSourceFor(config),
      activities: await createWorkerActivities({ config, db, temporal: env.client, identity: 'e2e-webhook-schedule' }),
    });
    workersRun = Promise.all(workers.map((worker) => worker.run()));
    const api = testApiConfig({ taskQueue, databaseUrl: database.url, webhookAllowedHosts: '127.0.0.1' });
    app = await createApp({ ...api, temporal: { ...api.temporal, address: env.address } });
    const baseUrl = await listenForClients(app);
    const created = await expectStatus(
      apiClient(baseUrl, TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: 'Down' } }),
      201,
    );
    merchant = apiClient(baseUrl, created.data!.apiKey.key);
  });
  afterAll(async () => {
    await app?.close();
    for (const worker of workers ?? []) worker.shutdown();
    await workersRun;
    await db?.$disconnect();
    await database?.drop();
    await env?.teardown();
    await receiver.stop();
  });

  const delivery = (id: string) => merchant.GET('/v1/webhooks/deliveries/{id}', { params: { path: { id } } });

  it('retries for about 3 days, fails RetriesExhausted, and a redelivery then delivers the same event', async () => {
    receiver.answer('/down', { status: 503, body: 'maintenance' });
    const endpoint = (
      await expectStatus(
        merchant.POST('/v1/webhooks/endpoints', {
          params: idempotencyKey(),
          body: { url: receiver.url('/down'), events: ['*'] },
        }),
        201,
      )
    ).data!;
    const { deliveryId, eventId } = (
      await expectStatus(
        merchant.POST('/v1/webhooks/endpoints/{id}/test', {
          params: { ...idempotencyKey(), path: { id: endpoint.id } },
        }),
        202,
      )
    ).data!;
    const row = await eventually(
      async () => (await db.webhookDelivery.findUnique({ where: { id: deliveryId } })) ?? undefined,
      {
        what: 'the delivery row',
      },
    );
    const handle = env.client.workflow.getHandle(row.workflowId);
    const outcome = await handle.result();
    assert.deepEqual(outcome, { status: 'failed', attempts: WEBHOOK_MAX_ATTEMPTS, failureType: 'RetriesExhausted' });
    const description = await handle.describe();
    // The schedule's waits, each with this delivery's jitter: about 3 days and 4 hours, +/- 10%.
    let plannedSeconds = 0;
    for (let attempt = 1; attempt < WEBHOOK_MAX_ATTEMPTS; attempt++) {
      plannedSeconds += webhookRetryDelaySeconds(attempt, `${deliveryId}/1`)!;
    }
    const tookSeconds = (description.closeTime!.getTime() - description.startTime.getTime()) / 1000;
    assert.ok(plannedSeconds > 2.8 * 86_400 && plannedSeconds < 3.5 * 86_400, `planned ${plannedSeconds} s`);
    assert.ok(
      tookSeconds >= plannedSeconds && tookSeconds < plannedSeconds + 60,
      `the schedule took ${tookSeconds} s, planned ${plannedSeconds} s`,
    );

    const failed = (await expectStatus(delivery(deliveryId), 200)).data!;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failure?.type, 'RetriesExhausted');
    assert.match(failed.failure?.reason ?? '', /503/);
    assert.equal(failed.attempts.length, WEBHOOK_MAX_ATTEMPTS);
    const listed = await expectStatus(
      merchant.GET('/v1/webhooks/deliveries', { params: { query: { status: 'failed' } } }),
      200,
    );
    assert.deepEqual(
      listed.data!.data.map((d) => d.id),
      [deliveryId],
    );

    receiver.answer('/down', { status: 200 });
    await expectStatus(
      merchant.POST('/v1/webhooks/deliveries/{id}/redeliver', {
        params: { ...idempotencyKey(), path: { id: deliveryId } },
      }),
      202,
    );
    const second = await eventually(
      async () => {
        const got = await handle.describe();
        return got.runId !== description.runId ? got : undefined;
      },
      { what: 'the redelivery run' },
    );
    assert.deepEqual(await env.client.workflow.getHandle(row.workflowId, second.runId).result(), {
      status: 'succeeded',
      attempts: 1,
    });
    const delivered = (await expectStatus(delivery(deliveryId), 200)).data!;
    assert.equal(delivered.status, 'succeeded');
    assert.equal(delivered.run, 2);
    const requests = receiver.on('/down');
    assert.equal(requests.length, WEBHOOK_MAX_ATTEMPTS + 1);
    assert.ok(requests.every((r) => r.headers['webhook-id'] === eventId));
  });
});
