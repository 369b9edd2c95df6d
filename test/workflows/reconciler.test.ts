import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ReconcileBatch, ReconcileBatchInput, ReconcilerActivities } from '@nova/activities';
import { reconcilerWorkflowType, type ReconcilerInput, type ReconcilerOutcome } from '@nova/workflows/definitions';
import { quietTemporalRuntime, uniqueTaskQueue } from '../support/environment';
import { createTimeSkippingEnvironment } from '../support/time-skipping';

quietTemporalRuntime();

type Step = keyof ReconcilerActivities;

/** Activities typed as the real ones: each step answers batches from a script and records its inputs. */
function mockSteps(scripts: Partial<Record<Step, ((input: ReconcileBatchInput) => ReconcileBatch)[]>>) {
  const calls: { step: Step; input: ReconcileBatchInput }[] = [];
  const step =
    (name: Step) =>
    async (input: ReconcileBatchInput): Promise<ReconcileBatch> => {
      calls.push({ step: name, input });
      const answer = scripts[name]?.[calls.filter((c) => c.step === name).length - 1];
      return answer ? answer(input) : { seen: 0, redriven: 0, alreadyTaken: 0, failed: 0 };
    };
  const activities: ReconcilerActivities = {
    reconcileIssuanceStarts: step('reconcileIssuanceStarts'),
    reconcileCampaignChanges: step('reconcileCampaignChanges'),
    reconcileRedemptionStarts: step('reconcileRedemptionStarts'),
    reconcileVestingStarts: step('reconcileVestingStarts'),
    reconcileReconciliationStarts: step('reconcileReconciliationStarts'),
    relayOutboxEvents: step('relayOutboxEvents'),
    reconcileWebhookDeliveryStarts: step('reconcileWebhookDeliveryStarts'),
  };
  return { activities, calls };
}

const batch = (counts: Partial<ReconcileBatch>) => (): ReconcileBatch => ({
  seen: 0,
  redriven: 0,
  alreadyTaken: 0,
  failed: 0,
  ...counts,
});

describe('reconcilerWorkflow (time-skipping server, mocked activities)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  async function run(activities: ReconcilerActivities, input: ReconcilerInput): Promise<ReconcilerOutcome> {
    const taskQueue = uniqueTaskQueue('reconciler-wf');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('@nova/workflows'),
      activities,
    });
    return await worker.runUntil(
      env.client.workflow.execute(reconcilerWorkflowType, {
        workflowId: `nova-reconciler/${taskQueue}`,
        taskQueue,
        args: [input],
      }),
    );
  }

  it('runs every step once when nothing more is due, with the threshold and batch size', async () => {
    const mock = mockSteps({
      reconcileIssuanceStarts: [batch({ seen: 2, redriven: 1, alreadyTaken: 1 })],
      reconcileCampaignChanges: [batch({ seen: 1, redriven: 1 })],
      reconcileRedemptionStarts: [batch({ seen: 2, alreadyTaken: 2 })],
      reconcileVestingStarts: [batch({ seen: 3, redriven: 2, failed: 1 })],
      reconcileReconciliationStarts: [batch({ seen: 1, redriven: 1 })],
      relayOutboxEvents: [batch({ seen: 4, redriven: 3, failed: 1 })],
      reconcileWebhookDeliveryStarts: [batch({ seen: 1, redriven: 1 })],
    });
    const outcome = await run(mock.activities, { afterSeconds: 7, batchSize: 50 });
    assert.deepEqual(outcome, {
      steps: {
        issuanceStarts: { seen: 2, redriven: 1, alreadyTaken: 1, failed: 0 },
        campaignChanges: { seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 },
        redemptionStarts: { seen: 2, redriven: 0, alreadyTaken: 2, failed: 0 },
        vestingStarts: { seen: 3, redriven: 2, alreadyTaken: 0, failed: 1 },
        reconciliationStarts: { seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 },
        outboxEvents: { seen: 4, redriven: 3, alreadyTaken: 0, failed: 1 },
        webhookDeliveryStarts: { seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 },
      },
    });
    assert.deepEqual(mock.calls, [
      { step: 'reconcileIssuanceStarts', input: { afterSeconds: 7, batchSize: 50 } },
      { step: 'reconcileCampaignChanges', input: { afterSeconds: 7, batchSize: 50 } },
      { step: 'reconcileRedemptionStarts', input: { afterSeconds: 7, batchSize: 50 } },
      { step: 'reconcileVestingStarts', input: { afterSeconds: 7, batchSize: 50 } },
      { step: 'reconcileReconciliationStarts', input: { afterSeconds: 7, batchSize: 50 } },
      { step: 'relayOutboxEvents', input: { afterSeconds: 7, batchSize: 50 } },
      { step: 'reconcileWebhookDeliveryStarts', input: { afterSeconds: 7, batchSize: 50 } },
    ]);
  });

  it('takes batch after batch from the cursor each returns, up to maxBatches; the rest is the next run’s', async () => {
    const full = (next: string) => batch({ seen: 2, redriven: 2, next });
    const mock = mockSteps({
      reconcileIssuanceStarts: [full('a'), full('b'), batch({ seen: 1, failed: 1 })],
      reconcileCampaignChanges: [full('x'), full('y'), full('z'), full('never asked for')],
    });
    const outcome = await run(mock.activities, { afterSeconds: 10, batchSize: 2, maxBatches: 3 });
    assert.deepEqual(
      mock.calls.map((c) => [c.step, c.input.cursor]),
      [
        ['reconcileIssuanceStarts', undefined],
        ['reconcileIssuanceStarts', 'a'],
        ['reconcileIssuanceStarts', 'b'],
        ['reconcileCampaignChanges', undefined],
        ['reconcileCampaignChanges', 'x'],
        ['reconcileCampaignChanges', 'y'],
        ['reconcileRedemptionStarts', undefined],
        ['reconcileVestingStarts', undefined],
        ['reconcileReconciliationStarts', undefined],
        ['relayOutboxEvents', undefined],
        ['reconcileWebhookDeliveryStarts', undefined],
      ],
    );
    assert.deepEqual(outcome.steps.issuanceStarts, { seen: 5, redriven: 4, alreadyTaken: 0, failed: 1 });
    assert.deepEqual(outcome.steps.campaignChanges, { seen: 6, redriven: 6, alreadyTaken: 0, failed: 0 });
  });

  it('a step that fails does not stop the next one; the run then fails naming it', async () => {
    const mock = mockSteps({
      reconcileIssuanceStarts: [
        () => {
          throw ApplicationFailure.nonRetryable('database unreachable', 'DatabaseUnavailable');
        },
      ],
      reconcileCampaignChanges: [batch({ seen: 3, redriven: 3 })],
    });
    const failure = await run(mock.activities, { afterSeconds: 10 }).then(
      () => assert.fail('the run must fail'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof WorkflowFailedError, String(failure));
    assert.ok(failure.cause instanceof ApplicationFailure);
    assert.equal(failure.cause.type, 'ReconcilerStepFailed');
    assert.match(failure.cause.message, /^reconciler steps failed: issuanceStarts: /);
    assert.deepEqual(failure.cause.details, [
      {
        steps: {
          issuanceStarts: { seen: 0, redriven: 0, alreadyTaken: 0, failed: 0 },
          campaignChanges: { seen: 3, redriven: 3, alreadyTaken: 0, failed: 0 },
          redemptionStarts: { seen: 0, redriven: 0, alreadyTaken: 0, failed: 0 },
          vestingStarts: { seen: 0, redriven: 0, alreadyTaken: 0, failed: 0 },
          reconciliationStarts: { seen: 0, redriven: 0, alreadyTaken: 0, failed: 0 },
          outboxEvents: { seen: 0, redriven: 0, alreadyTaken: 0, failed: 0 },
          webhookDeliveryStarts: { seen: 0, redriven: 0, alreadyTaken: 0, failed: 0 },
        },
      },
    ]);
    assert.deepEqual(
      mock.calls.map((c) => c.step),
      [
        'reconcileIssuanceStarts',
        'reconcileCampaignChanges',
        'reconcileRedemptionStarts',
        'reconcileVestingStarts',
        'reconcileReconciliationStarts',
        'relayOutboxEvents',
        'reconcileWebhookDeliveryStarts',
      ],
    );
  });

  it('retries a step that fails transiently within its profile (a few attempts)', async () => {
    let attempts = 0;
    const mock = mockSteps({});
    mock.activities.reconcileIssuanceStarts = async () => {
      attempts += 1;
      if (attempts < 3) throw new Error('connection reset');
      return { seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 };
    };
    const outcome = await run(mock.activities, { afterSeconds: 10 });
    assert.equal(attempts, 3);
    assert.deepEqual(outcome.steps.issuanceStarts, { seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 });
  });
});
