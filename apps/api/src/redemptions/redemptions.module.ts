import { Module } from '@nestjs/common';
import { AdminRedemptionsController } from './admin-redemptions.controller';
import { HolderAccounts } from './holder-accounts';
import { RedemptionsController } from './redemptions.controller';
import { RedemptionsService } from './redemptions.service';

@Module({
  controllers: [RedemptionsController, AdminRedemptionsController],
  providers: [RedemptionsService, HolderAccounts],
})
export class RedemptionsModule {}
