import { ApiProperty } from '@nestjs/swagger';

/** data of the stream's own `stream.gap` event. */
export class EventStreamGap {
  @ApiProperty({ enum: ['stream.gap'], example: 'stream.gap' })
  type!: 'stream.gap';

  @ApiProperty({
    enum: ['OutsideRetention', 'UnknownLastEventId'],
    description:
      'OutsideRetention: events after lastEventId may have been pruned (older than EVENT_STREAM_RETENTION_HOURS). ' +
      'UnknownLastEventId: lastEventId is above every position of this log (another deployment, a restored database).',
    example: 'OutsideRetention',
  })
  reason!: 'OutsideRetention' | 'UnknownLastEventId';

  @ApiProperty({ description: 'The Last-Event-ID the client sent', example: '1200' })
  lastEventId!: string;

  @ApiProperty({ description: 'The stream goes on after this position (also this message’s id)', example: '5400' })
  resumedAfter!: string;

  @ApiProperty({ example: 72 })
  retentionHours!: number;

  @ApiProperty({
    example:
      'events after 1200 up to 5400 are past the retention of 72 h and may be gone: read the resources to catch up; the stream goes on after 5400',
  })
  message!: string;
}
