import { Module } from '@nestjs/common';
import { MerchantsController } from './merchants.controller';
import { MerchantsService } from './merchants.service';

/** Merchants, created and read by an admin. Their API keys live in ApiKeysModule. */
@Module({ controllers: [MerchantsController], providers: [MerchantsService] })
export class MerchantsModule {}
