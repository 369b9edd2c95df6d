/**
 * Webhooks: the events merchants subscribe to, the states of a delivery, its retry schedule.
 * Workflow-safe like the rest of the domain module (the address rules, which need ipaddr.js,
 * live in `@nova/domain/webhook-addresses`).
 */

/** Every event type a merchant can subscribe to; later workflow kinds add theirs here. */
export const WEBHOOK_EVENT_TYPES = [
  'issuance.confirmed',
  'issuance.failed',
  'campaign.synced',
  'campaign.sync_failed',
  'redemption.paid',
  'redemption.fulfilled',
  'redemption.refunded',
  'redemption.failed',
  'vesting.released',
  'vesting.stalled',
  'vesting.completed',
  'vesting.revoked',
  'reconciliation.mismatch',
  'webhook.test',
  'endpoint.disabled',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return typeof value === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/** An endpoint's subscription: event types, or "*" for all of them (including types added later). */
export const ALL_WEBHOOK_EVENTS = '*';

/**
 * A delivery of one event to one endpoint: pending until its first attempt, retrying after a
 * failed one, then succeeded or failed (schedule exhausted, endpoint gone or disabled). A
 * redelivery makes it pending again, as a new run.
 */
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'retrying', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** Why a delivery ended failed. */
export const WEBHOOK_DELIVERY_FAILURES = ['RetriesExhausted', 'EndpointGone', 'EndpointDisabled'] as const;
export type WebhookDeliveryFailure = (typeof WEBHOOK_DELIVERY_FAILURES)[number];

/**
 * Waits before each retry, after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
 * 20 h, 24 h (ten attempts over about 3 days and 4 hours), each with jitter.
 */
export const WEBHOOK_RETRY_SCHEDULE_SECONDS = [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400] as const;

/** Attempts a run makes at most: the first and one per retry. */
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_SCHEDULE_SECONDS.length + 1;

/** An endpoint whose every attempt has failed for this long is disabled (endpoint.disabled). */
export const WEBHOOK_ENDPOINT_DISABLE_AFTER_SECONDS = 5 * 24 * 3_600;

/** After a rotation, deliveries are signed with the old secret too for this long. */
export const WEBHOOK_SECRET_OVERLAP_SECONDS = 24 * 3_600;

/** A Retry-After longer than this is taken as this (the schedule's longest wait). */
export const WEBHOOK_RETRY_AFTER_CAP_SECONDS = 86_400;

/** Jitter is +/- this share of the wait, so endpoints coming back are not hit in lockstep. */
const JITTER = 0.1;

/** A stable number in [0, 1) from a string (FNV-1a): deterministic jitter for workflow code. */
function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 0x1_0000_0000;
}

/**
 * The planned wait before attempt `attempt + 1` of a delivery run, with jitter derived from the
 * delivery, run and attempt (the same on every replay); undefined after the last attempt.
 */
export function webhookRetryDelaySeconds(attempt: number, jitterKey: string): number | undefined {
  const base = WEBHOOK_RETRY_SCHEDULE_SECONDS[attempt - 1];
  if (base === undefined) return undefined;
  const factor = 1 + JITTER * (2 * unitHash(`${jitterKey}/${attempt}`) - 1);
  return Math.max(1, Math.round(base * factor));
}

/**
 * The wait actually taken: the planned one, or longer when the receiver asked for it with
 * Retry-After (429 and 503), capped at a day. Never shorter than planned.
 */
export function webhookRetryWaitSeconds(plannedSeconds: number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds === undefined || !Number.isFinite(retryAfterSeconds)) return plannedSeconds;
  return Math.max(plannedSeconds, Math.min(Math.ceil(retryAfterSeconds), WEBHOOK_RETRY_AFTER_CAP_SECONDS));
}

/** Statuses whose Retry-After a delivery honours. */
export const WEBHOOK_RETRY_AFTER_STATUSES: readonly number[] = [429, 503];

/** The event's id as merchants see it (payload `id`, the `webhook-id` header): stable across retries and redeliveries. */
export function webhookEventId(outboxId: bigint | number | string): string {
  return `evt_${outboxId.toString()}`;
}

/** The body every delivery sends, and the `data` of every event on the event stream. */
export interface WebhookEventPayload<T = unknown> {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  data: T;
}

/**
 * The one builder of that body from an outbox event (outbox_events' id, type, created_at and
 * payload): webhook deliveries and the event stream send exactly this.
 */
export function webhookEventPayload<T>(event: {
  outboxId: bigint | number | string;
  type: WebhookEventType;
  createdAt: Date;
  data: T;
}): WebhookEventPayload<T> {
  return {
    id: webhookEventId(event.outboxId),
    type: event.type,
    createdAt: event.createdAt.toISOString(),
    data: event.data,
  };
}
