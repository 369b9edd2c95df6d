import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin.guard';
import { ErrorResponse } from '../common/error-response';
import { RequestId } from '../common/request-id';
import { SelfCheckView } from './dto/self-check.dto';
import { SelfChecksService } from './self-checks.service';

@ApiTags('admin')
@AdminOnly()
@Controller('v1/admin/self-checks')
export class SelfChecksController {
  constructor(private readonly selfChecks: SelfChecksService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Run an end-to-end self-check',
    description:
      'Starts a workflow that a worker must pick up and complete by writing to PostgreSQL. Poll the returned resource until status is completed.',
  })
  @ApiAcceptedResponse({ type: SelfCheckView })
  async start(@RequestId() requestId: string): Promise<SelfCheckView> {
    return await this.selfChecks.start(requestId);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a self-check' })
  @ApiOkResponse({ type: SelfCheckView })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async get(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<SelfCheckView> {
    return await this.selfChecks.get(id);
  }
}
