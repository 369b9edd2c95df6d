import { Global, Module } from '@nestjs/common';
import { AdminGuard } from './admin.guard';
import { MerchantGuard } from './merchant.guard';

/** The guards every feature module uses: admin key, merchant API keys. */
@Global()
@Module({ providers: [AdminGuard, MerchantGuard], exports: [AdminGuard, MerchantGuard] })
export class AuthModule {}
