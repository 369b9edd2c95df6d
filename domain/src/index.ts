/**
 * The domain's words, imported by the API, the workflows and the activities alike. Everything
 * exported here must stay safe for Temporal's workflow sandbox: no Node built-ins, no I/O, no
 * clocks. What needs Node (memo encoding with Buffer) lives beside it in `@nova/domain/memos`.
 */
export * from './amounts';
export * from './keys';
export * from './issuance';
export * from './campaign';
