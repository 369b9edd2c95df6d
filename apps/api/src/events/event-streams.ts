import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Response } from 'express';
import type { ApiConfig } from '@nova/config';
import { InjectConfig } from '../config/config.module';
import { EventLog } from './event-log';
import { EventNotifications } from './event-notifications';
import { EventStreamSession } from './event-stream-session';

/** The streams this API process serves; a shutdown ends them so that their clients reconnect elsewhere. */
@Injectable()
export class EventStreams implements BeforeApplicationShutdown {
  private readonly logger = new Logger(EventStreams.name);
  private readonly sessions = new Set<EventStreamSession>();

  constructor(
    private readonly log: EventLog,
    private readonly notifications: EventNotifications,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  /**
   * Starts the merchant's stream on `response`. The start is resolved first, so that a database
   * error is still an ordinary error answer (503), before any byte of the stream.
   */
  async open(merchantId: string, lastEventId: bigint | undefined, response: Response): Promise<void> {
    const start = await this.log.startAfter(lastEventId);
    const session = new EventStreamSession(response, {
      merchantId,
      start,
      log: this.log,
      heartbeatMs: this.config.eventStream.heartbeatMs,
      clientBufferLimitBytes: this.config.eventStream.clientBufferLimitBytes,
      retentionHours: this.config.eventStream.retentionHours,
      subscribe: (waker) => this.notifications.subscribe(merchantId, waker),
      logger: this.logger,
    });
    this.sessions.add(session);
    response.on('close', () => this.sessions.delete(session));
    session.open();
  }

  beforeApplicationShutdown(): void {
    for (const session of this.sessions) session.close();
    this.sessions.clear();
  }
}
