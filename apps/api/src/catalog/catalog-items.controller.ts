import { Body, Controller, Get, Param, Patch, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentMerchant, MerchantAuth, type AuthenticatedMerchant } from '../auth/merchant.guard';
import { ErrorResponse } from '../common/error-response';
import { RateLimited } from '../common/rate-limit';
import { CatalogService } from './catalog.service';
import {
  CatalogItemIdParams,
  CatalogItemListQuery,
  CatalogItemPage,
  CatalogItemView,
  CreateCatalogItemRequest,
  UpdateCatalogItemRequest,
} from './dto/catalog-item.dto';

@ApiTags('catalog')
@MerchantAuth()
@RateLimited()
@Controller('v1/catalog/items')
export class CatalogItemsController {
  constructor(private readonly catalog: CatalogService) {}

  @Post()
  @ApiOperation({
    summary: 'Add an item to your catalog',
    description:
      'Holders redeem NOVA for it at its price. stock is required: a number of units, or null for unlimited. ' +
      'A retry with the same Idempotency-Key and body gets the original answer (201 and Location), never a second item.',
  })
  @ApiCreatedResponse({
    type: CatalogItemView,
    description: 'The new item (see the Location header), or the replayed answer that created it',
    headers: { Location: { description: 'The item', schema: { type: 'string' } } },
  })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid body; details name the field' })
  async create(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Body() body: CreateCatalogItemRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CatalogItemView> {
    const item = await this.catalog.create(merchant.merchantId, body);
    res.setHeader('Location', item.links.self);
    return item;
  }

  @Get()
  @ApiOperation({
    summary: "List your catalog's items, newest first",
    description: 'Cursor pagination: pass nextCursor as ?cursor= until it is null. Filters: active, fulfilment.',
  })
  @ApiOkResponse({ type: CatalogItemPage })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid filter, limit or cursor' })
  async list(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Query() query: CatalogItemListQuery,
  ): Promise<CatalogItemPage> {
    return await this.catalog.list(merchant.merchantId, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a catalog item' })
  @ApiOkResponse({ type: CatalogItemView })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Malformed id' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such item (or another merchant's)" })
  async get(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param() params: CatalogItemIdParams,
  ): Promise<CatalogItemView> {
    return await this.catalog.get(merchant.merchantId, params.id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change the name, description, price, stock, fulfilment, or (de)activate an item',
    description:
      'Any subset of name, description (null clears it), price, stock (null: unlimited), fulfilment and active; ' +
      'an empty body or any other field is a 400 naming it. A new price applies to quotes issued from now on: ' +
      'quotes already issued, and redemptions made with them, keep the price they were quoted. ' +
      'stock cannot go below the units reserved by redemptions in progress (409 StockBelowReserved).',
  })
  @ApiOkResponse({ type: CatalogItemView })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Empty body, or an invalid or unchangeable field' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such item (or another merchant's)" })
  @ApiConflictResponse({
    type: ErrorResponse,
    description: 'stock below the units reserved by redemptions in progress (details.reason StockBelowReserved)',
  })
  async update(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param() params: CatalogItemIdParams,
    @Body() body: UpdateCatalogItemRequest,
  ): Promise<CatalogItemView> {
    return await this.catalog.update(merchant.merchantId, params.id, body);
  }
}
