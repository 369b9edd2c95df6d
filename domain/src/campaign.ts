import { fromStroops } from './amounts';

/** active | paused: a merchant pauses and resumes; dates decide started and ended. */
export const CAMPAIGN_STATUSES = ['active', 'paused'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** The kinds of change the campaign workflow writes to the campaign contract, in order. */
export const CAMPAIGN_CHANGE_KINDS = ['register', 'update', 'pause', 'resume'] as const;
export type CampaignChangeKind = (typeof CAMPAIGN_CHANGE_KINDS)[number];

/** A campaign's state on the contract: pending until its latest change is written, then synced or failed. */
export const ON_CHAIN_STATUSES = ['pending', 'synced', 'failed'] as const;
export type OnChainStatus = (typeof ON_CHAIN_STATUSES)[number];

/** A change's own state: pending -> synced | failed. */
export const CHAIN_CHANGE_STATUSES = ON_CHAIN_STATUSES;

/** What the admission rule needs to know of a campaign (stroops as bigint). */
export interface CampaignBudgetState {
  id: string;
  status: string;
  startsAt: Date;
  endsAt: Date;
  budgetStroops: bigint;
  reservedStroops: bigint;
  paidStroops: bigint;
  maxPerWalletStroops: bigint | null;
}

export const ADMISSION_REFUSALS = [
  'CampaignPaused',
  'CampaignNotStarted',
  'CampaignEnded',
  'CampaignBudgetExhausted',
  'WalletLimitExceeded',
] as const;
export type AdmissionRefusalReason = (typeof ADMISSION_REFUSALS)[number];

export interface AdmissionRefusal {
  reason: AdmissionRefusalReason;
  message: string;
}

/** Remaining budget: budget - reserved - paid. */
export function remainingStroops(campaign: CampaignBudgetState): bigint {
  return campaign.budgetStroops - campaign.reservedStroops - campaign.paidStroops;
}

/**
 * The one admission rule of a campaign, for the API's fast refusal at the door and the
 * workflow's reservation (the authority: it runs under the campaign's row lock).
 * @param walletHeldStroops what the wallet already holds from this campaign: the amounts of
 *   its issuances whose reservation is reserved or paid (not counting this one).
 * @returns undefined when the amount may be reserved.
 */
export function admissionRefusal(
  campaign: CampaignBudgetState,
  amountStroops: bigint,
  walletHeldStroops: bigint,
  walletAddress: string,
  now: Date,
): AdmissionRefusal | undefined {
  if (campaign.status === 'paused') return { reason: 'CampaignPaused', message: `campaign ${campaign.id} is paused` };
  if (now < campaign.startsAt) {
    return {
      reason: 'CampaignNotStarted',
      message: `campaign ${campaign.id} starts at ${campaign.startsAt.toISOString()}`,
    };
  }
  if (now >= campaign.endsAt) {
    return { reason: 'CampaignEnded', message: `campaign ${campaign.id} ended at ${campaign.endsAt.toISOString()}` };
  }
  const remaining = remainingStroops(campaign);
  if (remaining < amountStroops) {
    return {
      reason: 'CampaignBudgetExhausted',
      message: `campaign ${campaign.id} has ${fromStroops(remaining)} left; ${fromStroops(amountStroops)} asked`,
    };
  }
  if (campaign.maxPerWalletStroops !== null) {
    const total = walletHeldStroops + amountStroops;
    if (total > campaign.maxPerWalletStroops) {
      return {
        reason: 'WalletLimitExceeded',
        message: `wallet ${walletAddress} would receive ${fromStroops(total)} from campaign ${campaign.id}; the limit is ${fromStroops(campaign.maxPerWalletStroops)}`,
      };
    }
  }
  return undefined;
}
