export * from './errors';
export * from './gateway';
export * from './payment-submitter';
export * from './payment-activities';
export * from './contract-call-submitter';
export * from './campaign-contract';
