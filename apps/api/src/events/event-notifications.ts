import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { listenForNotifications, type NotificationConnection } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { InjectConfig } from '../config/config.module';
import { recordEventStreamListen } from '../metrics/event-stream-metrics';

/** The channel assign_event_stream_position() notifies (migration 20261201191000_event_stream). */
export const EVENT_STREAM_CHANNEL = 'nova_event_stream';

/** pg_stat_activity.application_name of the LISTEN connection. */
export const EVENT_STREAM_LISTENER_NAME = 'nova-api/event-stream';

/** A stream that reads the log when told there may be something new. */
export interface EventStreamWaker {
  wake(): void;
}

const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/**
 * One LISTEN connection per API process, fanning PostgreSQL's notifications out to this
 * process's streams of the merchant named: whichever replica (or worker) wrote an event, every
 * replica hears of it. A notification only wakes a stream, which then reads the durable log
 * from its own position, so a notification lost while the connection was down costs nothing:
 * on every (re)connection all streams read again. Lost connections are retried with backoff.
 */
@Injectable()
export class EventNotifications implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventNotifications.name);
  private readonly wakers = new Map<string, Set<EventStreamWaker>>();
  private connection: NotificationConnection | undefined;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectMs = RECONNECT_FIRST_MS;
  private everConnected = false;
  private stopped = false;

  constructor(@InjectConfig() private readonly config: ApiConfig) {}

  onApplicationBootstrap(): void {
    this.connectSoon();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.connecting;
    await this.connection?.close();
    this.connection = undefined;
    recordEventStreamListen(false);
  }

  /** Wakes `waker` on every event of the merchant (and after every reconnection); returns the unsubscribe. */
  subscribe(merchantId: string, waker: EventStreamWaker): () => void {
    let set = this.wakers.get(merchantId);
    if (!set) this.wakers.set(merchantId, (set = new Set()));
    set.add(waker);
    return () => {
      set.delete(waker);
      if (set.size === 0 && this.wakers.get(merchantId) === set) this.wakers.delete(merchantId);
    };
  }

  /** The server process of the LISTEN connection, while connected (tests end it to prove the reconnection). */
  get listenerProcessId(): number | undefined {
    return this.connection?.processId;
  }

  private connectSoon(): void {
    if (this.stopped || this.connecting || this.connection) return;
    this.connecting = this.connect().finally(() => (this.connecting = undefined));
  }

  private async connect(): Promise<void> {
    try {
      const connection = await listenForNotifications({
        databaseUrl: this.config.databaseUrl,
        channel: EVENT_STREAM_CHANNEL,
        applicationName: EVENT_STREAM_LISTENER_NAME,
        onNotification: (payload) => this.route(payload),
        onLost: (error) => this.lost(error),
      });
      if (this.stopped) {
        await connection.close();
        return;
      }
      this.connection = connection;
      this.reconnectMs = RECONNECT_FIRST_MS;
      recordEventStreamListen(true);
      if (this.everConnected) this.logger.log('listening for events again');
      this.everConnected = true;
      // Whatever was written while no connection listened is in the log: every stream reads it now.
      for (const set of this.wakers.values()) for (const waker of set) waker.wake();
    } catch (error) {
      this.logger.warn(`cannot LISTEN for events (retrying in ${this.reconnectMs} ms): ${(error as Error).message}`);
      this.retryLater();
    }
  }

  private lost(error: Error | undefined): void {
    this.connection = undefined;
    recordEventStreamListen(false);
    if (this.stopped) return;
    this.logger.warn(`the LISTEN connection for events was lost${error ? `: ${error.message}` : ''}; reconnecting`);
    this.retryLater();
  }

  private retryLater(): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connectSoon(), this.reconnectMs);
    this.reconnectTimer.unref();
    this.reconnectMs = Math.min(this.reconnectMs * 2, RECONNECT_MAX_MS);
  }

  private route(payload: string): void {
    let merchantId: unknown;
    try {
      merchantId = (JSON.parse(payload) as { merchantId?: unknown }).merchantId;
    } catch {
      merchantId = undefined;
    }
    if (typeof merchantId === 'string') {
      for (const waker of this.wakers.get(merchantId) ?? []) waker.wake();
      return;
    }
    // Not a payload of ours: waking everyone is always safe (each stream reads from its own position).
    for (const set of this.wakers.values()) for (const waker of set) waker.wake();
  }
}
