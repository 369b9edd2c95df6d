import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin.guard';
import type { Page } from '../common/pagination';
import {
  AdminVestingScheduleListQuery,
  AdminVestingSchedulePage,
  type AdminVestingScheduleView,
} from './dto/vesting.dto';
import { VestingService } from './vesting.service';

@ApiTags('admin')
@AdminOnly()
@Controller('v1/admin/vesting-schedules')
export class AdminVestingController {
  constructor(private readonly vesting: VestingService) {}

  @Get()
  @ApiOperation({
    summary: 'Find vesting schedules of any merchant, e.g. ?status=stalled&merchantId=',
    description:
      'A stalled schedule waits for its release to become payable (stalled.failureType says why) and pays the missed releases together once it is; see the VestingScheduleStalled runbook.',
  })
  @ApiOkResponse({ type: AdminVestingSchedulePage })
  async list(@Query() query: AdminVestingScheduleListQuery): Promise<Page<AdminVestingScheduleView>> {
    return await this.vesting.listForAdmin(query);
  }
}
