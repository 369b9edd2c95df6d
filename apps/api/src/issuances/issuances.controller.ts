import { Body, Controller, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentMerchant, MerchantAuth, type AuthenticatedMerchant } from '../auth/merchant.guard';
import { ErrorResponse } from '../common/error-response';
import { RequestId } from '../common/request-id';
import type { Page } from '../common/pagination';
import { CurrentIdempotencyClaim, type IdempotencyClaim } from '../idempotency/idempotency-key';
import { CreateIssuanceRequest, IssuanceListQuery, IssuancePage, IssuanceView } from './dto/issuance.dto';
import { IssuancesService } from './issuances.service';

@ApiTags('rewards')
@MerchantAuth()
@Controller('v1/rewards/issuances')
export class IssuancesController {
  constructor(private readonly issuances: IssuancesService) {}

  @Post()
  @ApiOperation({
    summary: 'Issue a reward',
    description:
      'Records the issuance and answers 202; its workflow (started right after, and retried until Temporal accepts it) reserves the amount against the campaign budget, checks the wallet trustline and pays exactly once. ' +
      'Poll the returned resource (or wait for the issuance.confirmed / issuance.failed webhook). ' +
      'A retry with the same Idempotency-Key and body gets the original answer (202 and Location, marked Idempotent-Replayed: true), never a second issuance.',
  })
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiAcceptedResponse({
    type: IssuanceView,
    description: 'Accepted: a new issuance (see the Location header), or the replayed answer that created it',
    headers: { Location: { description: 'The issuance', schema: { type: 'string' } } },
  })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'An invalid field (named in details)' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No such campaign of yours' })
  @ApiConflictResponse({
    type: ErrorResponse,
    description: 'Campaign paused, not started, ended, over budget, or wallet over its limit (details.reason)',
  })
  async create(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @CurrentIdempotencyClaim() claim: IdempotencyClaim,
    @Body() body: CreateIssuanceRequest,
    @RequestId() requestId: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<IssuanceView> {
    const issuance = await this.issuances.create(merchant.merchantId, claim, body, requestId);
    res.setHeader('Location', issuance.links.self);
    return issuance;
  }

  @Get()
  @ApiOperation({ summary: 'List your issuances, newest first' })
  @ApiOkResponse({ type: IssuancePage })
  async list(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Query() query: IssuanceListQuery,
  ): Promise<Page<IssuanceView>> {
    return await this.issuances.list(merchant.merchantId, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read an issuance' })
  @ApiOkResponse({ type: IssuanceView })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async get(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
  ): Promise<IssuanceView> {
    return await this.issuances.get(merchant.merchantId, id);
  }
}
