import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { WORKFLOW_INTERCEPTOR_MODULES } from '@nova/worker';
import { quietTemporalRuntime } from '../support/environment';

quietTemporalRuntime();
import { loadHistories } from './histories';

async function replayAll(workflowsPath: string, workflowModules: string[] = []) {
  const histories = loadHistories();
  const results = [];
  for await (const result of Worker.runReplayHistories(
    { workflowsPath, replayName: 'nova-replay-test', interceptors: { workflowModules } },
    histories.map(({ workflowId, history }) => ({ workflowId, history })),
  )) {
    results.push(result);
  }
  return { histories, results };
}

// Every history recorded from a past version must replay on today's workflow code: a
// DeterminismViolationError here means a change would break workflows already running.
describe('workflow history replay', () => {
  it('replays every stored history on the current workflow code', async () => {
    const { histories, results } = await replayAll(require.resolve('@nova/workflows'));
    assert.ok(histories.length > 0, 'test/histories holds no histories');
    assert.equal(results.length, histories.length);
    for (const result of results) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
    }
  });

  it('replays them with the tracing interceptors the production bundle carries', async () => {
    const { histories, results } = await replayAll(require.resolve('@nova/workflows'), WORKFLOW_INTERCEPTOR_MODULES);
    assert.equal(results.length, histories.length);
    for (const result of results) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
    }
  });

  it('catches a non-deterministic change (the harness can fail)', async () => {
    // A version of selfCheckWorkflow that schedules a different activity than history recorded.
    const { results } = await replayAll(require.resolve('./fixtures/changed-workflows'));
    const selfChecks = results.filter((r) => r.workflowId.startsWith('self-check'));
    assert.ok(selfChecks.length > 0);
    for (const result of selfChecks) {
      assert.ok(result.error instanceof DeterminismViolationError, `${result.workflowId} replayed without a violation`);
    }
  });
});
