import { Module } from '@nestjs/common';
import { CatalogItemsController } from './catalog-items.controller';
import { CatalogService } from './catalog.service';

/** The merchant's catalog items; CatalogService.findForMerchant is for modules that act on an item. */
@Module({
  controllers: [CatalogItemsController],
  providers: [CatalogService],
  exports: [CatalogService],
})
export class CatalogModule {}
