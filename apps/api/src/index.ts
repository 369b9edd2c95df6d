export { createApp, openApiDocument } from './app';
export { IdempotencyKeys } from './idempotency/idempotency-keys';
export { redactingRequestSerializer, redactUrl } from './common/log-redaction';
export { isDatabaseUnavailable } from './common/http-exception.filter';
export { EventLog } from './events/event-log';
export { EVENT_STREAM_LISTENER_NAME } from './events/event-notifications';
