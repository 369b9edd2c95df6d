export { createApp } from './app';
export { IdempotencyKeys } from './idempotency/idempotency-keys';
