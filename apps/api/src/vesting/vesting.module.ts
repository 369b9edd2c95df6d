import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { AdminVestingController } from './admin-vesting.controller';
import { VestingController } from './vesting.controller';
import { VestingService } from './vesting.service';

@Module({
  imports: [CampaignsModule],
  controllers: [VestingController, AdminVestingController],
  providers: [VestingService],
})
export class VestingModule {}
