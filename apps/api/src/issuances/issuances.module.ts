import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { AdminIssuancesController } from './admin-issuances.controller';
import { IssuanceStarter } from './issuance-starter';
import { IssuanceWorkflows } from './issuance-workflows';
import { IssuancesController } from './issuances.controller';
import { IssuancesService } from './issuances.service';

@Module({
  imports: [CampaignsModule],
  controllers: [IssuancesController, AdminIssuancesController],
  providers: [IssuancesService, IssuanceWorkflows, IssuanceStarter],
})
export class IssuancesModule {}
