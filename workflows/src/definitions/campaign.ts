import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CampaignChangeKind } from '@nova/domain';

export const campaignWorkflowType = 'campaignWorkflow';

export interface CampaignWorkflowInput {
  campaignId: string;
  merchantId: string;
  /** Carried across continue-as-new: the highest change sequence number signalled ... */
  requestedSeq?: number;
  /** ... and the highest one settled. */
  settledSeq?: number;
  /** How long an idle run waits for another change before it completes (default 30 s). */
  idleSeconds?: number;
  /** A run continues as new once its history has this many events (default 2000, or when the server suggests it). */
  maxHistoryEvents?: number;
}

/**
 * "Changes up to `seq` are waiting in campaign_chain_changes." Only the highest number counts,
 * so signals may arrive late, twice or out of order: the workflow reads the changes themselves
 * from the queue the API wrote, in seq order.
 */
export interface CampaignChangeSignal {
  seq: number;
}
export const campaignChangeSignal = defineSignal<[CampaignChangeSignal]>('campaignChange');

export interface CampaignSyncProgress {
  requestedSeq: number;
  settledSeq: number;
  /** The change being written to the contract now. */
  current?: { seq: number; kind: CampaignChangeKind };
  /** The last settled change's outcome. */
  last?: { seq: number; kind: CampaignChangeKind; status: 'synced' | 'failed'; failureType?: string };
}

/** What the campaign workflow is doing now (for operators: the read model has the outcomes). */
export const campaignSyncQuery = defineQuery<CampaignSyncProgress>('campaignSync');

export interface CampaignSyncOutcome {
  settledSeq: number;
  /** Changes this run settled, by outcome. */
  synced: number;
  failed: number;
}
