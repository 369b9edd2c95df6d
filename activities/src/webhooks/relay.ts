import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '@nova/db';
import { webhookDeliveryWorkflowId } from '@nova/domain';
import { cursorOf, eachLimited, parseCursor } from '../handoffs/batches';
import type { ReconcileBatch } from '../handoffs/reconciler';

/** What a delivery workflow's start needs (a row of webhook_deliveries fits). */
export interface WebhookDeliveryStartRecord {
  id: string;
  /** The outbox event's id (bigint as text). */
  eventId: string;
  endpointId: string;
  merchantId: string;
  eventType: string;
  run: number;
  workflowId: string;
}

/** Starts a delivery run by its business id (bound to WorkflowHandoffs by the worker). */
export interface WebhookDeliveryStarter {
  /** Run 1 is refused as a duplicate whatever became of it; a redelivery run only while none is open. */
  startWebhookDelivery(delivery: WebhookDeliveryStartRecord): Promise<'started' | 'already-started'>;
}

/** Something that relays recorded events soon (the activities that write events kick it). */
export interface EventRelayKick {
  kick(): void;
}

interface MatchedPair {
  eventId: string;
  endpointId: string;
  merchantId: string;
  eventType: string;
}

/**
 * The outbox relay. Each event is fanned out, in one transaction that also marks it relayed,
 * into one delivery row per endpoint that wants it: an enabled endpoint of the event's
 * merchant, subscribed to its type (or "*"), that existed when the event was written (an
 * endpoint added later does not get old events); an event meant for one endpoint
 * (webhook.test) goes to that one only. Events nobody wants are marked relayed with no row.
 * The delivery rows are the hand-off: their workflows are started by business id right after,
 * and the reconciler starts those whose start did not go through. Two relays never deliver an
 * event twice: events are taken with SKIP LOCKED, a (event, endpoint) pair has one row, and its
 * workflow id is derived from both.
 */
export class WebhookRelay implements EventRelayKick {
  private kicked = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: PrismaClient,
    private readonly starter: WebhookDeliveryStarter,
    private readonly onError: (message: string, error: unknown) => void = () => {},
  ) {}

  /** Fans out due events (oldest first) and starts their deliveries. */
  async relayEvents(input: { afterSeconds: number; batchSize: number; cursor?: string }): Promise<ReconcileBatch> {
    const after = input.cursor ?? '0';
    const { events, created } = await this.db.$transaction(async (tx) => {
      const events = await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM outbox_events
         WHERE relayed_at IS NULL AND id > ${after}::bigint
           AND created_at <= now() - make_interval(secs => ${input.afterSeconds})
         ORDER BY id LIMIT ${input.batchSize}
           FOR UPDATE SKIP LOCKED`;
      if (events.length === 0) return { events, created: [] as WebhookDeliveryStartRecord[] };
      const ids = events.map((e) => e.id);
      const pairs = await tx.$queryRaw<MatchedPair[]>`
        SELECT e.id::text AS "eventId", ep.id::text AS "endpointId", e.merchant_id::text AS "merchantId", e.type AS "eventType"
          FROM outbox_events e
          JOIN webhook_endpoints ep ON ep.merchant_id = e.merchant_id
         WHERE e.id = ANY(${ids}::bigint[])
           AND ep.enabled AND ep.deleted_at IS NULL AND ep.created_at <= e.created_at
           AND (ep.id = e.endpoint_id OR (e.endpoint_id IS NULL AND (e.type = ANY(ep.events) OR '*' = ANY(ep.events))))`;
      let created: WebhookDeliveryStartRecord[] = [];
      if (pairs.length > 0) {
        created = await tx.$queryRaw<WebhookDeliveryStartRecord[]>`
          INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, event_type, workflow_id)
          SELECT * FROM unnest(
            ${pairs.map(() => randomUUID())}::uuid[], ${pairs.map((p) => p.eventId)}::bigint[],
            ${pairs.map((p) => p.endpointId)}::uuid[], ${pairs.map((p) => p.merchantId)}::uuid[],
            ${pairs.map((p) => p.eventType)}::text[],
            ${pairs.map((p) => webhookDeliveryWorkflowId(p.eventId, p.endpointId))}::text[])
          ON CONFLICT (event_id, endpoint_id) DO NOTHING
          RETURNING id::text, event_id::text AS "eventId", endpoint_id::text AS "endpointId",
                    merchant_id::text AS "merchantId", event_type AS "eventType", run, workflow_id AS "workflowId"`;
      }
      await tx.$executeRaw`UPDATE outbox_events SET relayed_at = now() WHERE id = ANY(${ids}::bigint[])`;
      return { events, created };
    });
    const started = await this.startDeliveries(created);
    const batch: ReconcileBatch = { seen: events.length, ...started };
    const last = events.at(-1);
    return events.length === input.batchSize && last ? { ...batch, next: last.id } : batch;
  }

  /**
   * Deliveries recorded at least `afterSeconds` ago whose run Temporal has not taken (the start
   * after the relay's commit failed, or the process stopped before it), oldest first.
   */
  async reconcileStarts(input: { afterSeconds: number; batchSize: number; cursor?: string }): Promise<ReconcileBatch> {
    const after = parseCursor(input.cursor);
    const due = await this.db.$queryRaw<(WebhookDeliveryStartRecord & { createdAt: Date })[]>`
      SELECT id::text, event_id::text AS "eventId", endpoint_id::text AS "endpointId", merchant_id::text AS "merchantId",
             event_type AS "eventType", run, workflow_id AS "workflowId", created_at AS "createdAt"
        FROM webhook_deliveries
       WHERE handed_off_at IS NULL AND updated_at < now() - make_interval(secs => ${input.afterSeconds})
         AND (created_at, id) > (${after.at}::timestamptz, ${after.id}::uuid)
       ORDER BY created_at, id
       LIMIT ${input.batchSize}`;
    const batch: ReconcileBatch = { seen: due.length, ...(await this.startDeliveries(due)) };
    const last = due.at(-1);
    return due.length === input.batchSize && last ? { ...batch, next: cursorOf(last.createdAt, last.id) } : batch;
  }

  /** Starts each delivery's run; the ones Temporal took (or had) are marked handed off. */
  async startDeliveries(
    deliveries: WebhookDeliveryStartRecord[],
  ): Promise<{ redriven: number; alreadyTaken: number; failed: number }> {
    const totals = { redriven: 0, alreadyTaken: 0, failed: 0 };
    const taken: { id: string; run: number }[] = [];
    await eachLimited(deliveries, async (delivery) => {
      try {
        const outcome = await this.starter.startWebhookDelivery(delivery);
        totals[outcome === 'started' ? 'redriven' : 'alreadyTaken'] += 1;
        taken.push({ id: delivery.id, run: delivery.run });
      } catch (error) {
        totals.failed += 1; // the row stays not handed off: the reconciler tries again
        this.onError(`Temporal did not take webhook delivery ${delivery.id}`, error);
      }
    });
    if (taken.length > 0) {
      // Only the run that was started: a redelivery recorded meanwhile keeps its own hand-off.
      await this.db.$executeRaw`
        UPDATE webhook_deliveries d SET handed_off_at = now()
          FROM unnest(${taken.map((t) => t.id)}::uuid[], ${taken.map((t) => t.run)}::int[]) AS t(id, run)
         WHERE d.id = t.id AND d.run = t.run AND d.handed_off_at IS NULL`;
    }
    return totals;
  }

  /**
   * The fast path: relay what is due now, in the background, soon after an event is written.
   * Kicks coalesce; whatever this misses (the process stops) the reconciler relays.
   */
  kick(): void {
    this.kicked = true;
    if (this.running) return;
    this.running = (async () => {
      while (this.kicked) {
        this.kicked = false;
        try {
          let cursor: string | undefined;
          do {
            cursor = (await this.relayEvents({ afterSeconds: 0, batchSize: 200, ...(cursor ? { cursor } : {}) })).next;
          } while (cursor);
        } catch (error) {
          this.onError('webhook relay failed (the reconciler relays what is left)', error);
        }
      }
      this.running = undefined;
    })();
  }

  /** Resolves when the background relay (if any) is idle: for shutdown and tests. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}
