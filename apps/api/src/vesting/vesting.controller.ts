import { Body, Controller, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
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
  CreateVestingScheduleRequest,
  VestingScheduleListQuery,
  VestingSchedulePage,
  VestingScheduleView,
} from './dto/vesting.dto';
import { VestingService } from './vesting.service';

const uuid = new ParseUUIDPipe({ version: '4' });

@ApiTags('vesting')
@MerchantAuth()
@Controller('v1/vesting-schedules')
export class VestingController {
  constructor(private readonly vesting: VestingService) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Grant a wallet NOVA that vests over time',
    description:
      'Linear vesting from startAt to endAt, released every interval: nothing before the cliff, then the first release at cliffAt pays all that vested by then; the rounding remainder goes into the last release, so the releases sum to the total exactly. ' +
      'The total is reserved against the campaign budget at once (409 when the campaign cannot take it). ' +
      'Its workflow (vesting/<id>) registers the schedule on the vesting contract, pays each release on time through the transaction journal and records it on chain with its payment hash. ' +
      'A release that cannot be paid (trustline removed, say) is retried, then the schedule is stalled until it can be, and the missed releases are paid together. Follow it here or through the vesting.* webhooks.',
  })
  @ApiAcceptedResponse({
    type: VestingScheduleView,
    headers: { Location: { description: 'The schedule', schema: { type: 'string' } } },
  })
  @ApiBadRequestResponse({
    type: ErrorResponse,
    description: 'An invalid field, named in details: amounts, dates (cliff before start, end before cliff), interval',
  })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No such campaign of yours' })
  @ApiConflictResponse({
    type: ErrorResponse,
    description:
      'details.reason: CampaignBudgetExhausted (the total does not fit the budget left), CampaignPaused, CampaignNotStarted or CampaignEnded',
  })
  @ApiServiceUnavailableResponse({ type: ErrorResponse, description: 'Vesting is not configured on this deployment' })
  async create(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @CurrentIdempotencyClaim() claim: IdempotencyClaim,
    @Body() body: CreateVestingScheduleRequest,
    @RequestId() requestId: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<VestingScheduleView> {
    const schedule = await this.vesting.create(merchant.merchantId, claim, body, requestId);
    res.setHeader('Location', schedule.links.self);
    return schedule;
  }

  @Get()
  @ApiOperation({ summary: 'List your vesting schedules, newest first' })
  @ApiOkResponse({ type: VestingSchedulePage })
  async list(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Query() query: VestingScheduleListQuery,
  ): Promise<Page<VestingScheduleView>> {
    return await this.vesting.list(merchant.merchantId, query);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Read a vesting schedule',
    description:
      'While its workflow runs, vestedAmount, releasedAmount and nextReleaseAt are the workflow’s own (its vestingProgress query); otherwise the read model’s.',
  })
  @ApiOkResponse({ type: VestingScheduleView })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async get(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param('id', uuid) id: string,
  ): Promise<VestingScheduleView> {
    return await this.vesting.get(merchant.merchantId, id);
  }

  @Post(':id/revoke')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Revoke a vesting schedule',
    description:
      'A Temporal update of the schedule’s workflow, taken at any time (a payment in flight completes first): vesting is frozen on the vesting contract, what vested and was not released is paid, and the unvested rest returns to the campaign budget. ' +
      '202 with the schedule: revoked once that is done (within 30 s), else as it stands while the workflow finishes it.',
  })
  @ApiAcceptedResponse({ type: VestingScheduleView })
  @ApiNotFoundResponse({ type: ErrorResponse })
  @ApiConflictResponse({ type: ErrorResponse, description: 'details.reason: VestingNotRevocable or VestingEnded' })
  @ApiServiceUnavailableResponse({
    type: ErrorResponse,
    description: 'The workflow did not answer (no worker); retry the same request',
  })
  async revoke(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Param('id', uuid) id: string,
  ): Promise<VestingScheduleView> {
    return await this.vesting.revoke(merchant.merchantId, id);
  }
}
