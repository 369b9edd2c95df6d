import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentMerchant, MerchantAuth, type AuthenticatedMerchant } from '../auth/merchant.guard';
import { ErrorResponse } from '../common/error-response';
import { RateLimited } from '../common/rate-limit';
import {
  WEBHOOK_EVENT_SCHEMAS,
  WebhookDeliveryDetailView,
  WebhookDeliveryIdParams,
  WebhookDeliveryListQuery,
  WebhookDeliveryPage,
  WebhookDeliveryView,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@ApiExtraModels(...Object.values(WEBHOOK_EVENT_SCHEMAS))
@MerchantAuth()
@RateLimited()
@Controller('v1/webhooks/deliveries')
export class WebhookDeliveriesController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  @ApiOperation({
    summary: 'List deliveries, newest first, by status, endpoint or event type',
    description: 'Cursor pagination: pass nextCursor as ?cursor= until it is null.',
  })
  @ApiOkResponse({ type: WebhookDeliveryPage })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid filter, limit or cursor; details name it' })
  async list(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Query() query: WebhookDeliveryListQuery,
  ): Promise<WebhookDeliveryPage> {
    return await this.webhooks.listDeliveries(merchant.merchantId, query);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Read a delivery with every attempt (time, status, latency, error, first 1 KB of the answer)',
  })
  @ApiOkResponse({ type: WebhookDeliveryDetailView })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such delivery (or another merchant's)" })
  async get(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param() params: WebhookDeliveryIdParams,
  ): Promise<WebhookDeliveryDetailView> {
    return await this.webhooks.getDelivery(merchant.merchantId, params.id);
  }

  @Post(':id/redeliver')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Deliver an ended delivery (succeeded or failed) again, with the same event and webhook-id',
    description: 'A new run of its workflow with the full retry schedule.',
  })
  @ApiAcceptedResponse({ type: WebhookDeliveryView })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such delivery (or another merchant's)" })
  @ApiConflictResponse({
    type: ErrorResponse,
    description: 'The delivery is still pending or retrying (details.reason DeliveryInProgress)',
  })
  async redeliver(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param() params: WebhookDeliveryIdParams,
  ): Promise<WebhookDeliveryView> {
    return await this.webhooks.redeliver(merchant.merchantId, params.id);
  }
}
