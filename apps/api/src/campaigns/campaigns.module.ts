import { Module } from '@nestjs/common';
import { CampaignWorkflows } from './campaign-workflows';
import { CampaignsController } from './campaigns.controller';
import { CampaignsService } from './campaigns.service';

/**
 * Reward campaigns, and their sync to the campaign contract (through the campaign workflow);
 * CampaignsService.findForMerchant is for modules that act on a campaign.
 */
@Module({
  controllers: [CampaignsController],
  providers: [CampaignsService, CampaignWorkflows],
  exports: [CampaignsService],
})
export class CampaignsModule {}
