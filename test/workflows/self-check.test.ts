import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { selfCheckWorkflowId } from '@nova/domain';
import type { SelfCheckActivities, SelfCheckInput } from '@nova/activities';
import { quietTemporalRuntime, required, uniqueTaskQueue } from '../support/environment';

quietTemporalRuntime();

// Workflow tests run on the time-skipping test server with activities mocked by type.
describe('selfCheckWorkflow (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: required('TEMPORAL_TEST_SERVER_PATH') } },
    });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  async function runWith(activities: SelfCheckActivities, input: SelfCheckInput) {
    const taskQueue = uniqueTaskQueue('self-check-wf');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('@nova/workflows'),
      activities,
    });
    return await worker.runUntil(
      env.client.workflow.execute('selfCheckWorkflow', {
        workflowId: selfCheckWorkflowId(input.selfCheckId),
        taskQueue,
        args: [input],
      }),
    );
  }

  it('returns what the completion activity recorded', async () => {
    const seen: SelfCheckInput[] = [];
    const result = await runWith(
      {
        async completeSelfCheck(input) {
          seen.push(input);
          return {
            selfCheckId: input.selfCheckId,
            status: 'completed',
            workerIdentity: 'w1',
            completedAt: '2026-01-01T00:00:00.000Z',
          };
        },
      },
      { selfCheckId: 'a1' },
    );
    assert.deepEqual(seen, [{ selfCheckId: 'a1' }]);
    assert.equal(result.workerIdentity, 'w1');
  });

  it('retries a failing database write until it succeeds', async () => {
    let attempts = 0;
    const result = await runWith(
      {
        async completeSelfCheck(input) {
          attempts += 1;
          if (attempts < 3) throw new Error('connection reset');
          return {
            selfCheckId: input.selfCheckId,
            status: 'completed',
            workerIdentity: 'w2',
            completedAt: '2026-01-01T00:00:00.000Z',
          };
        },
      },
      { selfCheckId: 'a2' },
    );
    assert.equal(attempts, 3);
    assert.equal(result.status, 'completed');
  });

  it('fails the workflow on a non-retryable activity failure', async () => {
    let attempts = 0;
    await assert.rejects(
      runWith(
        {
          async completeSelfCheck() {
            attempts += 1;
            throw ApplicationFailure.nonRetryable('record vanished', 'SelfCheckMissing');
          },
        },
        { selfCheckId: 'a3' },
      ),
      (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError, String(error));
        return true;
      },
    );
    assert.equal(attempts, 1);
  });
});
