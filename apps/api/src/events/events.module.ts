import { Module } from '@nestjs/common';
import { EventLog } from './event-log';
import { EventNotifications } from './event-notifications';
import { EventStreamController } from './event-stream.controller';
import { EVENT_STREAM_SOURCES, OutboxEventSource } from './event-stream-sources';
import { EventStreams } from './event-streams';

/**
 * GET /v1/events/stream: the merchant's events as Server-Sent Events, read from the durable
 * event log (a second source is one more class in EVENT_STREAM_SOURCES: see EventStreamSource).
 */
@Module({
  controllers: [EventStreamController],
  providers: [
    OutboxEventSource,
    { provide: EVENT_STREAM_SOURCES, inject: [OutboxEventSource], useFactory: (outbox: OutboxEventSource) => [outbox] },
    EventLog,
    EventNotifications,
    EventStreams,
  ],
  exports: [EventLog, EventNotifications],
})
export class EventsModule {}
