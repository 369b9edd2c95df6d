import {
  BadRequestException,
  HttpException,
  MethodNotAllowedException,
  Module,
  PayloadTooLargeException,
  RequestMethod,
  UnsupportedMediaTypeException,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { json, type NextFunction, type Request, type Response } from 'express';
import type { ApiConfig } from '@nova/config';
import { InjectConfig } from '../config/config.module';
import { literalRouteMethods } from './http-exception.filter';
import { inspectInput } from './validation';

/**
 * What every request must be before a route sees it, for every route (those of modules added
 * later too): a method the API serves (405 otherwise), a JSON body if it has a body at all
 * (415), at most API_BODY_LIMIT bytes of it (413, the limit named), with only storable strings
 * and no absurd nesting (400, see inspectInput). Registered after the
 * request logger, so these answers carry an X-Request-Id and are logged like any other.
 */

export const SERVED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

function refuseUnservedMethod(req: Request, res: Response, next: NextFunction): void {
  if (SERVED_METHODS.includes(req.method)) return next();
  res.setHeader('Allow', SERVED_METHODS.join(', '));
  next(new MethodNotAllowedException(`${req.method} is not a method this API serves`));
}

function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(length) && length > 0;
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  if (!hasBody(req) || JSON_MEDIA_TYPE.test(req.headers['content-type'] ?? '')) return next();
  const given = req.headers['content-type'] ? `Content-Type ${req.headers['content-type']}` : 'no Content-Type';
  next(
    new UnsupportedMediaTypeException({
      message: `request bodies must be JSON (Content-Type: application/json); got ${given}`,
      details: [{ field: 'Content-Type', messages: ['Content-Type must be application/json'] }],
    }),
  );
}

export function formatBytes(bytes: number): string {
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** body-parser's errors (http-errors with a `type`) as the API's own 4xx. */
function bodyParserError(error: unknown, limitBytes: number): HttpException {
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
  if (type === 'entity.too.large') {
    return new PayloadTooLargeException({
      message: `the request body is larger than the limit of ${formatBytes(limitBytes)} (${limitBytes} bytes, API_BODY_LIMIT)`,
      details: { reason: 'BodyTooLarge', limitBytes },
    });
  }
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
    return new UnsupportedMediaTypeException((error as Error).message);
  }
  if (type === 'entity.parse.failed') {
    return new BadRequestException({
      message: 'the request body is not valid JSON',
      details: [{ field: 'body', messages: ['the request body must be a JSON object'] }],
    });
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new BadRequestException(`the request body could not be read: ${(error as Error).message}`);
  }
  return error instanceof HttpException ? error : new BadRequestException('the request body could not be read');
}

@Module({})
export class RequestContractModule implements NestModule {
  constructor(
    @InjectConfig() private readonly config: ApiConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /**
   * A path that is a literal route (/v1/redemptions/quotes) answers 405 for a method it does not
   * serve, even where a parameter route of that method would match it (GET /v1/redemptions/:id).
   * The literal routes are read from the router once, at the first request (they exist by then).
   */
  private literalRoutes: Map<string, string[]> | undefined;

  private refuseShadowedMethod = (req: Request, res: Response, next: NextFunction): void => {
    this.literalRoutes ??= literalRouteMethods(this.adapterHost.httpAdapter.getInstance());
    const methods = this.literalRoutes.get(req.path.replace(/\/+$/, ''));
    if (!methods || methods.includes(req.method) || (req.method === 'HEAD' && methods.includes('GET'))) return next();
    const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].join(', ');
    res.setHeader('Allow', allow);
    next(new MethodNotAllowedException(`${req.method} is not allowed on ${req.path}; allowed: ${allow}`));
  };

  configure(consumer: MiddlewareConsumer): void {
    const limitBytes = this.config.http.bodyLimitBytes;
    const parseJson = json({ limit: limitBytes });
    const readJsonBody = (req: Request, res: Response, next: NextFunction): void =>
      parseJson(req, res, (error?: unknown) => {
        if (error !== undefined) return next(bodyParserError(error, limitBytes));
        // Here, not in the validation pipe: the idempotency fingerprint reads the body before any pipe.
        try {
          inspectInput(req.body, undefined);
        } catch (refusal) {
          return next(refusal);
        }
        next();
      });
    consumer
      .apply(refuseUnservedMethod, this.refuseShadowedMethod, requireJsonBody, readJsonBody)
      .forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
