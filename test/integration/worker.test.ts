import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { selfCheckWorkflowId } from '@nova/domain';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import {
  connectToTemporal,
  createPlatformWorker,
  createTemporalClient,
  createWorkerActivities,
  ensureReconciler,
  ensureReconciliation,
  workflowSourceFor,
} from '@nova/worker';
import { quietTemporalRuntime, required, testWorkerConfig, uniqueTaskQueue } from '../support/environment';

quietTemporalRuntime();

// The real path: a real dev server, the production workflow bundle, real activities on PostgreSQL.
describe('worker on the real Temporal dev server', () => {
  let db: PrismaClient;
  let connection: NativeConnection;
  let client: Client;

  beforeAll(async () => {
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 2 });
    connection = await connectToTemporal(testWorkerConfig({ taskQueue: 'unused' }));
    client = new Client({ connection: await Connection.connect({ address: required('TEMPORAL_ADDRESS') }) });
  });
  afterAll(async () => {
    await client?.connection.close();
    await connection?.close();
    await db?.$disconnect();
  });

  it('production mode loads the prebuilt workflow bundle', () => {
    const source = workflowSourceFor({ ...testWorkerConfig({ taskQueue: 'unused' }), nodeEnv: 'production' });
    assert.ok('bundlePath' in source);
    assert.ok(existsSync(source.bundlePath), `${source.bundlePath} missing: the build step makes it`);
    const development = workflowSourceFor(testWorkerConfig({ taskQueue: 'unused' }));
    assert.ok('workflowsPath' in development);
  });

  it('runs a self-check workflow through the real activity path', async () => {
    const config = { ...testWorkerConfig({ taskQueue: uniqueTaskQueue('it-worker') }), nodeEnv: 'production' as const };
    const worker = await createPlatformWorker({
      config,
      connection,
      identity: 'it-worker',
      workflowSource: workflowSourceFor(config),
      activities: await createWorkerActivities({
        config: config,
        db,
        temporal: createTemporalClient(connection, config),
        identity: 'it-worker',
      }),
    });
    const id = randomUUID();
    await db.selfCheck.create({ data: { id, workflowId: selfCheckWorkflowId(id) } });

    const outcome = await worker.runUntil(
      client.workflow.execute('selfCheckWorkflow', {
        workflowId: selfCheckWorkflowId(id),
        taskQueue: config.temporal.taskQueue,
        args: [{ selfCheckId: id }],
      }),
    );

    assert.equal(outcome.status, 'completed');
    const row = await db.selfCheck.findUniqueOrThrow({ where: { id } });
    assert.equal(row.status, 'completed');
    assert.equal(row.workerIdentity, 'it-worker');
  });

  it('a second start of the same business id never creates a second run', async () => {
    const taskQueue = uniqueTaskQueue('it-dup');
    const workflowId = selfCheckWorkflowId(randomUUID());
    await client.workflow.start('selfCheckWorkflow', { workflowId, taskQueue, args: [{ selfCheckId: 'x' }] });
    await assert.rejects(
      client.workflow.start('selfCheckWorkflow', { workflowId, taskQueue, args: [{ selfCheckId: 'x' }] }),
      { name: 'WorkflowExecutionAlreadyStartedError' },
    );
    await client.workflow.getHandle(workflowId).terminate('test cleanup');
  });

  it('on shutdown lets a running activity finish within the grace period', async () => {
    const config = testWorkerConfig({ taskQueue: uniqueTaskQueue('it-grace'), shutdownGraceSeconds: 20 });
    let release: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (release = resolve));
    const finished: string[] = [];
    const worker = await createPlatformWorker({
      config,
      connection,
      identity: 'it-grace',
      workflowSource: workflowSourceFor(config),
      activities: {
        async completeSelfCheck(input: { selfCheckId: string }) {
          release();
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          finished.push(input.selfCheckId);
          return {
            selfCheckId: input.selfCheckId,
            status: 'completed',
            workerIdentity: 'it-grace',
            completedAt: new Date().toISOString(),
          };
        },
      },
    });
    const running = worker.run();
    const id = randomUUID();
    const handle = await client.workflow.start('selfCheckWorkflow', {
      workflowId: selfCheckWorkflowId(id),
      taskQueue: config.temporal.taskQueue,
      args: [{ selfCheckId: id }],
    });
    await started;
    worker.shutdown(); // what SIGTERM triggers
    await running;
    assert.deepEqual(finished, [id], 'the in-flight activity ran to completion before the worker stopped');
    // The activity's result reached the server: a new worker can finish the workflow at once.
    const next = await createPlatformWorker({
      config,
      connection,
      identity: 'it-grace-2',
      workflowSource: workflowSourceFor(config),
      activities: {
        async completeSelfCheck() {
          throw new Error('must not run again');
        },
      },
    });
    const outcome = await next.runUntil(handle.result());
    assert.equal(outcome.workerIdentity, 'it-grace');
  });

  it('the reconciler schedule is created once and brought up to date at every boot, staying paused if an operator paused it', async () => {
    const config = testWorkerConfig({
      taskQueue: uniqueTaskQueue('it-schedule'),
      reconciler: { everySeconds: 60, afterSeconds: 30 },
    });
    const first = await ensureReconciler(client, config);
    assert.equal(first.outcome, 'created');
    const schedule = client.schedule.getHandle(first.scheduleId);
    try {
      await schedule.pause('operator: maintenance');
      const again = await ensureReconciler(client, { ...config, reconciler: { everySeconds: 120, afterSeconds: 15 } });
      assert.deepEqual(again, { scheduleId: first.scheduleId, outcome: 'updated' });
      const description = await schedule.describe();
      assert.deepEqual(
        description.spec.intervals?.map((interval) => interval.every),
        [120_000],
      );
      assert.ok(description.action.type === 'startWorkflow');
      assert.deepEqual(description.action.args, [{ afterSeconds: 15 }]);
      assert.equal(description.state.paused, true, "the operator's pause stands");
    } finally {
      await schedule.delete();
    }
  });

  it("the chain reconciliation's schedule is kept at boot like the reconciler's: daily cron by default, its window and lag as configured", async () => {
    const config = testWorkerConfig({ taskQueue: uniqueTaskQueue('it-reconciliation') });
    const first = await ensureReconciliation(client, config);
    assert.deepEqual(first, { scheduleId: `nova-reconciliation/${config.temporal.taskQueue}`, outcome: 'created' });
    const schedule = client.schedule.getHandle(first.scheduleId);
    try {
      let description = await schedule.describe();
      assert.ok(description.action.type === 'startWorkflow');
      assert.equal(description.action.workflowType, 'chainReconciliationWorkflow');
      assert.deepEqual(description.action.args, [{ trigger: 'schedule', windowSeconds: 86_400, lagSeconds: 600 }]);
      assert.ok(JSON.stringify(description.spec).includes('"hour":[{"start":3'), JSON.stringify(description.spec));
      await schedule.pause('operator: investigating a mismatch');
      const again = await ensureReconciliation(client, {
        ...config,
        reconciliation: { schedule: { everySeconds: 21_600 }, windowSeconds: 21_600, lagSeconds: 0 },
      });
      assert.deepEqual(again, { scheduleId: first.scheduleId, outcome: 'updated' });
      description = await schedule.describe();
      assert.deepEqual(
        description.spec.intervals?.map((interval) => interval.every),
        [21_600_000],
      );
      assert.ok(description.action.type === 'startWorkflow');
      assert.deepEqual(description.action.args, [{ trigger: 'schedule', windowSeconds: 21_600, lagSeconds: 0 }]);
      assert.equal(description.state.paused, true, "the operator's pause stands");
    } finally {
      await schedule.delete();
    }
  });
});
