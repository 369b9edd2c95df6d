import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { AdminRedemptionsController } from './admin-redemptions.controller';
import { HolderAccounts } from './holder-accounts';
import { RedemptionsController } from './redemptions.controller';
import { RedemptionsService } from './redemptions.service';

@Module({
  imports: [CatalogModule],
  controllers: [RedemptionsController, AdminRedemptionsController],
  providers: [RedemptionsService, HolderAccounts],
})
export class RedemptionsModule {}
