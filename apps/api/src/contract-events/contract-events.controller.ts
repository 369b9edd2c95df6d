import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin.guard';
import { CurrentMerchant, MerchantAuth, type AuthenticatedMerchant } from '../auth/merchant.guard';
import { ErrorResponse } from '../common/error-response';
import type { Page } from '../common/pagination';
import { ContractEventListQuery, ContractEventPage, type ContractEventView } from './dto/contract-event.dto';
import { ContractEventsService } from './contract-events.service';

@ApiTags('contract-events')
@MerchantAuth()
@Controller('v1/contract-events')
export class ContractEventsController {
  constructor(private readonly events: ContractEventsService) {}

  @Get()
  @ApiOperation({
    summary: 'Your campaigns’, redemptions’ and vesting schedules’ contract events, in the chain’s order',
    description:
      'Indexed from the campaign, redemption and vesting contracts by the platform. Oldest first: page forward with nextCursor.',
  })
  @ApiOkResponse({ type: ContractEventPage })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'An invalid query value (named in details)' })
  async list(
    @CurrentMerchant() merchant: AuthenticatedMerchant,
    @Query() query: ContractEventListQuery,
  ): Promise<Page<ContractEventView>> {
    return await this.events.list({ merchantId: merchant.merchantId }, query);
  }
}

@ApiTags('admin')
@AdminOnly()
@Controller('v1/admin/contract-events')
export class AdminContractEventsController {
  constructor(private readonly events: ContractEventsService) {}

  @Get()
  @ApiOperation({ summary: 'Every indexed contract event, any merchant’s or none, in the chain’s order' })
  @ApiOkResponse({ type: ContractEventPage })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'An invalid query value (named in details)' })
  async list(@Query() query: ContractEventListQuery): Promise<Page<ContractEventView>> {
    return await this.events.list('all', query);
  }
}
