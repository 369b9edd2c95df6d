import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { STATUS_CODES } from 'node:http';
import type { ErrorResponse } from './error-response';

/** The body every error is answered with: { statusCode, error, message, details? }; no internals of a 5xx. */
export function errorBody(exception: unknown): ErrorResponse {
  if (!(exception instanceof HttpException)) {
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

/** Renders every error as errorBody() does. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = errorBody(exception);
    if (body.statusCode >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    response.status(body.statusCode).json(body);
  }
}

export const INTERNAL_ERROR_STATUS = HttpStatus.INTERNAL_SERVER_ERROR;
