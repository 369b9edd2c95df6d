import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import {
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_RETRY_AFTER_CAP_SECONDS,
  WEBHOOK_RETRY_SCHEDULE_SECONDS,
  webhookDeliveryWorkflowId,
  webhookEventId,
  webhookEventPayload,
  webhookRetryDelaySeconds,
  webhookRetryWaitSeconds,
} from '@nova/domain';

describe('webhook retry schedule (@nova/domain)', () => {
  it('is the schedule the platform promises: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h', () => {
    assert.deepEqual(WEBHOOK_RETRY_SCHEDULE_SECONDS, [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
    assert.equal(WEBHOOK_MAX_ATTEMPTS, 10);
  });

  it('jitters each wait within 10%, the same for the same delivery, different across deliveries', () => {
    const waits = (key: string) => WEBHOOK_RETRY_SCHEDULE_SECONDS.map((_, i) => webhookRetryDelaySeconds(i + 1, key)!);
    const a = waits('delivery-a/1');
    assert.deepEqual(waits('delivery-a/1'), a, 'deterministic (workflow replays compute it again)');
    WEBHOOK_RETRY_SCHEDULE_SECONDS.forEach((base, i) => {
      assert.ok(Math.abs(a[i]! - base) <= Math.ceil(base * 0.1), `wait ${i + 1}: ${a[i]} vs ${base}`);
    });
    const others = ['delivery-b/1', 'delivery-c/1', 'delivery-a/2'].map(waits);
    assert.ok(
      others.some((w) => w.some((v, i) => v !== a[i])),
      'endpoints coming back are not all retried in lockstep',
    );
    assert.equal(webhookRetryDelaySeconds(WEBHOOK_MAX_ATTEMPTS, 'x'), undefined, 'no retry after the last attempt');
  });

  it('honours Retry-After: never sooner than asked, never sooner than planned, at most a day', () => {
    assert.equal(webhookRetryWaitSeconds(5), 5);
    assert.equal(webhookRetryWaitSeconds(5, 7), 7);
    assert.equal(webhookRetryWaitSeconds(300, 7), 300);
    assert.equal(webhookRetryWaitSeconds(5, 7.2), 8);
    assert.equal(webhookRetryWaitSeconds(5, 10 * 86_400), WEBHOOK_RETRY_AFTER_CAP_SECONDS);
    assert.equal(webhookRetryWaitSeconds(5, Number.NaN), 5);
  });

  it('builds the one event body webhooks and the event stream send', () => {
    const createdAt = new Date('2026-03-01T12:00:00.000Z');
    assert.deepEqual(webhookEventPayload({ outboxId: 42n, type: 'issuance.confirmed', createdAt, data: { id: 'x' } }), {
      id: 'evt_42',
      type: 'issuance.confirmed',
      createdAt: '2026-03-01T12:00:00.000Z',
      data: { id: 'x' },
    });
  });

  it('derives ids from the business keys', () => {
    assert.equal(webhookEventId(42n), 'evt_42');
    assert.equal(
      webhookDeliveryWorkflowId('42', '5b0e0000-0000-4000-8000-000000000000'),
      'webhook-delivery/42/5b0e0000-0000-4000-8000-000000000000',
    );
  });
});
