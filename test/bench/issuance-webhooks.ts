/**
 * Webhook deliveries in the issuance benchmark (BENCH_WEBHOOK_ENDPOINTS=n, see
 * issuance-throughput.ts): the merchant's loopback receiver (the tests' WebhookReceiver, in the
 * benchmark process: 200 at once, every request kept with its arrival time, headers and body),
 * n endpoints on it subscribed to issuance.confirmed, the wait for the deliveries to drain, and
 * their figures: received, per second, duplicates, missing, and the latency from the
 * confirmation to the first attempt's arrival.
 */
import { createPrismaClient } from '@nova/db';
import type { ReceivedWebhook, WebhookReceiver } from '../support/webhook-receiver';
import { expectStatus, http, ms, percentile, say, secs, table, triple } from './issuance-common';
import { POSTGRES, type ResourceSampler } from './issuance-resources';
import type { IssuanceRecord } from './issuance-tracker';

export const WEBHOOK_EVENT = 'issuance.confirmed';
/** After the last expected delivery: long enough for a duplicate in flight to arrive. */
const SETTLE_MS = 5_000;

/** Registers `count` endpoints of the merchant on the receiver, one path each; returns the paths. */
export async function registerWebhookEndpoints(
  receiver: WebhookReceiver,
  context: { apiUrl: string; apiKey: string; run: string },
  count: number,
): Promise<string[]> {
  const paths: string[] = [];
  for (let index = 0; index < count; index++) {
    const path = `/bench-${context.run}/endpoint-${index}`;
    await expectStatus(
      'POST /v1/webhooks/endpoints',
      201,
      http('POST', `${context.apiUrl}/v1/webhooks/endpoints`, {
        apiKey: context.apiKey,
        headers: { 'idempotency-key': `bench-endpoint-${context.run}-${index}` },
        body: { url: receiver.url(path), events: [WEBHOOK_EVENT], description: `bench ${context.run} #${index}` },
      }),
    );
    paths.push(path);
    if ((index + 1) % 20 === 0 || index + 1 === count) say(`  endpoints registered: ${index + 1}/${count}`);
  }
  return paths;
}

/** (path, webhook-id) of a request: one delivery, however often it arrives. */
const deliveryKey = (request: ReceivedWebhook) => `${request.path} ${String(request.headers['webhook-id'])}`;

function uniqueDeliveries(received: readonly ReceivedWebhook[]): number {
  return new Set(received.map(deliveryKey)).size;
}

/**
 * Waits until `expected` distinct deliveries have arrived (then SETTLE_MS more, so that a
 * duplicate on its way shows up) or `timeoutMs` has passed; prints progress. Returns whether
 * it gave up.
 */
export async function waitForDeliveries(
  receiver: WebhookReceiver,
  expected: number,
  timeoutMs: number,
  progressIntervalMs: number,
): Promise<boolean> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let lastProgress = 0;
  for (;;) {
    const unique = uniqueDeliveries(receiver.received);
    const now = Date.now();
    if (unique >= expected || now >= deadline || now - lastProgress >= progressIntervalMs) {
      lastProgress = now;
      say(
        `  deliveries received ${receiver.received.length} (${unique} distinct) of ${expected} expected, ` +
          `${((now - started) / 1000).toFixed(0)} s after the last confirmation`,
      );
    }
    if (unique >= expected) break;
    if (now >= deadline) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return false;
}

/** What the platform recorded about the deliveries (read after the drain). */
export interface DeliveryRecords {
  byStatus: Map<string, number>;
  attempts: number;
  /** Delivery rows with more than one attempt. */
  retried: number;
  /** outbox_events.created_at -> relayed_at of the issuance.confirmed events (ms). */
  relayMs: number[];
  /** webhook_deliveries.created_at -> handed_off_at (the workflow start) (ms). */
  handOffMs: number[];
  /** Delivery rows not handed off to Temporal. */
  notHandedOff: number;
}

export async function readDeliveryRecords(databaseUrl: string): Promise<DeliveryRecords> {
  const db = createPrismaClient({ databaseUrl, poolSize: 1 });
  try {
    const statuses = await db.$queryRaw<{ status: string; rows: number; attempts: number; retried: number }[]>`
      SELECT status, count(*)::int AS rows, sum(attempts)::int AS attempts, count(*) FILTER (WHERE attempts > 1)::int AS retried
        FROM webhook_deliveries WHERE event_type = ${WEBHOOK_EVENT} GROUP BY status`;
    const relays = await db.$queryRaw<{ ms: number }[]>`
      SELECT (extract(epoch FROM relayed_at - created_at) * 1000)::float8 AS ms
        FROM outbox_events WHERE type = ${WEBHOOK_EVENT} AND relayed_at IS NOT NULL`;
    const handOffs = await db.$queryRaw<{ ms: number | null }[]>`
      SELECT (extract(epoch FROM handed_off_at - created_at) * 1000)::float8 AS ms
        FROM webhook_deliveries WHERE event_type = ${WEBHOOK_EVENT}`;
    return {
      byStatus: new Map(statuses.map((row) => [row.status, row.rows])),
      attempts: statuses.reduce((sum, row) => sum + row.attempts, 0),
      retried: statuses.reduce((sum, row) => sum + row.retried, 0),
      relayMs: relays.map((row) => row.ms),
      handOffMs: handOffs.filter((row) => row.ms !== null).map((row) => row.ms!),
      notHandedOff: handOffs.filter((row) => row.ms === null).length,
    };
  } finally {
    await db.$disconnect();
  }
}

export interface WebhookFigures {
  endpoints: number;
  records: readonly IssuanceRecord[];
  received: readonly ReceivedWebhook[];
  platform: DeliveryRecords;
  timedOut: boolean;
  sampler: ResourceSampler;
  /** From the first request to the end of the wait for the deliveries. */
  window: { start: number; end: number };
}

/** Prints the webhook part of the report; returns whether every delivery arrived exactly once. */
export function printWebhookReport(figures: WebhookFigures): boolean {
  const { endpoints, records, received, platform } = figures;
  const confirmed = new Map(records.filter((r) => r.confirmedAt !== undefined).map((r) => [r.id!, r]));
  const expected = confirmed.size * endpoints;
  const arrivals = new Map<string, ReceivedWebhook[]>();
  for (const request of received) {
    const key = deliveryKey(request);
    const list = arrivals.get(key);
    if (list) list.push(request);
    else arrivals.set(key, [request]);
  }
  const duplicates = [...arrivals.values()].filter((list) => list.length > 1);
  const toFirstArrival: number[] = [];
  const eventToFirstArrival: number[] = [];
  const strangers: string[] = [];
  for (const [key, list] of arrivals) {
    const first = list[0]!;
    let event: { type?: string; createdAt?: string; data?: { id?: string; status?: string } };
    try {
      event = JSON.parse(first.body) as typeof event;
    } catch {
      strangers.push(`${key}: not JSON`);
      continue;
    }
    const record = event.data?.id === undefined ? undefined : confirmed.get(event.data.id);
    if (event.type !== WEBHOOK_EVENT || event.data?.status !== 'confirmed' || !record) {
      strangers.push(`${key}: ${event.type} of ${event.data?.id} (${event.data?.status})`);
      continue;
    }
    toFirstArrival.push(first.receivedAt - record.confirmedAt!);
    eventToFirstArrival.push(first.receivedAt - Date.parse(event.createdAt ?? ''));
  }
  const missing = Math.max(0, expected - (arrivals.size - strangers.length));
  const arrivalTimes = received.map((request) => request.receivedAt).sort((a, b) => a - b);
  const firstArrival = arrivalTimes[0] ?? NaN;
  const lastArrival = arrivalTimes[arrivalTimes.length - 1] ?? NaN;
  const perSecond = received.length > 1 ? (received.length - 1) / ((lastArrival - firstArrival) / 1000) : NaN;
  // As the issuance report's steady rate: without the start and the tail.
  const i10 = Math.floor(0.1 * (arrivalTimes.length - 1));
  const i90 = Math.ceil(0.9 * (arrivalTimes.length - 1));
  const middlePerSecond = (i90 - i10) / ((arrivalTimes[i90]! - arrivalTimes[i10]!) / 1000);

  say('');
  say(`---- webhooks: ${endpoints} endpoints on a loopback receiver, subscribed to ${WEBHOOK_EVENT} ----`);
  table([
    ['deliveries', ''],
    [
      '  received (requests) / distinct (endpoint, webhook-id)',
      `${received.length} / ${arrivals.size} of ${expected} expected (${confirmed.size} confirmed x ${endpoints})`,
    ],
    [
      '  per second, first to last arrival',
      `${perSecond.toFixed(1)} deliveries/s over ${secs(lastArrival - firstArrival)}`,
    ],
    ['  per second, steady middle (10th-90th pct of arrivals)', `${middlePerSecond.toFixed(1)} deliveries/s`],
    ['  duplicates (same webhook-id at one endpoint again)', String(duplicates.length)],
    ['  missing (expected - distinct received)', String(missing)],
    ['  not a confirmed issuance of this run', String(strangers.length)],
    ['latency to the first attempt arrival (p50 / p95 / p99)', ''],
    [
      "  from the issuance's updatedAt (read model: the confirmation)",
      `${triple(toFirstArrival, ms)}  max ${ms(Math.max(...toFirstArrival))}`,
    ],
    [
      "  from the event's createdAt (outbox_events.created_at)",
      `${triple(eventToFirstArrival, ms)}  max ${ms(Math.max(...eventToFirstArrival))}`,
    ],
    ['where the time went (p50 / p95 / p99)', ''],
    ['  event written -> relayed (fanned out)', triple(platform.relayMs, ms)],
    ['  delivery row -> workflow started (handed off)', triple(platform.handOffMs, ms)],
  ]);
  say(
    `platform's records: delivery rows ${[...platform.byStatus].map(([status, count]) => `${status} ${count}`).join(', ') || 'none'}; ` +
      `attempts ${platform.attempts}, rows with more than one attempt ${platform.retried}, not handed off ${platform.notHandedOff}`,
  );
  // The issuance report's CPU stops at the last confirmation; the deliveries go on after it.
  const windowMs = figures.window.end - figures.window.start;
  const cpuOf = (name: string) => figures.sampler.cpu(name, figures.window.start, figures.window.end).meanPercent || 0;
  const shares = ['api', 'worker', 'temporal', 'sandbox', POSTGRES].map((name) => [name, cpuOf(name)] as const);
  const platformCpuMs = (shares.reduce((sum, [, percent]) => sum + percent, 0) / 100) * windowMs;
  say(
    `CPU from the first request to the end of the wait (${secs(windowMs)}): ` +
      shares.map(([name, percent]) => `${name} ${percent.toFixed(0)}%`).join(', ') +
      `; platform ${ms(platformCpuMs / Math.max(1, confirmed.size))} per confirmed issuance, ` +
      `${(platformCpuMs / Math.max(1, received.length)).toFixed(1)} ms per delivery received`,
  );
  for (const list of duplicates.slice(0, 5))
    say(
      `duplicate: ${deliveryKey(list[0]!)} arrived ${list.length} times, at +${list.map((r) => r.receivedAt - list[0]!.receivedAt).join(' ms, +')} ms`,
    );
  for (const line of strangers.slice(0, 5)) say(`unexpected delivery: ${line}`);
  const correct = !figures.timedOut && duplicates.length === 0 && missing === 0 && strangers.length === 0;
  say(
    `webhooks: ${correct ? 'OK' : 'NOT OK'} - ${arrivals.size - strangers.length}/${expected} delivered, ` +
      `${duplicates.length} duplicated, ${missing} missing${figures.timedOut ? ' (gave up waiting)' : ''}; ` +
      `p99 confirmation -> first arrival ${ms(percentile(toFirstArrival, 99))}`,
  );
  return correct;
}
