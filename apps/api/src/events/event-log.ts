import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { PrismaClient } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { InjectConfig } from '../config/config.module';
import { EVENT_STREAM_SOURCES, type EventStreamSource, type StreamEvent } from './event-stream-sources';

/** How often an API prunes the log, and how many positions one delete statement covers. */
const SWEEP_EVERY_MS = 10 * 60_000;
const SWEEP_WINDOW = 5_000n;

/** Why a client that resumed cannot get everything after its Last-Event-ID. */
export type EventStreamGapReason = 'OutsideRetention' | 'UnknownLastEventId';

/** Where a stream starts: after `cursor`; with `gap` when the client's Last-Event-ID could not be honoured. */
export interface StreamStart {
  cursor: bigint;
  gap?: { reason: EventStreamGapReason; lastEventId: bigint };
}

/**
 * The durable event log the stream reads: every source merged in position order (positions
 * are drawn at commit, in commit order: see the migration 20261201191000_event_stream), with a
 * horizon below which events may be gone. Every API prunes it every 10 minutes and at boot:
 * events older than EVENT_STREAM_RETENTION_HOURS are announced past the horizon first, then
 * deleted (each source decides what it keeps: the outbox keeps what the relay or a webhook
 * delivery still needs).
 */
@Injectable()
export class EventLog implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(EventLog.name);
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    @Inject(EVENT_STREAM_SOURCES) private readonly sources: EventStreamSource[],
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.sweepTimer = setInterval(() => this.sweepSoon(), SWEEP_EVERY_MS);
    this.sweepTimer.unref();
    this.sweepSoon();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.sweeping;
  }

  /**
   * The merchant's events after `after`, in position order. `complete` is false when a source
   * had more than `limit`: read again from the last event's position.
   */
  async eventsAfter(
    merchantId: string,
    after: bigint,
    limit: number,
  ): Promise<{ events: StreamEvent[]; complete: boolean }> {
    const pages = await Promise.all(this.sources.map((source) => source.eventsAfter(merchantId, after, limit)));
    // A full page may be followed by events of its source below another source's last one:
    // keep only what is certain, up to the lowest end of a full page.
    let until: bigint | undefined;
    for (const page of pages) {
      const last = page.at(-1);
      if (page.length >= limit && last && (until === undefined || last.position < until)) until = last.position;
    }
    const events = pages
      .flat()
      .filter((event) => until === undefined || event.position <= until)
      .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
    return { events, complete: until === undefined };
  }

  /** The highest position committed in any source. */
  async latestPosition(): Promise<bigint> {
    const latest = await Promise.all(this.sources.map((source) => source.latestPosition()));
    return latest.reduce((a, b) => (b > a ? b : a), 0n);
  }

  /**
   * Where a new stream starts. Without Last-Event-ID: after the latest event (live from now).
   * With one: right after it, unless events after it may have been pruned (it is at or below
   * the horizon: the stream goes on from the horizon, saying so), or it is above every position
   * ever drawn (not an id of this platform's log: live from now, saying so).
   */
  async startAfter(lastEventId: bigint | undefined): Promise<StreamStart> {
    if (lastEventId === undefined) return { cursor: await this.latestPosition() };
    const [horizon] = await this.db.$queryRaw<{ prunedThrough: string; drawn: string }[]>`
      SELECT h.pruned_through::text AS "prunedThrough",
             (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM event_stream_position_seq)::text AS drawn
        FROM event_stream_horizon h`;
    const prunedThrough = BigInt(horizon?.prunedThrough ?? 0);
    if (lastEventId > BigInt(horizon?.drawn ?? 0)) {
      return { cursor: await this.latestPosition(), gap: { reason: 'UnknownLastEventId', lastEventId } };
    }
    if (lastEventId < prunedThrough) {
      return { cursor: prunedThrough, gap: { reason: 'OutsideRetention', lastEventId } };
    }
    return { cursor: lastEventId };
  }

  /**
   * Moves the horizon to the last position older than the retention, then deletes up to it.
   * The horizon moves first, so that a client resuming from a deleted range is always told.
   */
  async sweep(): Promise<{ prunedThrough: bigint; deleted: number }> {
    const cutoff = new Date(Date.now() - this.config.eventStream.retentionHours * 3_600_000);
    const [before] = await this.db.$queryRaw<{ prunedThrough: string }[]>`
      SELECT pruned_through::text AS "prunedThrough" FROM event_stream_horizon`;
    const previous = BigInt(before?.prunedThrough ?? 0);
    const firsts = (
      await Promise.all(this.sources.map((source) => source.firstPositionSince(previous, cutoff)))
    ).filter((position): position is bigint => position !== undefined);
    // Everything below the first event still within the retention is older than it.
    const boundary = firsts.length > 0 ? firsts.reduce((a, b) => (b < a ? b : a)) - 1n : await this.latestPosition();
    const [moved] = await this.db.$queryRaw<{ prunedThrough: string; sweptThrough: string }[]>`
      UPDATE event_stream_horizon
         SET pruned_through = GREATEST(pruned_through, ${boundary.toString()}::bigint), updated_at = now()
      RETURNING pruned_through::text AS "prunedThrough", swept_through::text AS "sweptThrough"`;
    const prunedThrough = BigInt(moved?.prunedThrough ?? boundary);
    let swept = BigInt(moved?.sweptThrough ?? 0);
    let deleted = 0;
    while (swept < prunedThrough) {
      const through = swept + SWEEP_WINDOW < prunedThrough ? swept + SWEEP_WINDOW : prunedThrough;
      for (const source of this.sources) deleted += await source.prune(swept, through);
      await this.db.$executeRaw`
        UPDATE event_stream_horizon SET swept_through = GREATEST(swept_through, ${through.toString()}::bigint)`;
      swept = through;
    }
    if (deleted > 0) this.logger.log(`pruned ${deleted} stream event(s) through position ${prunedThrough}`);
    return { prunedThrough, deleted };
  }

  private sweepSoon(): void {
    if (this.sweeping) return;
    this.sweeping = this.sweep()
      .catch((error: unknown) => this.logger.warn(`pruning the event stream log failed: ${(error as Error).message}`))
      .finally(() => (this.sweeping = undefined));
  }
}
