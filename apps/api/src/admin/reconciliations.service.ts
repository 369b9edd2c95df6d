import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { Prisma, PrismaClient, type Reconciliation, type ReconciliationMismatch } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { reconciliationWorkflowId, temporalUiLink } from '@nova/domain';
import { WorkflowHandoffs } from '@nova/workflows/client';
import { InjectConfig } from '../config/config.module';
import { afterCursor, NEWEST_FIRST, pageSize, toPage, type Page } from '../common/pagination';
import type {
  CreateReconciliationRequest,
  ReconciliationChecked,
  ReconciliationListQuery,
  ReconciliationMismatchView,
  ReconciliationReport,
  ReconciliationView,
} from './dto/reconciliation.dto';

/** The report's counts as the workflow keeps them (per kind) -> the API's camelCase fields. */
const CHECKED_FIELDS = {
  chainPayments: 'chainPayments',
  issuance: 'issuances',
  redemption_refund: 'redemptionRefunds',
  vesting_release: 'vestingReleases',
  campaign: 'campaigns',
  redemption: 'redemptions',
} as const;

function checkedView(stored: Record<string, number> | undefined): ReconciliationChecked {
  const view = Object.fromEntries(
    Object.values(CHECKED_FIELDS).map((field) => [field, 0]),
  ) as unknown as ReconciliationChecked;
  for (const [kind, field] of Object.entries(CHECKED_FIELDS)) view[field] = stored?.[kind] ?? 0;
  return view;
}

function invalid(field: string, message: string): BadRequestException {
  return new BadRequestException({ message, details: [{ field, messages: [message] }] });
}

/**
 * On-demand reconciliations: the request is recorded (the report's row, with its
 * Idempotency-Key) and its workflow started by the report's id right after; the worker's
 * reconciler starts any the API could not hand off. Keys are scoped to the admin and kept with
 * the report: the same key and window answer with the same report, another window is 422.
 */
@Injectable()
export class ReconciliationsService {
  private readonly logger = new Logger(ReconciliationsService.name);

  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    @Inject(WorkflowHandoffs) private readonly handoffs: WorkflowHandoffs,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  async start(
    body: CreateReconciliationRequest,
    idempotency: { key: string; requestHash: string },
    requestId: string,
  ): Promise<{ view: ReconciliationView; replayed: boolean }> {
    const from = new Date(body.from);
    const to = new Date(body.to);
    if (to.getTime() > Date.now()) throw invalid('to', 'to must not be in the future');
    const maxSeconds = this.config.reconciliation.maxWindowSeconds;
    if (to.getTime() - from.getTime() > maxSeconds * 1000) {
      throw invalid(
        'to',
        `the window from from to to must be at most ${maxSeconds} seconds (RECONCILIATION_MAX_WINDOW_SECONDS)`,
      );
    }
    const id = randomUUID();
    let row: Reconciliation;
    try {
      row = await this.db.reconciliation.create({
        data: {
          id,
          trigger: 'admin',
          windowFrom: from,
          windowTo: to,
          workflowId: reconciliationWorkflowId(id),
          idempotencyKey: idempotency.key,
          requestHash: idempotency.requestHash,
          requestId,
        },
      });
    } catch (error) {
      if (!(error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')) throw error;
      const earlier = await this.db.reconciliation.findUnique({ where: { idempotencyKey: idempotency.key } });
      if (!earlier) throw error;
      if (earlier.requestHash !== idempotency.requestHash) {
        throw new UnprocessableEntityException({
          message: `Idempotency-Key ${idempotency.key} was already used with a different request body`,
          details: { reason: 'IdempotencyKeyReused', usedFor: 'POST /v1/admin/reconciliations' },
        });
      }
      return { view: this.toView(earlier), replayed: true };
    }
    try {
      await this.handoffs.startReconciliation(row);
      row = await this.db.reconciliation.update({ where: { id }, data: { handedOffAt: new Date() } });
    } catch (error) {
      // Recorded: the reconciler starts it once Temporal answers.
      this.logger.warn(`reconciliation ${id} left to the reconciler: ${(error as Error).message}`);
    }
    return { view: this.toView(row), replayed: false };
  }

  async get(id: string): Promise<ReconciliationReport> {
    const row = await this.db.reconciliation.findUnique({
      where: { id },
      include: { mismatches: { orderBy: { id: 'asc' } } },
    });
    if (!row) throw new NotFoundException(`reconciliation ${id} not found`);
    return { ...this.toView(row), mismatches: row.mismatches.map((mismatch) => this.mismatchView(mismatch)) };
  }

  async list(query: ReconciliationListQuery): Promise<Page<ReconciliationView>> {
    const size = pageSize(query);
    const rows = await this.db.reconciliation.findMany({
      where: { ...(query.status ? { status: query.status } : {}), ...afterCursor(query.cursor) },
      orderBy: NEWEST_FIRST,
      take: size + 1,
    });
    return toPage(rows, size, (row) => this.toView(row));
  }

  private toView(row: Reconciliation): ReconciliationView {
    const counts = (row.counts ?? {}) as { checked?: Record<string, number>; mismatches?: Record<string, number> };
    return {
      id: row.id,
      status: row.status,
      trigger: row.trigger,
      window: { from: row.windowFrom.toISOString(), to: row.windowTo.toISOString() },
      counts: { checked: checkedView(counts.checked), mismatches: counts.mismatches ?? {} },
      mismatchCount: row.mismatchCount,
      failureMessage: row.failureMessage,
      workflowId: row.workflowId,
      createdAt: row.createdAt.toISOString(),
      completedAt: row.completedAt?.toISOString() ?? null,
      links: {
        self: `/v1/admin/reconciliations/${row.id}`,
        temporalUi: temporalUiLink(this.config.temporal, row.workflowId),
      },
    };
  }

  private mismatchView(row: ReconciliationMismatch): ReconciliationMismatchView {
    return {
      id: row.id.toString(),
      kind: row.kind,
      resourceKind: row.resourceKind,
      resourceId: row.resourceId,
      merchantId: row.merchantId,
      message: row.message,
      chain: row.chain as Record<string, unknown> | null,
      readModel: row.readModel as Record<string, unknown> | null,
      detectedAt: row.createdAt.toISOString(),
    };
  }
}
