import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { LivenessView, ReadinessView } from './dto/readiness.dto';
import { ReadinessService, type Readiness } from './readiness.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: the process answers HTTP' })
  @ApiOkResponse({ type: LivenessView })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: PostgreSQL and Temporal reachable, a worker polling the task queue' })
  @ApiOkResponse({ type: ReadinessView, description: 'All dependencies up' })
  @ApiServiceUnavailableResponse({ type: ReadinessView, description: 'At least one dependency down; see checks' })
  async ready(@Res({ passthrough: true }) res: Response): Promise<Readiness> {
    const result = await this.readiness.check();
    res.status(result.status === 'ready' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return result;
  }
}
