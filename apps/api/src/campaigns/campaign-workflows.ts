import { Inject, Injectable } from '@nestjs/common';
import { Client } from '@temporalio/client';
import type { Campaign } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { campaignWorkflowId } from '@nova/domain';
import {
  campaignChangeSignal,
  campaignWorkflowType,
  searchAttributes,
  type CampaignWorkflowInput,
} from '@nova/workflows/definitions';
import { InjectConfig } from '../config/config.module';

/**
 * Tells a campaign's workflow (`campaign/<id>`) that changes up to a sequence number are
 * waiting: signal-with-start, so the signal reaches the running workflow, or starts one.
 */
@Injectable()
export class CampaignWorkflows {
  constructor(
    @Inject(Client) private readonly temporal: Client,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  /** Campaign sync is on when a campaign contract is configured (CAMPAIGN_CONTRACT_ID / STELLAR_CONTRACTS_FILE). */
  get syncEnabled(): boolean {
    return Boolean(this.config.stellar.campaignContractId);
  }

  async signalChanges(campaign: Campaign, seq: number, requestId?: string): Promise<void> {
    const input: CampaignWorkflowInput = { campaignId: campaign.id, merchantId: campaign.merchantId };
    await this.temporal.workflow.signalWithStart(campaignWorkflowType, {
      workflowId: campaignWorkflowId(campaign.id),
      taskQueue: this.config.temporal.taskQueue,
      args: [input],
      signal: campaignChangeSignal,
      signalArgs: [{ seq }],
      staticSummary: `Campaign ${campaign.id} on the campaign contract`,
      staticDetails: `merchant ${campaign.merchantId}, contract ${this.config.stellar.campaignContractId ?? ''}`,
      memo: { merchantId: campaign.merchantId, campaignId: campaign.id, ...(requestId ? { requestId } : {}) },
      typedSearchAttributes: [
        { key: searchAttributes.merchantId, value: campaign.merchantId },
        { key: searchAttributes.campaignId, value: campaign.id },
        ...(requestId ? [{ key: searchAttributes.requestId, value: requestId }] : []),
      ],
    });
  }
}
