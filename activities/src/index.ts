import type { PrismaClient } from '@nova/db';
import type { Clock } from './clock';
import { createSelfCheckActivities } from './postgres/self-check';
import { createIssuanceLedgerActivities } from './postgres/issuances';
import { createCampaignChainLedgerActivities } from './postgres/campaign-chain';
import { createCampaignContractActivities } from './stellar/campaign-contract';
import { createRedemptionContractActivities } from './stellar/redemption-contract';
import { createRedemptionLedgerActivities } from './postgres/redemptions';
import { createVestingContractActivities } from './stellar/vesting-contract';
import { createVestingLedgerActivities } from './postgres/vesting';
import { createContractIndexerActivities } from './stellar/contract-indexer';
import { createReconcilerActivities, type TemporalHandoffs } from './handoffs/reconciler';
import { createReconciliationActivities } from './reconciliation/reconciliation';
import type { ContractCallSource } from './stellar/contract-call-source';
import { createPaymentActivities } from './stellar/payment-activities';
import type { StellarGateway } from './stellar/gateway';
import type { PaymentBatchSource } from './stellar/payment-batch-source';
import type { TransactionJournal } from './stellar/journal';
import { createWebhookDeliveryActivities, type WebhookPoster } from './webhooks/deliveries';
import type { WebhookRelay } from './webhooks/relay';

export * from './clock';
export * from './postgres/self-check';
export * from './postgres/issuances';
export * from './postgres/journal';
export * from './postgres/channel-pool';
export * from './postgres/campaign-chain';
export * from './postgres/redemptions';
export * from './postgres/vesting';
export * from './postgres/contract-events';
export * from './handoffs/reconciler';
export * from './reconciliation/reconciliation';
export * from './reconciliation/payment-sources';
export * from './stellar';
export * from './webhooks/relay';
export * from './webhooks/deliveries';
export * from './webhooks/sender';

export interface ActivityDependencies {
  db: PrismaClient;
  clock: Clock;
  workerIdentity: string;
  gateway: StellarGateway;
  /** The one transaction journal: everything put on chain goes through it, exactly once per business key. */
  journal: TransactionJournal;
  /** Platform-built payments (channel-account batches), through the journal. */
  payments: PaymentBatchSource;
  /** Soroban calls signed by the platform account (the contracts' admin), through the journal. */
  contractCalls: ContractCallSource;
  /** The campaign contract; unset when campaign sync is not configured. */
  campaignContractId?: string;
  /** The redemption contract; unset when redemptions are not configured. */
  redemptionContractId?: string;
  /** The vesting contract; unset when vesting schedules are not configured. */
  vestingContractId?: string;
  /** Starts and signals by business id, for the reconciler (the worker binds them on its Temporal client). */
  handoffs: TemporalHandoffs;
  /** The Temporal Web UI, for the `links` of the resources events carry. */
  temporalUi: { uiUrl: string; namespace: string };
  webhooks: {
    /** The outbox relay: kicked after each event written, and the reconciler's catch-up. */
    relay: WebhookRelay;
    /** One signed, SSRF-checked POST per attempt. */
    sender: WebhookPoster;
    /** Attempts in flight per endpoint, across all workers (WEBHOOK_ENDPOINT_CONCURRENCY). */
    endpointConcurrency: number;
    attemptTimeoutSeconds: number;
  };
}

/** Every activity the platform's worker registers, built from its dependencies. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createSelfCheckActivities(deps),
    ...createPaymentActivities(deps),
    ...createIssuanceLedgerActivities({ ...deps, events: deps.webhooks.relay }),
    ...createCampaignChainLedgerActivities({ ...deps, events: deps.webhooks.relay }),
    ...createCampaignContractActivities(deps),
    ...createRedemptionLedgerActivities({ ...deps, events: deps.webhooks.relay }),
    ...createRedemptionContractActivities(deps),
    ...createVestingLedgerActivities({ ...deps, events: deps.webhooks.relay }),
    ...createVestingContractActivities(deps),
    ...createReconcilerActivities({ ...deps, relay: deps.webhooks.relay }),
    ...createWebhookDeliveryActivities(deps),
    ...createContractIndexerActivities(deps),
    ...createReconciliationActivities({
      ...deps,
      distributionAccount: deps.contractCalls.sourceAccount,
      events: deps.webhooks.relay,
    }),
  };
}

export type PlatformActivities = ReturnType<typeof createActivities>;
export * from './metrics';
