/**
 * The domain's words, imported by the API, the workflows and the activities alike. Everything
 * exported here must stay safe for Temporal's workflow sandbox: no Node built-ins, no I/O, no
 * clocks. What needs Node lives beside it: memo encoding with Buffer in `@nova/domain/memos`, the
 * webhook address rules (ipaddr.js) in `@nova/domain/webhook-addresses`.
 */
export * from './amounts';
export * from './keys';
export * from './issuance';
export * from './campaign';
export * from './redemption';
export * from './vesting';
export * from './webhooks';
export * from './resources';
export * from './contract-events';
export * from './reconciliation';
