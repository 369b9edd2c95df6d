import type { PrismaClient } from '@nova/db';
import type { Clock } from './clock';
import { createSelfCheckActivities } from './postgres/self-check';
import { createIssuanceLedgerActivities } from './postgres/issuances';
import { createCampaignChainLedgerActivities } from './postgres/campaign-chain';
import { createCampaignContractActivities } from './stellar/campaign-contract';
import { createReconcilerActivities, type TemporalHandoffs } from './handoffs/reconciler';
import type { ContractCallSubmitter } from './stellar/contract-call-submitter';
import { createPaymentActivities } from './stellar/payment-activities';
import type { StellarGateway } from './stellar/gateway';
import type { PaymentSubmitter } from './stellar/payment-submitter';

export * from './clock';
export * from './postgres/self-check';
export * from './postgres/issuances';
export * from './postgres/payment-envelopes';
export * from './postgres/channel-pool';
export * from './postgres/campaign-chain';
export * from './postgres/contract-calls';
export * from './handoffs/reconciler';
export * from './stellar';

export interface ActivityDependencies {
  db: PrismaClient;
  clock: Clock;
  workerIdentity: string;
  gateway: StellarGateway;
  submitter: PaymentSubmitter;
  /** Soroban calls signed by the platform account (the contracts' admin), each at most once. */
  contractCalls: ContractCallSubmitter;
  /** The campaign contract; unset when campaign sync is not configured. */
  campaignContractId?: string;
  /** Starts and signals by business id, for the reconciler (the worker binds them on its Temporal client). */
  handoffs: TemporalHandoffs;
}

/** Every activity the platform's worker registers, built from its dependencies. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createSelfCheckActivities(deps),
    ...createPaymentActivities(deps),
    ...createIssuanceLedgerActivities(deps),
    ...createCampaignChainLedgerActivities(deps),
    ...createCampaignContractActivities(deps),
    ...createReconcilerActivities(deps),
  };
}

export type PlatformActivities = ReturnType<typeof createActivities>;
