import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AdminOnly } from '../auth/admin.guard';
import { ErrorResponse } from '../common/error-response';
import type { Page } from '../common/pagination';
import { RequestId } from '../common/request-id';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  idempotencyKeyOf,
  requestFingerprint,
} from '../idempotency/idempotency-key';
import {
  CreateReconciliationRequest,
  ReconciliationListQuery,
  ReconciliationPage,
  ReconciliationReport,
  ReconciliationView,
} from './dto/reconciliation.dto';
import { ReconciliationsService } from './reconciliations.service';

@ApiTags('admin')
@AdminOnly()
@Controller('v1/admin/reconciliations')
export class ReconciliationsController {
  constructor(private readonly reconciliations: ReconciliationsService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Reconcile the chain against the read models for a window',
    description:
      'Records a report and starts its workflow: every payment that left the distribution account or a channel in ' +
      '[from, to) must pay exactly one confirmed issuance, redemption refund or vesting release with the same amount ' +
      'and destination; every one of those must have its payment on chain; every contract record must match its ' +
      'resource. Poll GET /v1/admin/reconciliations/:id until status is completed.',
  })
  @ApiHeader({
    name: IDEMPOTENCY_KEY_HEADER,
    required: true,
    description:
      'Your unique key for this request (1-255 printable ASCII characters). The same key and window answer with the same report.',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[!-~]([ -~]{0,253}[!-~])?$' },
  })
  @ApiAcceptedResponse({
    type: ReconciliationView,
    headers: {
      [IDEMPOTENT_REPLAYED_HEADER]: {
        description: `"true" when this is the report of an earlier request with the same ${IDEMPOTENCY_KEY_HEADER}`,
        schema: { type: 'string', enum: ['true'] },
      },
      Location: { description: 'The report', schema: { type: 'string' } },
    },
  })
  @ApiBadRequestResponse({
    type: ErrorResponse,
    description: `A field is invalid (details name it): from after to, to in the future, a window too long; or ${IDEMPOTENCY_KEY_HEADER} missing or malformed`,
  })
  @ApiUnprocessableEntityResponse({
    type: ErrorResponse,
    description: `IdempotencyKeyReused: the ${IDEMPOTENCY_KEY_HEADER} was used with another window`,
  })
  async start(
    @Body() body: CreateReconciliationRequest,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
    @RequestId() requestId: string,
  ): Promise<ReconciliationView> {
    const key = idempotencyKeyOf(request);
    const { view, replayed } = await this.reconciliations.start(
      body,
      { key, requestHash: requestFingerprint('POST', request.originalUrl, { from: body.from, to: body.to }) },
      requestId,
    );
    response.setHeader('Location', view.links.self);
    if (replayed) response.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
    return view;
  }

  @Get()
  @ApiOperation({ summary: 'List reconciliation reports, newest first (?status=)' })
  @ApiOkResponse({ type: ReconciliationPage })
  async list(@Query() query: ReconciliationListQuery): Promise<Page<ReconciliationView>> {
    return await this.reconciliations.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a reconciliation report: status, window, counts, and each mismatch with both sides' })
  @ApiOkResponse({ type: ReconciliationReport })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async get(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<ReconciliationReport> {
    return await this.reconciliations.get(id);
  }
}
