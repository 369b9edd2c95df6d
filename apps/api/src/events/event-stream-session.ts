import type { Logger } from '@nestjs/common';
import type { Response } from 'express';
import {
  recordEventStreamConnected,
  recordEventStreamEnded,
  type EventStreamEndReason,
} from '../metrics/event-stream-metrics';
import type { EventLog, StreamStart } from './event-log';
import type { EventStreamWaker } from './event-notifications';

/** The stream's own event, sent when a Last-Event-ID could not be honoured in full. */
export const EVENT_STREAM_GAP = 'stream.gap';

/** Events one read of the log takes at most. */
const READ_BATCH = 200;

/** What an EventSource waits before reconnecting (the SSE `retry:` field), in ms. */
const RECONNECT_AFTER_MS = 2_000;

export interface EventStreamSessionOptions {
  merchantId: string;
  start: StreamStart;
  log: EventLog;
  heartbeatMs: number;
  clientBufferLimitBytes: number;
  retentionHours: number;
  subscribe(waker: EventStreamWaker): () => void;
  logger: Logger;
}

/** `id:`, `event:` and one `data:` line (JSON.stringify never writes a line break). */
function frame(id: bigint, type: string, data: unknown): string {
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * One client's stream. It reads the merchant's events from the log after its position
 * whenever woken (a notification, a reconnection of the LISTEN connection, every heartbeat),
 * so it never depends on a notification arriving; positions only grow, so nothing is sent
 * twice. It writes at the client's pace: once EVENT_STREAM_CLIENT_BUFFER_LIMIT bytes the client
 * has not taken are buffered here, it waits for them to drain before writing the next event (the
 * log, not this process, holds what is due), so a client never costs more memory than that and
 * one event. A client that does not drain within a whole heartbeat interval does not read: it is
 * disconnected, and resumes by Last-Event-ID.
 */
export class EventStreamSession implements EventStreamWaker {
  private cursor: bigint;
  private wanted = false;
  private reading: Promise<void> | undefined;
  private ended: EventStreamEndReason | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** While the socket does not take data: resolves when it drains (or the stream ends). */
  private draining: { promise: Promise<void>; ticks: number } | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly response: Response,
    private readonly options: EventStreamSessionOptions,
  ) {
    this.cursor = options.start.cursor;
  }

  /** Sends the headers and whatever is due, then streams until the client, a slow read or a shutdown ends it. */
  open(): void {
    const response = this.response;
    // The client left while the start was being resolved: no stream to run.
    if (response.destroyed || !response.socket || response.socket.destroyed) {
      this.ended = 'client';
      return;
    }
    response.status(200);
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-cache, no-transform');
    response.setHeader('Connection', 'keep-alive');
    // nginx (and ingress-nginx) would otherwise hold events back in its buffer.
    response.setHeader('X-Accel-Buffering', 'no');
    response.flushHeaders();
    response.socket?.setNoDelay(true);
    recordEventStreamConnected();
    response.on('close', () => this.end('client'));
    this.write(`retry: ${RECONNECT_AFTER_MS}\n: stream open\n\n`);
    const gap = this.options.start.gap;
    if (gap) {
      // Its id is where the stream goes on from: a reconnection after it does not hear of the gap again.
      this.write(
        frame(this.cursor, EVENT_STREAM_GAP, {
          type: EVENT_STREAM_GAP,
          reason: gap.reason,
          lastEventId: gap.lastEventId.toString(),
          resumedAfter: this.cursor.toString(),
          retentionHours: this.options.retentionHours,
          message:
            gap.reason === 'OutsideRetention'
              ? `events after ${gap.lastEventId} up to ${this.cursor} are past the retention of ` +
                `${this.options.retentionHours} h and may be gone: read the resources to catch up; the stream goes on after ${this.cursor}`
              : `Last-Event-ID ${gap.lastEventId} is not a position of this event log: the stream goes on after ${this.cursor}, ` +
                'the latest event; read the resources to catch up',
        }),
      );
    }
    this.heartbeat = setInterval(() => {
      if (this.draining) {
        // Events are waiting, so the stream is not idle: no heartbeat. A second tick still waiting
        // for the same drain: the client has not read for a whole interval.
        if (++this.draining.ticks >= 2) this.end('slow');
        return;
      }
      this.write(': heartbeat\n\n');
      this.wake();
    }, this.options.heartbeatMs);
    this.unsubscribe = this.options.subscribe(this);
    this.wake();
  }

  wake(): void {
    if (this.ended) return;
    this.wanted = true;
    if (this.reading) return;
    this.reading = this.readWhileWanted().finally(() => {
      this.reading = undefined;
      // Woken between the last read's end and now: read again.
      if (this.wanted) this.wake();
    });
  }

  /** Ends the stream (a shutdown: the client reconnects, to another replica, by Last-Event-ID). */
  close(): void {
    this.end('shutdown');
  }

  private async readWhileWanted(): Promise<void> {
    while (this.wanted && !this.ended) {
      this.wanted = false;
      try {
        await this.readAll();
      } catch (error) {
        // The log is unreachable: the next heartbeat reads again, from the same position.
        this.options.logger.warn(`reading the event log failed: ${(error as Error).message}`);
        this.wanted = false;
        return;
      }
    }
  }

  private async readAll(): Promise<void> {
    for (;;) {
      const { events, complete } = await this.options.log.eventsAfter(this.options.merchantId, this.cursor, READ_BATCH);
      for (const event of events) {
        if (this.ended) return;
        if (event.position <= this.cursor) continue;
        this.cursor = event.position;
        this.write(frame(event.position, event.type, event.data));
        if (this.response.writableLength >= this.options.clientBufferLimitBytes) await this.drained();
      }
      if (complete || this.ended) return;
    }
  }

  private write(text: string): void {
    if (!this.ended) this.response.write(text);
  }

  /** 'drain' comes: the buffer is at least the socket's highWaterMark (16 KiB, the bound's minimum). */
  private drained(): Promise<void> {
    if (!this.draining) {
      const promise = new Promise<void>((resolve) => {
        const done = () => {
          this.response.off('drain', done);
          this.response.off('close', done);
          this.draining = undefined;
          resolve();
        };
        this.response.on('drain', done);
        this.response.on('close', done);
      });
      this.draining = { promise, ticks: 0 };
    }
    return this.draining.promise;
  }

  private end(reason: EventStreamEndReason): void {
    if (this.ended) return;
    this.ended = reason;
    clearInterval(this.heartbeat);
    this.unsubscribe?.();
    recordEventStreamEnded(reason);
    if (reason === 'slow') {
      this.options.logger.warn(
        `event stream of merchant ${this.options.merchantId} disconnected: the client does not read ` +
          `(${this.response.writableLength} bytes not taken, last id written ${this.cursor})`,
      );
      // Not end(): a client that does not read would never take the rest, nor the end of the stream.
      this.response.destroy();
    } else if (reason === 'shutdown') {
      this.response.end();
    }
  }
}
