export { createApp, openApiDocument } from './app';
export { IdempotencyKeys } from './idempotency/idempotency-keys';
export { redactingRequestSerializer, redactUrl } from './common/log-redaction';
export { isDatabaseUnavailable } from './common/http-exception.filter';
