import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentMerchant, MerchantAuth, type AuthenticatedMerchant } from '../auth/merchant.guard';
import { ErrorResponse } from '../common/error-response';
import { PageQuery } from '../common/pagination';
import { RateLimited } from '../common/rate-limit';
import { RequestId } from '../common/request-id';
import { CampaignsService } from './campaigns.service';
import {
  CampaignIdParams,
  CampaignPage,
  CampaignView,
  CreateCampaignRequest,
  UpdateCampaignRequest,
} from './dto/campaign.dto';

@ApiTags('campaigns')
@MerchantAuth()
@RateLimited()
@Controller('v1/campaigns')
export class CampaignsController {
  constructor(private readonly campaigns: CampaignsService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a reward campaign with a budget and an active window',
    description:
      'With campaign sync configured, the campaign is also registered on the campaign contract by its workflow: ' +
      'onChain.status is pending until then (issuances do not wait for it).',
  })
  @ApiCreatedResponse({ type: CampaignView })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid body; details name the field' })
  async create(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Body() body: CreateCampaignRequest,
    @RequestId() requestId: string,
  ): Promise<CampaignView> {
    return await this.campaigns.create(merchant.merchantId, body, requestId);
  }

  @Get()
  @ApiOperation({
    summary: "List the merchant's campaigns, newest first",
    description: 'Cursor pagination: pass nextCursor as ?cursor= until it is null.',
  })
  @ApiOkResponse({ type: CampaignPage })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid limit or cursor' })
  async list(@CurrentMerchant() merchant: AuthenticatedMerchant, @Query() query: PageQuery): Promise<CampaignPage> {
    return await this.campaigns.list(merchant.merchantId, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a campaign' })
  @ApiOkResponse({ type: CampaignView })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Malformed id' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such campaign (or another merchant's)" })
  async get(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param() params: CampaignIdParams,
  ): Promise<CampaignView> {
    return await this.campaigns.get(merchant.merchantId, params.id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Rename, change the budget of, reschedule the end of, pause or resume a campaign',
    description:
      'Only name, budget, endsAt and status (active|paused) may change; any other field is a 400 naming it. ' +
      'With campaign sync configured, budget, endsAt and status changes go to the campaign contract in the order ' +
      'they were made (onChain.status pending until written; the name stays off chain).',
  })
  @ApiOkResponse({ type: CampaignView })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid or unchangeable field; details name it' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: "No such campaign (or another merchant's)" })
  @ApiConflictResponse({
    type: ErrorResponse,
    description: 'budget below what is already reserved and paid (details.reason BudgetBelowCommitted)',
  })
  async update(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param() params: CampaignIdParams,
    @Body() body: UpdateCampaignRequest,
    @RequestId() requestId: string,
  ): Promise<CampaignView> {
    return await this.campaigns.update(merchant.merchantId, params.id, body, requestId);
  }
}
