import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import type { ErrorResponse } from './error-response';

/** Seconds a client is told to wait before retrying while the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

// What the pg driver adapter and Prisma say when PostgreSQL cannot be reached or went away,
// as opposed to a statement it refused: https://www.prisma.io/docs/orm/reference/error-reference
const UNREACHABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TlsConnectionError',
]);
const UNREACHABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const UNREACHABLE_SQLSTATES = /^(08...|57P01|57P02|57P03|53300)$/;
const UNREACHABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

/** True when an error means "PostgreSQL is down or unreachable": a 503, worth retrying. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 10; seen++) {
    const current = pending.pop() as
      | {
          code?: unknown;
          kind?: unknown;
          originalCode?: unknown;
          cause?: unknown;
          meta?: { driverAdapterError?: unknown };
        }
      | null
      | undefined;
    if (current === null || typeof current !== 'object') continue;
    if (typeof current.kind === 'string' && UNREACHABLE_KINDS.has(current.kind)) return true;
    if (typeof current.code === 'string') {
      if (UNREACHABLE_PRISMA_CODES.has(current.code) || UNREACHABLE_NODE_CODES.has(current.code)) return true;
      if (UNREACHABLE_SQLSTATES.test(current.code)) return true;
    }
    if (typeof current.originalCode === 'string' && UNREACHABLE_SQLSTATES.test(current.originalCode)) return true;
    pending.push(current.cause, current.meta?.driverAdapterError);
  }
  return false;
}

/** The body every error is answered with: { statusCode, error, message, details? }; no internals of a 5xx. */
export function errorBody(exception: unknown): ErrorResponse {
  if (!(exception instanceof HttpException)) {
    if (isDatabaseUnavailable(exception)) {
      return {
        statusCode: 503,
        error: 'Service Unavailable',
        message: `the database is unreachable: retry in ${DATABASE_RETRY_AFTER_SECONDS} s (the same Idempotency-Key is safe to reuse)`,
        details: { reason: 'DatabaseUnavailable' },
      };
    }
    return { statusCode: 500, error: 'Internal Server Error', message: 'An unexpected error occurred' };
  }
  const statusCode = exception.getStatus();
  const error = STATUS_CODES[statusCode] ?? 'Error';
  const raw = exception.getResponse();
  if (typeof raw === 'string') return { statusCode, error, message: raw };
  const { message, details } = raw as { message?: unknown; details?: ErrorResponse['details'] };
  const text = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : error;
  return details === undefined ? { statusCode, error, message: text } : { statusCode, error, message: text, details };
}

/** The methods the app's routes serve at a path: lets "no route" tell 404 from 405. */
export type RouteMethods = (path: string) => string[];

/** Renders every error as errorBody() does; a path served under other methods is a 405 with Allow. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(private readonly routeMethods: RouteMethods = () => []) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    let body = errorBody(exception);
    if (exception instanceof NotFoundException && body.message === `Cannot ${request.method} ${request.originalUrl}`) {
      body = this.unroutedAnswer(request, response) ?? body;
    }
    if (body.statusCode === 503 && !response.headersSent) {
      response.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
    }
    if (body.statusCode >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    if (response.headersSent) return;
    response.status(body.statusCode).json(body);
  }

  /** Nest's "Cannot GET /x" (no route matched): 405 when the path exists under another method. */
  private unroutedAnswer(request: Request, response: Response): ErrorResponse | undefined {
    const methods = this.routeMethods(request.path);
    if (methods.length === 0) return undefined;
    const allow = [...new Set([...methods, ...(methods.includes('GET') ? ['HEAD'] : [])])].join(', ');
    response.setHeader('Allow', allow);
    return {
      statusCode: 405,
      error: 'Method Not Allowed',
      message: `${request.method} is not allowed on ${request.path}; allowed: ${allow}`,
    };
  }
}

interface RouterLayer {
  route?: { methods?: Record<string, boolean>; path?: unknown };
  match?: (path: string) => boolean;
}

/** RouteMethods read from an Express application's router (its route layers). */
export function expressRouteMethods(expressApp: object): RouteMethods {
  const router = (expressApp as { router?: { stack?: RouterLayer[] } }).router;
  return (path) => {
    const methods: string[] = [];
    // A route with a parameter (":id") also matches a sibling's literal segment ("quotes" in
    // /v1/redemptions/quotes); the literal route is the resource named, as routers that rank
    // static segments first (find-my-way, Rails) have it.
    const matching = (router?.stack ?? []).filter(
      // A route taking every method is middleware mounted with all(), not a served route.
      (layer) => layer.route?.methods && Object.keys(layer.route.methods).length <= 12 && layer.match?.(path),
    );
    const literal = matching.filter(
      (layer) => typeof layer.route?.path === 'string' && !layer.route.path.includes(':'),
    );
    for (const layer of literal.length > 0 ? literal : matching) {
      for (const [method, on] of Object.entries(layer.route!.methods!)) {
        if (on && method !== '_all') methods.push(method.toUpperCase());
      }
    }
    return methods;
  };
}

/** The routes without parameters, by path: the methods each serves. */
export function literalRouteMethods(expressApp: object): Map<string, string[]> {
  const router = (expressApp as { router?: { stack?: RouterLayer[] } }).router;
  const routes = new Map<string, string[]>();
  for (const layer of router?.stack ?? []) {
    const path = layer.route?.path;
    if (typeof path !== 'string' || path.includes(':') || path.includes('*') || !layer.route?.methods) continue;
    if (Object.keys(layer.route.methods).length > 12) continue;
    const methods = routes.get(path) ?? [];
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all' && !methods.includes(method.toUpperCase())) methods.push(method.toUpperCase());
    }
    routes.set(path, methods);
  }
  return routes;
}

export const INTERNAL_ERROR_STATUS = HttpStatus.INTERNAL_SERVER_ERROR;
