import { Body, Controller, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentMerchant, MerchantAuth, type AuthenticatedMerchant } from '../auth/merchant.guard';
import { ErrorResponse } from '../common/error-response';
import type { Page } from '../common/pagination';
import { RequestId } from '../common/request-id';
import { CurrentIdempotencyClaim, type IdempotencyClaim } from '../idempotency/idempotency-key';
import {
  CreateQuoteRequest,
  CreateRedemptionRequest,
  QuoteView,
  RedemptionListQuery,
  RedemptionPage,
  RedemptionView,
  RejectRedemptionRequest,
} from './dto/redemption.dto';
import { RedemptionsService } from './redemptions.service';

const uuid = new ParseUUIDPipe({ version: '4' });

@ApiTags('redemptions')
@MerchantAuth()
@Controller('v1/redemptions')
export class RedemptionsController {
  constructor(private readonly redemptions: RedemptionsService) {}

  @Post('quotes')
  @ApiOperation({
    summary: 'Quote a redemption: the unsigned payment for the holder to sign',
    description:
      'Builds a payment of the item’s price in NOVA from the holder to the redemption account, with the holder’s next sequence number, time bounds ending at expiresAt (REDEMPTION_QUOTE_TTL_SECONDS) and a memo naming the quote. ' +
      'The holder signs it in their wallet as it is; submit it with POST /v1/redemptions before it expires. A quote reserves nothing.',
  })
  @ApiCreatedResponse({ type: QuoteView })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'An invalid field (named in details)' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No such item of yours' })
  @ApiConflictResponse({
    type: ErrorResponse,
    description:
      'details.reason: ItemInactive, OutOfStock, AccountNotFound, TrustlineMissing, TrustlineNotAuthorized or InsufficientBalance',
  })
  @ApiServiceUnavailableResponse({
    type: ErrorResponse,
    description: 'Redemptions are not configured, or Horizon did not answer',
  })
  async quote(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Body() body: CreateQuoteRequest,
  ): Promise<QuoteView> {
    return await this.redemptions.quote(merchant.merchantId, body);
  }

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Redeem: submit the holder’s signed payment of a quote',
    description:
      'Checks the envelope against its quote (exactly the quoted transaction, signed by the holder), then uses the quote, reserves a unit of the item and records the redemption, all at once, and answers 202. ' +
      'Its workflow opens the redemption on the redemption contract, submits the payment exactly once, and fulfils it (automatic items) or waits for POST /v1/redemptions/:id/fulfil or /reject (manual items, until the fulfilment deadline; then it is refunded). ' +
      'Follow it here or through the redemption.* webhooks.',
  })
  @ApiAcceptedResponse({
    type: RedemptionView,
    headers: { Location: { description: 'The redemption', schema: { type: 'string' } } },
  })
  @ApiBadRequestResponse({
    type: ErrorResponse,
    description: 'An invalid field, or signedTransactionXdr is not a transaction',
  })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No such quote of yours' })
  @ApiConflictResponse({
    type: ErrorResponse,
    description:
      'Refused with nothing reserved, details.reason: QuoteExpired, QuoteAlreadyUsed, EnvelopeMismatch (the message names what differs), NotSignedByHolder, OutOfStock or ItemInactive',
  })
  async redeem(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @CurrentIdempotencyClaim() claim: IdempotencyClaim,
    @Body() body: CreateRedemptionRequest,
    @RequestId() requestId: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RedemptionView> {
    const redemption = await this.redemptions.redeem(merchant.merchantId, claim, body, requestId);
    res.setHeader('Location', redemption.links.self);
    return redemption;
  }

  @Get()
  @ApiOperation({ summary: 'List your redemptions, newest first' })
  @ApiOkResponse({ type: RedemptionPage })
  async list(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Query() query: RedemptionListQuery,
  ): Promise<Page<RedemptionView>> {
    return await this.redemptions.list(merchant.merchantId, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a redemption' })
  @ApiOkResponse({ type: RedemptionView })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async get(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param('id', uuid) id: string,
  ): Promise<RedemptionView> {
    return await this.redemptions.get(merchant.merchantId, id);
  }

  @Post(':id/fulfil')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Fulfil a manual item’s redemption',
    description:
      'A Temporal update of the redemption’s workflow: 202 once the workflow took it (it then confirms the record on chain and consumes the unit); 409 when the redemption is not waiting for fulfilment.',
  })
  @ApiAcceptedResponse({ type: RedemptionView })
  @ApiNotFoundResponse({ type: ErrorResponse })
  @ApiConflictResponse({ type: ErrorResponse, description: 'details.reason: NotAwaitingFulfilment' })
  async fulfil(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param('id', uuid) id: string,
  ): Promise<RedemptionView> {
    return await this.redemptions.decide(merchant.merchantId, id, { decision: 'fulfil' });
  }

  @Post(':id/reject')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Reject a manual item’s redemption: the holder is refunded',
    description:
      'A Temporal update of the redemption’s workflow: 202 once the workflow took it (it then refunds the price to the holder exactly once, cancels the record on chain and releases the unit); 409 when the redemption is not waiting for fulfilment.',
  })
  @ApiAcceptedResponse({ type: RedemptionView })
  @ApiBadRequestResponse({ type: ErrorResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  @ApiConflictResponse({ type: ErrorResponse, description: 'details.reason: NotAwaitingFulfilment' })
  async reject(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param('id', uuid) id: string,
    @Body() body: RejectRedemptionRequest,
  ): Promise<RedemptionView> {
    return await this.redemptions.decide(merchant.merchantId, id, { decision: 'reject', reason: body.reason });
  }
}
