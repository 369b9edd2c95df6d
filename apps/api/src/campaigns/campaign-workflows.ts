import { Inject, Injectable } from '@nestjs/common';
import type { Campaign } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { WorkflowHandoffs } from '@nova/workflows/client';
import { InjectConfig } from '../config/config.module';

/**
 * Tells a campaign's workflow (`campaign/<id>`) that changes up to a sequence number are
 * waiting: signal-with-start, so the signal reaches the running workflow, or starts one.
 */
@Injectable()
export class CampaignWorkflows {
  constructor(
    @Inject(WorkflowHandoffs) private readonly handoffs: WorkflowHandoffs,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  /** Campaign sync is on when a campaign contract is configured (CAMPAIGN_CONTRACT_ID / STELLAR_CONTRACTS_FILE). */
  get syncEnabled(): boolean {
    return Boolean(this.config.stellar.campaignContractId);
  }

  async signalChanges(campaign: Campaign, seq: number, requestId?: string): Promise<void> {
    await this.handoffs.signalCampaignChanges(campaign, seq, requestId);
  }
}
