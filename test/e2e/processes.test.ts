import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { Keypair } from '@stellar/stellar-sdk';
import { Client, Connection } from '@temporalio/client';
import { reconcilerScheduleId } from '@nova/workflows/definitions';
import { required } from '../support/environment';
import { createTestDatabase } from '../support/database';
import { spawnCollecting, waitForOutput, withTimeout } from '../support/processes';

const root = resolve(__dirname, '..', '..');
const apiMain = join(root, 'apps', 'api', 'dist', 'main.js');
const workerMain = join(root, 'apps', 'worker', 'dist', 'main.js');

function env(overrides: Record<string, string>): NodeJS.ProcessEnv {
  // No worker metrics server: its default port (9464) is one machine-wide, and other files' workers may hold it.
  return { PATH: process.env.PATH, LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0', ...overrides };
}

describe('process entry points', () => {
  for (const [name, main] of [
    ['API', apiMain],
    ['worker', workerMain],
  ] as const) {
    it(`the ${name} stops at start on DATABASE_URL=nonsense, naming the variable`, async () => {
      const spawned = spawnCollecting(
        process.execPath,
        [main],
        env({ DATABASE_URL: 'nonsense', ADMIN_API_KEY: 'k'.repeat(32) }),
      );
      const code = await withTimeout(spawned.exited, 30_000, `${name} exit`);
      assert.equal(code, 78);
      assert.match(spawned.output(), /Invalid configuration:\n {2}- DATABASE_URL: must be a postgresql:\/\//);
    });
  }

  it('the API names a missing ADMIN_API_KEY', async () => {
    const spawned = spawnCollecting(process.execPath, [apiMain], env({ DATABASE_URL: required('DATABASE_URL') }));
    assert.equal(await withTimeout(spawned.exited, 30_000, 'API exit'), 78);
    assert.match(spawned.output(), /ADMIN_API_KEY: is required/);
  });

  it('the worker creates its reconciler schedule at boot, logs JSON and stops cleanly on SIGTERM', async () => {
    const taskQueue = `proc-${process.pid}`;
    // The reconciler re-drives what its database holds: a database of this test's own.
    const database = await createTestDatabase('e2e_processes');
    const temporal = new Client({ connection: await Connection.connect({ address: required('TEMPORAL_ADDRESS') }) });
    const schedule = temporal.schedule.getHandle(reconcilerScheduleId(taskQueue));
    let spawned: ReturnType<typeof spawnCollecting> | undefined;
    try {
      spawned = spawnCollecting(
        process.execPath,
        [workerMain],
        env({
          DATABASE_URL: database.url,
          TEMPORAL_ADDRESS: required('TEMPORAL_ADDRESS'),
          TEMPORAL_TASK_QUEUE: taskQueue,
          NOVA_ASSET_ISSUER: Keypair.random().publicKey(),
          DISTRIBUTION_SECRET: Keypair.random().secret(),
          CHANNEL_SECRETS: Keypair.random().secret(),
          CHANNEL_POOL_SIZE: '1',
          WORKER_SHUTDOWN_GRACE_SECONDS: '5',
          // No metrics server: test files run two at a time, and another one's worker may hold 9464.
          WORKER_METRICS_PORT: '0',
          RECONCILE_EVERY_SECONDS: '30',
          RECONCILE_AFTER_SECONDS: '20',
        }),
      );
      await waitForOutput(spawned, /"msg":"worker started"/, 60_000);
      const started = spawned
        .output()
        .split('\n')
        .find((line) => line.includes('worker started'));
      const entry = JSON.parse(started ?? '{}');
      assert.equal(entry.service, 'nova-worker');
      assert.equal(entry.taskQueue, taskQueue);
      assert.deepEqual(entry.polling, [taskQueue, `${taskQueue}-webhooks`], 'both task queues by default');
      assert.equal(entry.reconcilerSchedule, reconcilerScheduleId(taskQueue));

      const description = await schedule.describe();
      assert.deepEqual(
        description.spec.intervals?.map((interval) => interval.every),
        [30_000],
      );
      assert.equal(description.policies.overlap, 'SKIP');
      assert.equal(description.action.type, 'startWorkflow');
      assert.equal(description.action.workflowType, 'reconcilerWorkflow');
      assert.equal(description.action.taskQueue, taskQueue);
      assert.deepEqual(description.action.args, [{ afterSeconds: 20 }]);

      spawned.child.kill('SIGTERM');
      assert.equal(await withTimeout(spawned.exited, 30_000, 'worker exit'), 0);
      assert.match(spawned.output(), /"msg":"worker stopped"/);
      assert.ok(!spawned.output().includes('"secret'), 'no secret key reaches the log');
    } finally {
      // A failed assertion must not leave the worker running (the test run would never end).
      if (spawned && spawned.child.exitCode === null) spawned.child.kill('SIGKILL');
      await schedule.delete().catch(() => undefined);
      await temporal.connection.close();
      await database.drop();
    }
  });
});
