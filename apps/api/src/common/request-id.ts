import { randomUUID } from 'node:crypto';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { trace } from '@opentelemetry/api';

export const REQUEST_ID_HEADER = 'x-request-id';
const acceptable = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a caller's X-Request-Id when it is sane, else makes one; echoes it on the response. */
export function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const offered = req.headers[REQUEST_ID_HEADER];
  const id = typeof offered === 'string' && acceptable.test(offered) ? offered : randomUUID();
  res.setHeader('X-Request-Id', id);
  // The request's trace (when tracing is on) is found by its request id, and the other way round.
  trace.getActiveSpan()?.setAttribute('nova.request_id', id);
  return id;
}

/** The id pino-http gave this request: logged on every line, carried into workflow memos. */
export const RequestId = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => {
  const req = ctx.switchToHttp().getRequest<IncomingMessage & { id?: unknown }>();
  return String(req.id ?? '');
});
