// The worker's workflowsPath: every workflow the platform runs, and nothing else.
export { selfCheckWorkflow } from './self-check';
export { issuanceWorkflow } from './issuance';
export { campaignWorkflow } from './campaign';
export { reconcilerWorkflow } from './reconciler';
export { webhookDeliveryWorkflow } from './webhook-delivery';
export { redemptionWorkflow } from './redemption';
export { vestingWorkflow } from './vesting';
export { contractIndexerWorkflow } from './contract-indexer';
export { chainReconciliationWorkflow } from './reconciliation';
