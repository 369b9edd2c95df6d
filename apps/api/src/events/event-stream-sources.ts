import { Inject, Injectable } from '@nestjs/common';
import { PrismaClient } from '@nova/db';
import { webhookEventPayload, type WebhookEventType } from '@nova/domain';

/** One event as the stream sends it: `id:` its position, `event:` its type, `data:` the JSON. */
export interface StreamEvent {
  position: bigint;
  type: string;
  data: unknown;
}

/**
 * Where stream events come from. Every source's table shares one order: its rows get their
 * `stream_position` from the trigger `assign_event_stream_position()` (migration
 * 20261201191000_event_stream: one sequence, drawn at commit under one lock, and a pg_notify to
 * the API replicas). To add a source (the indexer's contract events, say): give its table
 * `id`, `merchant_id`, `created_at` and a unique `stream_position` column, attach the same
 * trigger (`CREATE CONSTRAINT TRIGGER ... AFTER INSERT ... DEFERRABLE INITIALLY DEFERRED FOR EACH
 * ROW EXECUTE FUNCTION assign_event_stream_position()`), implement this interface, and add the
 * class to EVENT_STREAM_SOURCES in events.module.ts. Nothing else changes: the log merges the
 * sources by position, resumes, notifications and pruning work across all of them.
 */
export interface EventStreamSource {
  /** The merchant's events with a position above `after`, in position order, at most `limit`. */
  eventsAfter(merchantId: string, after: bigint, limit: number): Promise<StreamEvent[]>;
  /** The highest position committed in this source (0n when it has none). */
  latestPosition(): Promise<bigint>;
  /** The lowest position above `after` of an event written at or after `since`; undefined when none is. */
  firstPositionSince(after: bigint, since: Date): Promise<bigint | undefined>;
  /**
   * Deletes what the stream no longer needs with a position in (after, through]; returns how
   * many rows went. A source whose rows are kept for their own sake deletes nothing.
   */
  prune(after: bigint, through: bigint): Promise<number>;
}

export const EVENT_STREAM_SOURCES = Symbol('EventStreamSources');

interface OutboxRow {
  position: string;
  outboxId: string;
  type: WebhookEventType;
  createdAt: Date;
  payload: unknown;
}

/**
 * The outbox (outbox_events), written in the same transaction as every state change merchants
 * hear of: the webhooks' events, with the webhooks' body (webhookEventPayload).
 */
@Injectable()
export class OutboxEventSource implements EventStreamSource {
  constructor(@Inject(PrismaClient) private readonly db: PrismaClient) {}

  async eventsAfter(merchantId: string, after: bigint, limit: number): Promise<StreamEvent[]> {
    const rows = await this.db.$queryRaw<OutboxRow[]>`
      SELECT stream_position::text AS position, id::text AS "outboxId", type, created_at AS "createdAt", payload
        FROM outbox_events
       WHERE merchant_id = ${merchantId}::uuid AND stream_position > ${after.toString()}::bigint
       ORDER BY stream_position
       LIMIT ${limit}`;
    return rows.map((row) => ({
      position: BigInt(row.position),
      type: row.type,
      data: webhookEventPayload({
        outboxId: row.outboxId,
        type: row.type,
        createdAt: row.createdAt,
        data: row.payload,
      }),
    }));
  }

  async latestPosition(): Promise<bigint> {
    const [row] = await this.db.$queryRaw<{ position: string | null }[]>`
      SELECT max(stream_position)::text AS position FROM outbox_events`;
    return BigInt(row?.position ?? 0);
  }

  async firstPositionSince(after: bigint, since: Date): Promise<bigint | undefined> {
    // Walks the position index from `after`: only the events that aged past the retention since the last sweep.
    const [row] = await this.db.$queryRaw<{ position: string }[]>`
      SELECT stream_position::text AS position FROM outbox_events
       WHERE stream_position > ${after.toString()}::bigint AND created_at >= ${since}
       ORDER BY stream_position LIMIT 1`;
    return row ? BigInt(row.position) : undefined;
  }

  async prune(after: bigint, through: bigint): Promise<number> {
    // Not an event the relay has still to fan out, nor one a webhook delivery refers to (its
    // attempts and redeliveries read it): those stay, whatever their age.
    return await this.db.$executeRaw`
      DELETE FROM outbox_events e
       WHERE e.stream_position > ${after.toString()}::bigint AND e.stream_position <= ${through.toString()}::bigint
         AND e.relayed_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)`;
  }
}
