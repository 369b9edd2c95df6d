export { createApp } from './app';
export { IssuanceStarter } from './issuances/issuance-starter';
export { IdempotencyKeys } from './idempotency/idempotency-keys';
