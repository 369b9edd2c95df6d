export * from './errors';
export * from './gateway';
export * from './journal';
export * from './payment-batch-source';
export * from './contract-call-source';
export * from './payment-activities';
export * from './campaign-contract';
