import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import type { WebhookAttemptInput, WebhookAttemptVerdict, WebhookDeliveryActivities } from '@nova/activities';
import {
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_RETRY_SCHEDULE_SECONDS,
  webhookDeliveryWorkflowId,
  webhookRetryDelaySeconds,
} from '@nova/domain';
import { searchAttributes, type WebhookDeliveryWorkflowInput } from '@nova/workflows/definitions';
import { quietTemporalRuntime, uniqueTaskQueue } from '../support/environment';
import { createTimeSkippingEnvironment } from '../support/time-skipping';

quietTemporalRuntime();

/** What the mocked attempt activity saw, with the (skipped) workflow time of each call. */
interface SeenAttempt extends WebhookAttemptInput {
  at: number;
}

// The delivery schedule on the time-skipping server, with the attempt activity mocked by its real type.
describe('webhookDeliveryWorkflow (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  let counter = 0;
  async function deliver(answer: (input: WebhookAttemptInput, call: number) => WebhookAttemptVerdict) {
    const taskQueue = uniqueTaskQueue('webhook-wf');
    const seen: SeenAttempt[] = [];
    const activities: WebhookDeliveryActivities = {
      async attemptWebhookDelivery(input) {
        // The server's (skipped) time: when Temporal scheduled this attempt.
        seen.push({ ...input, at: Context.current().info.currentAttemptScheduledTimestampMs });
        return answer(input, seen.length);
      },
    };
    counter += 1;
    const input: WebhookDeliveryWorkflowInput = {
      deliveryId: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
      eventId: String(counter),
      endpointId: '11111111-1111-4111-8111-111111111111',
      merchantId: '22222222-2222-4222-8222-222222222222',
      eventType: 'issuance.confirmed',
      run: 1,
    };
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('@nova/workflows'),
      activities,
    });
    const workflowId = webhookDeliveryWorkflowId(input.eventId, input.endpointId);
    const outcome = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('webhookDeliveryWorkflow', {
        workflowId,
        taskQueue,
        args: [input],
        typedSearchAttributes: [{ key: searchAttributes.webhookDeliveryStatus, value: 'pending' }],
      });
      return await handle.result();
    });
    const description = await env.client.workflow.getHandle(workflowId).describe();
    return {
      outcome,
      seen,
      input,
      status: description.typedSearchAttributes.get(searchAttributes.webhookDeliveryStatus),
    };
  }

  it('ends after the first attempt that is delivered', async () => {
    const { outcome, seen, status } = await deliver(() => ({ kind: 'delivered', status: 200 }));
    assert.deepEqual(outcome, { status: 'succeeded', attempts: 1 });
    assert.equal(seen.length, 1);
    assert.equal(status, 'succeeded');
  });

  it('waits the whole schedule as durable timers, then fails RetriesExhausted (about 3 days)', async () => {
    const { outcome, seen, input, status } = await deliver((attempt) =>
      attempt.plannedRetrySeconds === undefined
        ? { kind: 'failed', failureType: 'RetriesExhausted' }
        : { kind: 'retry', waitSeconds: attempt.plannedRetrySeconds },
    );
    assert.deepEqual(outcome, { status: 'failed', attempts: WEBHOOK_MAX_ATTEMPTS, failureType: 'RetriesExhausted' });
    assert.deepEqual(
      seen.map((s) => s.attempt),
      Array.from({ length: WEBHOOK_MAX_ATTEMPTS }, (_, i) => i + 1),
    );
    assert.equal(seen.at(-1)!.plannedRetrySeconds, undefined, 'the last attempt has no retry planned');
    const jitterKey = `${input.deliveryId}/${input.run}`;
    for (let i = 1; i < seen.length; i++) {
      const planned = webhookRetryDelaySeconds(i, jitterKey)!;
      const base = WEBHOOK_RETRY_SCHEDULE_SECONDS[i - 1]!;
      assert.equal(seen[i - 1]!.plannedRetrySeconds, planned);
      assert.ok(Math.abs(planned - base) <= Math.ceil(base * 0.1), `jitter of wait ${i} within 10%`);
      const waited = (seen[i]!.at - seen[i - 1]!.at) / 1000;
      assert.ok(waited >= planned && waited < planned + 5, `wait ${i}: ${waited} s, planned ${planned} s`);
    }
    const totalHours = (seen.at(-1)!.at - seen[0]!.at) / 3_600_000;
    assert.ok(totalHours > 68 && totalHours < 84, `schedule spans ${totalHours.toFixed(1)} h`);
    assert.equal(status, 'failed');
  });

  it('sleeps what the attempt asked for (Retry-After) and then delivers', async () => {
    const { outcome, seen } = await deliver((_input, call) =>
      call === 1 ? { kind: 'retry', waitSeconds: 600 } : { kind: 'delivered', status: 204 },
    );
    assert.deepEqual(outcome, { status: 'succeeded', attempts: 2 });
    assert.ok((seen[1]!.at - seen[0]!.at) / 1000 >= 600);
  });

  it('stops at once when the endpoint is gone (410)', async () => {
    const { outcome, seen, status } = await deliver(() => ({ kind: 'failed', failureType: 'EndpointGone' }));
    assert.deepEqual(outcome, { status: 'failed', attempts: 1, failureType: 'EndpointGone' });
    assert.equal(seen.length, 1);
    assert.equal(status, 'failed');
  });

  it('waits without counting an attempt while the endpoint is at its concurrency limit', async () => {
    const { outcome, seen } = await deliver((_input, call) =>
      call <= 3 ? { kind: 'busy' } : { kind: 'delivered', status: 200 },
    );
    assert.deepEqual(outcome, { status: 'succeeded', attempts: 1 });
    assert.deepEqual(
      seen.map((s) => s.attempt),
      [1, 1, 1, 1],
      'busy answers are not attempts',
    );
    assert.ok(seen[3]!.at - seen[0]!.at >= 250 + 500 + 1_000, 'busy waits back off');
  });

  it('ends without sending when a redelivery replaced its run', async () => {
    const { outcome, seen } = await deliver(() => ({ kind: 'closed' }));
    assert.deepEqual(outcome, { status: 'skipped', attempts: 0 });
    assert.equal(seen.length, 1);
  });
});
