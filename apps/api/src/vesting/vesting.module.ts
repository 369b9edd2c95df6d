import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { VestingController } from './vesting.controller';
import { VestingService } from './vesting.service';

@Module({
  imports: [CampaignsModule],
  controllers: [VestingController],
  providers: [VestingService],
})
export class VestingModule {}
