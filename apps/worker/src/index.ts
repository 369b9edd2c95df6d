export * from './worker';
export * from './stellar';
export * from './activities';
