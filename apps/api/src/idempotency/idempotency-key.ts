import { createHash } from 'node:crypto';
import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/**
 * 1-255 printable ASCII characters. A key sent as the IETF draft's quoted sf-string
 * ("...") is taken as it is, quotes included: the same client always sends it the same way.
 */
const KEY_SHAPE = /^[\x20-\x7e]{1,255}$/;

/** The key a request runs under, for a handler whose work must survive a take-over (see IdempotencyInterceptor). */
export interface IdempotencyClaim {
  key: string;
  /** The same for every run of one request under this key: record it on what the request creates. */
  claimId: string;
  /** 1 for the first run; more when this run took over from one that crashed or failed with a 5xx. */
  attempt: number;
}

export type IdempotentRequest = Request & { idempotencyClaim?: IdempotencyClaim };

function badKey(message: string): BadRequestException {
  return new BadRequestException({ message, details: [{ field: IDEMPOTENCY_KEY_HEADER, messages: [message] }] });
}

/** The request's key, or a 400 naming the header (the validation errors' shape). */
export function idempotencyKeyOf(request: Request): string {
  const raw = request.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  if (value === undefined || value === '') {
    throw badKey(`the ${IDEMPOTENCY_KEY_HEADER} header is required on ${request.method} ${request.path}`);
  }
  if (!KEY_SHAPE.test(value)) {
    throw badKey(`${IDEMPOTENCY_KEY_HEADER} must be 1-255 printable ASCII characters`);
  }
  return value;
}

/** JSON with sorted keys, so equal bodies fingerprint equally whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as Record<string, unknown>)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * What "the same request" means: the method, the path with its query, and the JSON body as
 * sent (key order and white space aside; "1" and "1.0" are different bodies).
 */
export function requestFingerprint(method: string, url: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${url}\n${canonical(body)}`)
    .digest('hex');
}

/** The claim of the request's Idempotency-Key, for handlers that record it (e.g. on the issuance row). */
export const CurrentIdempotencyClaim = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
  const claim = ctx.switchToHttp().getRequest<IdempotentRequest>().idempotencyClaim;
  // Only a route the interceptor does not cover lacks one: a programming error, not the caller's.
  if (!claim) throw new Error('no Idempotency-Key claim on this request: is it a mutating merchant route?');
  return claim;
});
