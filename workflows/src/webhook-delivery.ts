import {
  continueAsNew,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { WebhookDeliveryActivities } from '@nova/activities';
import { WEBHOOK_MAX_ATTEMPTS, webhookRetryDelaySeconds, type WebhookDeliveryStatus } from '@nova/domain';
import { activityProfiles } from './definitions/activity-profiles';
import { searchAttributes } from './definitions/search-attributes';
import {
  webhookDeliveryProgressQuery,
  type WebhookDeliveryOutcome,
  type WebhookDeliveryProgress,
  type WebhookDeliveryWorkflowInput,
} from './definitions/webhook-delivery';

const receiver = proxyActivities<WebhookDeliveryActivities>(activityProfiles.webhookPost);

/** Waits while the endpoint is at its concurrency limit: 250 ms doubling to 10 s (not attempts). */
const BUSY_FIRST_WAIT_MS = 250;
const BUSY_MAX_WAIT_MS = 10_000;

/** Busy waits add events; past this many the run continues as new, from the same attempt. */
const HISTORY_LIMIT = 4_000;

export interface WebhookDeliveryResume {
  /** The attempt to make next (continue-as-new while an endpoint was busy). */
  attempt: number;
}

/**
 * One event to one endpoint: an attempt, then the retry schedule's waits as durable timers
 * (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, with jitter; longer when the receiver
 * asks with Retry-After) until a 2xx, a 410 (the endpoint is disabled) or the last attempt.
 * Each attempt is one activity that sends, records the attempt and settles the delivery's read
 * model; this workflow decides only when to try again.
 */
export async function webhookDeliveryWorkflow(
  input: WebhookDeliveryWorkflowInput,
  resume?: WebhookDeliveryResume,
): Promise<WebhookDeliveryOutcome> {
  const progress: WebhookDeliveryProgress = { status: 'pending', attempts: (resume?.attempt ?? 1) - 1 };
  setHandler(webhookDeliveryProgressQuery, () => progress);
  const setStatus = (status: WebhookDeliveryStatus) => {
    if (progress.status === status) return;
    progress.status = status;
    upsertSearchAttributes([{ key: searchAttributes.webhookDeliveryStatus, value: status }]);
  };
  const jitterKey = `${input.deliveryId}/${input.run}`;

  let busyWaitMs = BUSY_FIRST_WAIT_MS;
  for (let attempt = resume?.attempt ?? 1; attempt <= WEBHOOK_MAX_ATTEMPTS;) {
    const planned = webhookRetryDelaySeconds(attempt, jitterKey);
    const verdict = await receiver.attemptWebhookDelivery({
      deliveryId: input.deliveryId,
      run: input.run,
      attempt,
      ...(planned === undefined ? {} : { plannedRetrySeconds: planned }),
    });
    switch (verdict.kind) {
      case 'busy':
        // Nothing was sent: the endpoint has its limit of attempts in flight.
        if (workflowInfo().historyLength > HISTORY_LIMIT) {
          await continueAsNew<typeof webhookDeliveryWorkflow>(input, { attempt });
        }
        await sleep(busyWaitMs);
        busyWaitMs = Math.min(busyWaitMs * 2, BUSY_MAX_WAIT_MS);
        continue;
      case 'closed':
        return { status: 'skipped', attempts: progress.attempts };
      case 'delivered':
        progress.attempts = attempt;
        delete progress.nextRetrySeconds;
        setStatus('succeeded');
        return { status: 'succeeded', attempts: attempt };
      case 'failed':
        progress.attempts = attempt;
        delete progress.nextRetrySeconds;
        setStatus('failed');
        return { status: 'failed', attempts: attempt, failureType: verdict.failureType };
      case 'retry':
        progress.attempts = attempt;
        progress.nextRetrySeconds = verdict.waitSeconds;
        setStatus('retrying');
        busyWaitMs = BUSY_FIRST_WAIT_MS;
        await sleep(verdict.waitSeconds * 1000);
        attempt += 1;
        continue;
    }
  }
  // Unreachable: the last attempt's verdict is delivered or failed.
  setStatus('failed');
  return { status: 'failed', attempts: progress.attempts, failureType: 'RetriesExhausted' };
}
