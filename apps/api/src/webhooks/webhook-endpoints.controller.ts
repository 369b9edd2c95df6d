import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiAcceptedResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentMerchant, MerchantAuth, type AuthenticatedMerchant } from '../auth/merchant.guard';
import { ErrorResponse } from '../common/error-response';
import { PageQuery } from '../common/pagination';
import { RateLimited } from '../common/rate-limit';
import {
  CreateWebhookEndpointRequest,
  UpdateWebhookEndpointRequest,
  WebhookEndpointIdParams,
  WebhookEndpointPage,
  WebhookEndpointView,
  WebhookEndpointWithSecretView,
  WebhookTestView,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@MerchantAuth()
@RateLimited()
@Controller('v1/webhooks/endpoints')
export class WebhookEndpointsController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Register a webhook endpoint',
    description:
      'Events written from now on that the endpoint subscribes to are delivered to it, signed with Standard ' +
      'Webhooks (webhook-id, webhook-timestamp, webhook-signature). The secret is shown only in this answer. ' +
      'Events written before the endpoint existed are not sent to it.',
  })
  @ApiCreatedResponse({ type: WebhookEndpointWithSecretView })
  @ApiBadRequestResponse({
    type: ErrorResponse,
    description: 'Invalid body, or a URL that is not http(s) or points into a private/loopback/metadata range',
  })
  async create(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Body() body: CreateWebhookEndpointRequest,
  ): Promise<WebhookEndpointWithSecretView> {
    return await this.webhooks.createEndpoint(merchant.merchantId, body);
  }

  @Get()
  @ApiOperation({ summary: "List the merchant's webhook endpoints, newest first" })
  @ApiOkResponse({ type: WebhookEndpointPage })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid limit or cursor' })
  async list(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Query() query: PageQuery,
  ): Promise<WebhookEndpointPage> {
    return await this.webhooks.listEndpoints(merchant.merchantId, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a webhook endpoint (never its secret)' })
  @ApiOkResponse({ type: WebhookEndpointView })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such endpoint (or another merchant's)" })
  async get(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param() params: WebhookEndpointIdParams,
  ): Promise<WebhookEndpointView> {
    return await this.webhooks.getEndpoint(merchant.merchantId, params.id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change the URL, events, description, or enable/disable an endpoint',
    description: 'Enabling a disabled endpoint again clears its failure streak. Other fields are a 400 naming them.',
  })
  @ApiOkResponse({ type: WebhookEndpointView })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid field; details name it' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such endpoint (or another merchant's)" })
  async update(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param() params: WebhookEndpointIdParams,
    @Body() body: UpdateWebhookEndpointRequest,
  ): Promise<WebhookEndpointView> {
    return await this.webhooks.updateEndpoint(merchant.merchantId, params.id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an endpoint: no more deliveries; its deliveries stay listed' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such endpoint (or another merchant's)" })
  async remove(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param() params: WebhookEndpointIdParams,
  ): Promise<void> {
    await this.webhooks.deleteEndpoint(merchant.merchantId, params.id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the signing secret',
    description:
      'Returns the new secret (shown only now). For 24 hours every delivery carries two signatures, one per ' +
      'secret, space-separated in webhook-signature, so receivers can switch over without dropping a delivery.',
  })
  @ApiOkResponse({ type: WebhookEndpointWithSecretView })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such endpoint (or another merchant's)" })
  async rotate(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param() params: WebhookEndpointIdParams,
  ): Promise<WebhookEndpointWithSecretView> {
    return await this.webhooks.rotateSecret(merchant.merchantId, params.id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send a webhook.test event to this endpoint',
    description: 'Delivered like any event (signed, retried); follow it with GET /v1/webhooks/deliveries/{deliveryId}.',
  })
  @ApiAcceptedResponse({ type: WebhookTestView })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such endpoint (or another merchant's)" })
  @ApiConflictResponse({
    type: ErrorResponse,
    description: 'The endpoint is disabled (details.reason EndpointDisabled)',
  })
  async test(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param() params: WebhookEndpointIdParams,
  ): Promise<WebhookTestView> {
    return await this.webhooks.sendTest(merchant.merchantId, params.id);
  }
}
