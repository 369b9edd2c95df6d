export * from './activity-profiles';
export * from './search-attributes';
export * from './self-check';
export * from './issuance';
export * from './campaign';
export * from './reconciler';
export * from './webhook-delivery';
export * from './redemption';
