import { createHash, randomUUID } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { Prisma, PrismaClient, type Campaign, type Issuance } from '@nova/db';
import { admissionRefusal, fromStroops, issuanceWorkflowId, toStroops } from '@nova/domain';
import { CampaignsService } from '../campaigns/campaigns.service';
import { afterCursor, NEWEST_FIRST, pageSize, toPage, type Page } from '../common/pagination';
import type {
  AdminIssuanceListQuery,
  CreateIssuanceDto,
  IssuanceListQuery,
  IssuanceView,
  ReplayResultView,
} from './dto/issuance.dto';
import { IssuanceStarter } from './issuance-starter';
import { IssuanceWorkflows } from './issuance-workflows';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The issuance row as the ORM maps it, for the statements the create path runs in plain SQL. */
const ISSUANCE_COLUMNS = Prisma.sql`
  id::text, merchant_id::text AS "merchantId", campaign_id::text AS "campaignId", wallet_address AS "walletAddress",
  amount_stroops AS "amountStroops", reference, metadata, idempotency_key AS "idempotencyKey",
  request_hash AS "requestHash", request_id AS "requestId", workflow_id AS "workflowId", status, reservation,
  tx_hash AS "txHash", ledger, failure_type AS "failureType", failure_message AS "failureMessage", attempts,
  created_at AS "createdAt", updated_at AS "updatedAt"`;
const MAX_METADATA_BYTES = 4096;

function conflict(reason: string, message: string): ConflictException {
  return new ConflictException({ message, details: { reason } });
}

function badField(field: string, message: string): BadRequestException {
  return new BadRequestException({ message, details: [{ field, messages: [message] }] });
}

/** JSON with sorted keys, so equal bodies hash equally whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as Record<string, unknown>)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

@Injectable()
export class IssuancesService {
  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    private readonly campaigns: CampaignsService,
    private readonly workflows: IssuanceWorkflows,
    private readonly starter: IssuanceStarter,
  ) {}

  /**
   * Idempotent per (merchant, Idempotency-Key): the same key and body return the same issuance
   * (created: false); the same key with another body is refused (422).
   */
  async create(
    merchantId: string,
    idempotencyKey: string | undefined,
    body: CreateIssuanceDto,
    requestId: string,
  ): Promise<{ issuance: IssuanceView; created: boolean }> {
    if (idempotencyKey === undefined || idempotencyKey === '') {
      throw badField('Idempotency-Key', 'the Idempotency-Key header is required on POST /v1/rewards/issuances');
    }
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw badField('Idempotency-Key', 'Idempotency-Key must be 1-255 printable ASCII characters without spaces');
    }
    if (body.metadata && Buffer.byteLength(JSON.stringify(body.metadata)) > MAX_METADATA_BYTES) {
      throw badField('metadata', `metadata must be at most ${MAX_METADATA_BYTES} bytes of JSON`);
    }
    const amountStroops = toStroops(body.amount);
    const requestHash = createHash('sha256')
      .update(
        canonical({
          campaignId: body.campaignId,
          walletAddress: body.walletAddress,
          amountStroops: amountStroops.toString(),
          reference: body.reference ?? null,
          metadata: body.metadata ?? null,
        }),
      )
      .digest('hex');

    const existing = await this.findByKey(merchantId, idempotencyKey, requestHash);
    if (existing) return { issuance: existing, created: false };

    const campaign = await this.campaigns.findForMerchant(merchantId, body.campaignId, 'campaignId');
    await this.checkCampaign(campaign, body.walletAddress, amountStroops);

    // The create path is every issuance's: plain SQL (see ISSUANCE_COLUMNS). The issuance and
    // its workflow-start row are one statement: whatever happens next, its workflow gets started.
    const id = randomUUID();
    const metadata = body.metadata === undefined ? null : JSON.stringify(body.metadata);
    const [row] = await this.db.$queryRaw<Issuance[]>`
      WITH inserted AS (
        INSERT INTO issuances (id, merchant_id, campaign_id, wallet_address, amount_stroops, reference, metadata,
                               idempotency_key, request_hash, request_id, workflow_id, updated_at)
        VALUES (${id}::uuid, ${merchantId}::uuid, ${campaign.id}::uuid, ${body.walletAddress}, ${amountStroops},
                ${body.reference ?? null}, ${metadata}::jsonb, ${idempotencyKey}, ${requestHash}, ${requestId},
                ${issuanceWorkflowId(id)}, now())
        ON CONFLICT (merchant_id, idempotency_key) DO NOTHING
        RETURNING ${ISSUANCE_COLUMNS}
      ), queued AS (
        INSERT INTO issuance_workflow_starts (issuance_id) SELECT id::uuid FROM inserted
      )
      SELECT * FROM inserted`;
    if (!row) {
      // A concurrent request with the same key won the insert: answer with its issuance.
      const winner = await this.findByKey(merchantId, idempotencyKey, requestHash);
      if (winner) return { issuance: winner, created: false };
      throw new Error(`issuance with Idempotency-Key ${idempotencyKey} neither inserted nor found`);
    }
    // 202 now: the record is durable, and the start goes on in the background (IssuanceStarter).
    this.starter.startSoon(row);
    return { issuance: this.toView(row), created: true };
  }

  async get(merchantId: string | undefined, id: string): Promise<IssuanceView> {
    const row = await this.db.issuance.findFirst({ where: { id, ...(merchantId ? { merchantId } : {}) } });
    if (!row)
      throw new NotFoundException({
        message: `issuance ${id} not found`,
        details: [{ field: 'id', messages: [`issuance ${id} not found`] }],
      });
    return this.toView(row);
  }

  async list(merchantId: string, query: IssuanceListQuery): Promise<Page<IssuanceView>> {
    const size = pageSize(query);
    const rows = await this.db.issuance.findMany({
      where: {
        merchantId,
        ...(query.status ? { status: query.status } : {}),
        ...(query.campaignId ? { campaignId: query.campaignId } : {}),
        ...(query.walletAddress ? { walletAddress: query.walletAddress } : {}),
        ...afterCursor(query.cursor),
      },
      orderBy: NEWEST_FIRST,
      take: size + 1,
    });
    return toPage(rows, size, (row) => this.toView(row));
  }

  async listForAdmin(query: AdminIssuanceListQuery): Promise<Page<IssuanceView>> {
    const size = pageSize(query);
    const rows = await this.db.issuance.findMany({
      where: {
        ...(query.status ? { status: query.status } : {}),
        ...(query.merchantId ? { merchantId: query.merchantId } : {}),
        ...(query.campaignId ? { campaignId: query.campaignId } : {}),
        ...afterCursor(query.cursor),
      },
      orderBy: NEWEST_FIRST,
      take: size + 1,
    });
    return toPage(rows, size, (row) => this.toView(row));
  }

  /**
   * Admin replay: a new run of a failed issuance. The run finds any payment that landed
   * before building a new one, so a replay never pays twice; two replays at once start one run.
   */
  async replay(id: string): Promise<ReplayResultView> {
    const row = await this.db.issuance.findUnique({ where: { id } });
    if (!row) return { id, outcome: 'not-found' };
    if (row.status !== 'failed') return { id, outcome: 'not-failed', issuance: this.toView(row) };
    const started = await this.workflows.replay(row, row.attempts + 1);
    return { id, outcome: started === 'started' ? 'replaying' : 'already-replaying', issuance: this.toView(row) };
  }

  private async findByKey(
    merchantId: string,
    idempotencyKey: string,
    requestHash: string,
  ): Promise<IssuanceView | undefined> {
    const [row] = await this.db.$queryRaw<Issuance[]>`
      SELECT ${ISSUANCE_COLUMNS} FROM issuances
       WHERE merchant_id = ${merchantId}::uuid AND idempotency_key = ${idempotencyKey}`;
    if (!row) return undefined;
    if (row.requestHash !== requestHash) {
      throw new UnprocessableEntityException({
        message: `Idempotency-Key ${idempotencyKey} was already used with a different request body`,
        details: { reason: 'IdempotencyKeyReused', issuanceId: row.id },
      });
    }
    // A start that has not gone through yet is the reconciler's: the merchant's retry needs none.
    return this.toView(row);
  }

  /** Fast refusals at the door, by the campaign's one admission rule; the workflow's reservation is the authority (atomic). */
  private async checkCampaign(campaign: Campaign, walletAddress: string, amount: bigint): Promise<void> {
    let held = 0n;
    if (campaign.maxPerWalletStroops !== null) {
      const [row] = await this.db.$queryRaw<{ stroops: bigint }[]>`
        SELECT COALESCE(SUM(amount_stroops), 0)::bigint AS stroops FROM issuances
         WHERE campaign_id = ${campaign.id}::uuid AND wallet_address = ${walletAddress}
           AND reservation IN ('reserved', 'paid')`;
      held = row?.stroops ?? 0n;
    }
    const refusal = admissionRefusal(campaign, amount, held, walletAddress, new Date());
    if (refusal) throw conflict(refusal.reason, refusal.message);
  }

  toView(row: Issuance): IssuanceView {
    return {
      id: row.id,
      status: row.status,
      campaignId: row.campaignId,
      walletAddress: row.walletAddress,
      amount: fromStroops(row.amountStroops),
      reference: row.reference,
      metadata: (row.metadata as Record<string, unknown> | null) ?? null,
      txHash: row.txHash,
      ledger: row.ledger,
      failure: row.failureType ? { type: row.failureType, message: row.failureMessage ?? '' } : null,
      attempts: row.attempts,
      workflowId: row.workflowId,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      links: { self: `/v1/rewards/issuances/${row.id}`, temporalUi: this.workflows.temporalUiLink(row.workflowId) },
    };
  }
}
