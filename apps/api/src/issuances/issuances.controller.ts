import { Body, Controller, Get, Headers, HttpStatus, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentMerchant, MerchantAuth, type AuthenticatedMerchant } from '../auth/merchant.guard';
import { ErrorResponse } from '../common/error-response';
import { RequestId } from '../common/request-id';
import type { Page } from '../common/pagination';
import { CreateIssuanceDto, IssuanceListQuery, IssuancePage, IssuanceView } from './dto/issuance.dto';
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
      'The same Idempotency-Key with the same body returns the same issuance (200); with another body, 422.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: true,
    description: 'Your unique key for this request (1-255 printable ASCII characters)',
  })
  @ApiAcceptedResponse({ type: IssuanceView, description: 'Accepted: a new issuance; see the Location header' })
  @ApiOkResponse({
    type: IssuanceView,
    description: 'The issuance an earlier request with this Idempotency-Key created',
  })
  @ApiBadRequestResponse({
    type: ErrorResponse,
    description: 'Missing Idempotency-Key or an invalid field (named in details)',
  })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No such campaign of yours' })
  @ApiConflictResponse({
    type: ErrorResponse,
    description: 'Campaign paused, not started, ended, over budget, or wallet over its limit (details.reason)',
  })
  @ApiUnprocessableEntityResponse({ type: ErrorResponse, description: 'Idempotency-Key reused with a different body' })
  async create(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: CreateIssuanceDto,
    @RequestId() requestId: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<IssuanceView> {
    const { issuance, created } = await this.issuances.create(merchant.merchantId, idempotencyKey, body, requestId);
    res.status(created ? HttpStatus.ACCEPTED : HttpStatus.OK);
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
