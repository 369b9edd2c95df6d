export * from './config';
export * from './temporal-connection';
export * from './logger';
export * from './stellar';
