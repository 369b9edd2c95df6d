export * from './worker';
export * from './stellar';
export * from './activities';
export * from './metrics';
