/**
 * Records the histories that replay.test.ts replays. Run after adding a workflow or a
 * branch worth pinning (never to "fix" a failing replay: that failure is the point):
 *
 *   TEMPORAL_TEST_SERVER_PATH=.tools/venv/bin/temporal-test-server \
 *     node test/dist/replay/record-histories.js
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { SelfCheckActivities } from '@nova/activities';
import { selfCheckWorkflowId } from '@nova/workflows/definitions';
import { historiesDir } from './histories';
import { required } from '../support/environment';

async function main(): Promise<void> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: required('TEMPORAL_TEST_SERVER_PATH') } },
  });
  try {
    let failures = 0;
    const activities: SelfCheckActivities = {
      async completeSelfCheck(input) {
        // One transient failure, so the history pins the retry path too.
        if (failures++ === 0) throw new Error('transient database error');
        return {
          selfCheckId: input.selfCheckId,
          status: 'completed',
          workerIdentity: 'recorder',
          completedAt: '2026-11-21T00:00:00.000Z',
        };
      },
    };
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'record-histories',
      workflowsPath: require.resolve('@nova/workflows'),
      activities,
    });
    const workflowId = selfCheckWorkflowId('00000000-0000-4000-8000-000000000001');
    await worker.runUntil(
      env.client.workflow.execute('selfCheckWorkflow', {
        workflowId,
        taskQueue: 'record-histories',
        args: [{ selfCheckId: '00000000-0000-4000-8000-000000000001' }],
      }),
    );
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const file = join(historiesDir, 'self-check.completed-after-retry.json');
    writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 2) + '\n');
    console.log(`wrote ${file}`);
  } finally {
    await env.teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
