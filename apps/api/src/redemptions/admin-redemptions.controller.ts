import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin.guard';
import type { Page } from '../common/pagination';
import { AdminRedemptionListQuery, AdminRedemptionPage, type AdminRedemptionView } from './dto/redemption.dto';
import { RedemptionsService } from './redemptions.service';

@ApiTags('admin')
@AdminOnly()
@Controller('v1/admin/redemptions')
export class AdminRedemptionsController {
  constructor(private readonly redemptions: RedemptionsService) {}

  @Get()
  @ApiOperation({ summary: 'Find redemptions of any merchant, e.g. ?status=failed&merchantId=' })
  @ApiOkResponse({ type: AdminRedemptionPage })
  async list(@Query() query: AdminRedemptionListQuery): Promise<Page<AdminRedemptionView>> {
    return await this.redemptions.listForAdmin(query);
  }
}
