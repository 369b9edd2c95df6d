export * from './worker';
export * from './stellar';
