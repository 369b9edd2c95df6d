import {
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin.guard';
import { ErrorResponse } from '../common/error-response';
import type { Page } from '../common/pagination';
import {
  AdminIssuanceListQuery,
  AdminIssuancePage,
  AdminIssuanceView,
  ReplayManyRequest,
  ReplayManyView,
  type ReplayResultView,
} from './dto/issuance.dto';
import { IssuancesService } from './issuances.service';

@ApiTags('admin')
@AdminOnly()
@Controller('v1/admin/issuances')
export class AdminIssuancesController {
  constructor(private readonly issuances: IssuancesService) {}

  @Get()
  @ApiOperation({ summary: 'Find issuances of any merchant, e.g. ?status=failed&merchantId=' })
  @ApiOkResponse({ type: AdminIssuancePage })
  async list(@Query() query: AdminIssuanceListQuery): Promise<Page<AdminIssuanceView>> {
    return await this.issuances.listForAdmin(query);
  }

  @Post('replay')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Replay many failed issuances',
    description: 'Each id gets an outcome: replaying, already-replaying, not-failed or not-found.',
  })
  @ApiAcceptedResponse({ type: ReplayManyView })
  async replayMany(@Body() body: ReplayManyRequest): Promise<ReplayManyView> {
    const results: ReplayResultView[] = [];
    for (const id of [...new Set(body.ids)]) results.push(await this.issuances.replay(id));
    return { results };
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Replay a failed issuance',
    description:
      'Starts a new run. It first looks up every payment envelope of the issuance: if one landed, the issuance is confirmed without paying again.',
  })
  @ApiAcceptedResponse({ type: AdminIssuanceView })
  @ApiNotFoundResponse({ type: ErrorResponse })
  @ApiConflictResponse({ type: ErrorResponse, description: 'The issuance is not failed' })
  async replay(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<AdminIssuanceView> {
    const result = await this.issuances.replay(id);
    if (result.outcome === 'not-found') throw new NotFoundException(`issuance ${id} not found`);
    if (result.outcome === 'not-failed') {
      throw new ConflictException({
        message: `issuance ${id} is ${result.issuance?.status}: only failed issuances can be replayed`,
        details: { reason: 'NotFailed' },
      });
    }
    return result.issuance!;
  }
}
