import pino from 'pino';
import type { LogLevel } from './config';
import { activeTracing, traceLogFields } from './tracing';

/** Header and field names whose values must never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.apiKey',
  '*.adminApiKey',
  '*.secret',
  '*.secretKey',
];

export function createLogger(options: { name: string; level: LogLevel }): pino.Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: options.name, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // With tracing on, each line carries the trace and span it was written in.
    ...(activeTracing() ? { mixin: traceLogFields } : {}),
  });
}
