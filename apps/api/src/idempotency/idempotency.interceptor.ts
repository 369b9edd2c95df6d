import {
  ConflictException,
  HttpException,
  Injectable,
  Logger,
  UnprocessableEntityException,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Response } from 'express';
import { catchError, from, mergeMap, of, throwError, type Observable } from 'rxjs';
import type { AuthenticatedMerchant } from '../auth/merchant.guard';
import { errorBody } from '../common/http-exception.filter';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  idempotencyKeyOf,
  requestFingerprint,
  type IdempotencyClaim,
  type IdempotentRequest,
} from './idempotency-key';
import { IdempotencyKeys, type IdempotencyKeyRecord, type RequestIdentity } from './idempotency-keys';

const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Response headers an answer is replayed with (besides its status and body). */
const REPLAYED_HEADERS = ['location'];

/**
 * Idempotency-Key for every mutating merchant request, in one place (Stripe's semantics and
 * the IETF draft's, draft-ietf-httpapi-idempotency-key-header). Registered globally: every
 * POST, PUT, PATCH and DELETE of a route behind MerchantGuard gets it, with nothing to add to
 * the route (its OpenAPI entry gets the header and answers from documentIdempotency()).
 *
 * - The key is scoped per merchant. The request's fingerprint is its method, path and JSON
 *   body, so the same key on another route is "another request": 422, like another body.
 * - Missing or malformed key: 400 naming the header. Same key, another request: 422
 *   (details.reason IdempotencyKeyReused). Same key while the first request runs: 409
 *   (details.reason IdempotencyKeyInFlight).
 * - Final answers are stored and replayed to every retry, with the original status, body and
 *   Location plus `Idempotent-Replayed: true`: 2xx, and the 4xx a handler gives (validation,
 *   404, business refusals such as 409 CampaignPaused): retrying them cannot change them.
 * - A 5xx is not final: it releases the key, and the next retry of the same request runs
 *   again. A request whose process died keeps the key until IDEMPOTENCY_LOCK_TIMEOUT_SECONDS
 *   have passed; then a retry takes it over. Both keep the key's claim id, so a handler that
 *   records it (the issuance does, under a unique index) never creates a second resource.
 * - Keys are kept IDEMPOTENCY_KEY_RETENTION_HOURS (24 h by default, never less); an expired key
 *   may be used again, as a new key (IdempotencyKeys sweeps them).
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger(IdempotencyInterceptor.name);

  constructor(private readonly keys: IdempotencyKeys) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<IdempotentRequest & { merchant?: AuthenticatedMerchant }>();
    if (!MUTATING_METHODS.has(request.method) || !request.merchant) return next.handle();
    const response = http.getResponse<Response>();

    const key = idempotencyKeyOf(request);
    const identity: RequestIdentity = {
      merchantId: request.merchant.merchantId,
      key,
      method: request.method,
      path: request.originalUrl,
      hash: requestFingerprint(request.method, request.originalUrl, request.body),
    };
    const record = await this.keys.claim(identity);
    if (!record.claimed) return of(this.answerFromRecord(identity, record, response));

    const claim: IdempotencyClaim = { key, claimId: record.claimId, attempt: record.attempts };
    request.idempotencyClaim = claim;
    return next.handle().pipe(
      mergeMap((body) => from(this.store(identity, claim, response.statusCode, body, response))),
      catchError((error: unknown) =>
        from(this.settleFailure(identity, claim, error)).pipe(mergeMap(() => throwError(() => error))),
      ),
    );
  }

  /** The key is someone else's or has its answer: replay it, or refuse (409 / 422). */
  private answerFromRecord(identity: RequestIdentity, record: IdempotencyKeyRecord, response: Response): unknown {
    if (record.requestHash !== identity.hash) {
      const elsewhere = record.requestMethod !== identity.method || record.requestPath !== identity.path;
      throw new UnprocessableEntityException({
        message: elsewhere
          ? `${IDEMPOTENCY_KEY_HEADER} ${identity.key} was already used for ${record.requestMethod} ${record.requestPath}`
          : `${IDEMPOTENCY_KEY_HEADER} ${identity.key} was already used with a different request body`,
        details: { reason: 'IdempotencyKeyReused', usedFor: `${record.requestMethod} ${record.requestPath}` },
      });
    }
    if (record.state !== 'completed' || record.responseStatus === null) {
      throw new ConflictException({
        message: `a request with ${IDEMPOTENCY_KEY_HEADER} ${identity.key} is still in progress: retry later`,
        details: { reason: 'IdempotencyKeyInFlight' },
      });
    }
    response.status(record.responseStatus);
    for (const [name, value] of Object.entries(record.responseHeaders ?? {})) response.setHeader(name, value);
    response.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
    return record.responseBody ?? undefined;
  }

  private async store(
    identity: RequestIdentity,
    claim: IdempotencyClaim,
    status: number,
    body: unknown,
    response: Response,
  ): Promise<unknown> {
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = response.getHeader(name);
      if (value !== undefined) headers[name] = String(value);
    }
    try {
      await this.keys.complete(identity, claim, { status, body, headers });
    } catch (error) {
      // The work is done and the answer is true: give it. A retry meets the key in flight
      // (409) until the lock timeout, then runs again under the same claim.
      this.logger.error(`could not store the answer for ${IDEMPOTENCY_KEY_HEADER} ${identity.key}: ${String(error)}`);
    }
    return body;
  }

  /** A 4xx is the final answer; a 5xx (or any unexpected error) releases the key for a retry. */
  private async settleFailure(identity: RequestIdentity, claim: IdempotencyClaim, error: unknown): Promise<void> {
    try {
      if (error instanceof HttpException && error.getStatus() < 500) {
        await this.keys.complete(identity, claim, { status: error.getStatus(), body: errorBody(error), headers: {} });
      } else {
        await this.keys.release(identity, claim);
      }
    } catch (storing) {
      this.logger.error(`could not settle ${IDEMPOTENCY_KEY_HEADER} ${identity.key}: ${String(storing)}`);
    }
  }
}
