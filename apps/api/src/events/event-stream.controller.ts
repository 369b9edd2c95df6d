import { Controller, Get, Headers, Res } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
  type SchemaObject,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { WEBHOOK_EVENT_TYPES } from '@nova/domain';
import { CurrentMerchant, MerchantAuth, type AuthenticatedMerchant } from '../auth/merchant.guard';
import { RateLimited } from '../common/rate-limit';
import { fieldError } from '../common/validation';
import { WEBHOOK_EVENT_SCHEMAS } from '../webhooks/dto/webhook.dto';
import { EventStreamGap } from './dto/event-stream.dto';
import { EventStreams } from './event-streams';
import { EVENT_STREAM_GAP } from './event-stream-session';

export const LAST_EVENT_ID_HEADER = 'Last-Event-ID';
const POSITION = /^\d{1,19}$/;
const MAX_POSITION = 2n ** 63n - 1n;

/** The Last-Event-ID an EventSource sends on reconnection, or a 400 naming the header. */
function lastEventIdOf(value: string | undefined): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  const position = POSITION.test(value) ? BigInt(value) : undefined;
  if (position === undefined || position > MAX_POSITION) {
    throw fieldError(
      LAST_EVENT_ID_HEADER,
      `${LAST_EVENT_ID_HEADER} must be the id of an event of this stream (digits)`,
    );
  }
  return position;
}

// Each event type's data, for readers and generators of clients: the webhook schemas, and the gap's
// (an extension: OpenAPI 3.0 cannot type the messages of a stream; the cast admits the x- key).
const STREAM_SCHEMA = {
  type: 'string',
  description: 'Server-Sent Events',
  'x-event-data-schemas': {
    ...Object.fromEntries(
      Object.entries(WEBHOOK_EVENT_SCHEMAS).map(([type, schema]) => [type, { $ref: getSchemaPath(schema) }]),
    ),
    [EVENT_STREAM_GAP]: { $ref: getSchemaPath(EventStreamGap) },
  },
} as SchemaObject;

const EXAMPLE =
  'retry: 2000\n: stream open\n\n' +
  'id: 5401\nevent: issuance.confirmed\n' +
  'data: {"id":"evt_5388","type":"issuance.confirmed","createdAt":"2026-03-01T12:00:00.000Z","data":{"id":"5f0c2a4e-8b1d-4f7e-9a53-2c4d8e9f0a1b","status":"confirmed"}}\n\n' +
  ': heartbeat\n\n';

@ApiTags('events')
@ApiExtraModels(EventStreamGap)
@MerchantAuth()
@RateLimited()
@Controller('v1/events')
export class EventStreamController {
  constructor(private readonly streams: EventStreams) {}

  @Get('stream')
  @ApiOperation({
    summary: "The merchant's events as they happen (Server-Sent Events), resumable by Last-Event-ID",
    description:
      'A text/event-stream that does not end: the same events, with the same JSON body, as the webhooks ' +
      `(${WEBHOOK_EVENT_TYPES.join(', ')}). Each message has \`id:\` (the event's position in the log, ` +
      'increasing), `event:` (its type) and one `data:` line, the webhook body `{ id, type, createdAt, data }` ' +
      '(its `id` is the webhook-id). Without Last-Event-ID the stream starts with the next event; with it, ' +
      'right after that event, from the durable log, as long as it is retained (EVENT_STREAM_RETENTION_HOURS); ' +
      `otherwise the first message is a \`${EVENT_STREAM_GAP}\` event saying from where it goes on. A comment ` +
      '(`: heartbeat`) comes every EVENT_STREAM_HEARTBEAT_SECONDS. At most ' +
      'EVENT_STREAM_CLIENT_BUFFER_LIMIT is buffered for a client, then the stream waits for it to read; one ' +
      'that reads nothing for a heartbeat interval is disconnected and resumes by Last-Event-ID, as after any ' +
      'disconnection. Any API replica serves any client.',
  })
  @ApiHeader({
    name: LAST_EVENT_ID_HEADER,
    required: false,
    description: 'The id of the last message received: the stream resumes right after it',
    schema: { type: 'string', pattern: '^[0-9]{1,19}$', example: '5400' },
  })
  @ApiOkResponse({
    description:
      'The stream. `data` of each event type is the schema named after it (IssuanceConfirmedEvent, ...); ' +
      `of \`${EVENT_STREAM_GAP}\`, EventStreamGap.`,
    content: {
      'text/event-stream': {
        schema: STREAM_SCHEMA,
        example: EXAMPLE,
      },
    },
  })
  async stream(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Headers(LAST_EVENT_ID_HEADER.toLowerCase()) lastEventId: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    await this.streams.open(merchant.merchantId, lastEventIdOf(lastEventId), response);
  }
}
