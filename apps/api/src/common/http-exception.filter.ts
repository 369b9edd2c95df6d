import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { STATUS_CODES } from 'node:http';
import type { ErrorResponse } from './error-response';

/** Renders every error as { statusCode, error, message, details? }; hides internals of 5xx. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorResponse {
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
}

export const INTERNAL_ERROR_STATUS = HttpStatus.INTERNAL_SERVER_ERROR;
