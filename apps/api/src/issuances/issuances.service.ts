import { randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { Prisma, PrismaClient, type Campaign, type Issuance } from '@nova/db';
import { admissionRefusal, issuanceResource, issuanceWorkflowId, toStroops } from '@nova/domain';
import { CampaignsService } from '../campaigns/campaigns.service';
import { PlatformAccounts } from '../common/platform-accounts';
import { afterCursor, NEWEST_FIRST, pageSize, toPage, type Page } from '../common/pagination';
import type { IdempotencyClaim } from '../idempotency/idempotency-key';
import type {
  AdminIssuanceListQuery,
  AdminIssuanceView,
  CreateIssuanceRequest,
  IssuanceListQuery,
  IssuanceView,
  ReplayResultView,
} from './dto/issuance.dto';
import { IssuanceStarter } from './issuance-starter';
import { IssuanceWorkflows } from './issuance-workflows';

/** The issuance row as the ORM maps it, for the statements the create path runs in plain SQL. */
const ISSUANCE_COLUMNS = Prisma.sql`
  id::text, merchant_id::text AS "merchantId", campaign_id::text AS "campaignId", wallet_address AS "walletAddress",
  amount_stroops AS "amountStroops", reference, metadata, idempotency_key AS "idempotencyKey",
  idempotency_claim_id::text AS "idempotencyClaimId", request_id AS "requestId", workflow_id AS "workflowId", status, reservation,
  tx_hash AS "txHash", ledger, failure_type AS "failureType", failure_message AS "failureMessage", attempts,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

function conflict(reason: string, message: string): ConflictException {
  return new ConflictException({ message, details: { reason } });
}

@Injectable()
export class IssuancesService {
  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    private readonly campaigns: CampaignsService,
    private readonly workflows: IssuanceWorkflows,
    private readonly starter: IssuanceStarter,
    private readonly platformAccounts: PlatformAccounts,
  ) {}

  /**
   * Records a new issuance. Its Idempotency-Key is the interceptor's (IdempotencyInterceptor:
   * replays, 409, 422); the issuance keeps the key's claim under a unique index, the last guard
   * for a run that took the claim over from one that crashed after its insert.
   */
  async create(
    merchantId: string,
    claim: IdempotencyClaim,
    body: CreateIssuanceRequest,
    requestId: string,
  ): Promise<IssuanceView> {
    // A run that took the key over: the one it replaces may have inserted the issuance already.
    if (claim.attempt > 1) {
      const earlier = await this.findByClaim(claim.claimId);
      if (earlier) return earlier;
    }
    await this.platformAccounts.refuseAsRecipient('walletAddress', body.walletAddress);
    const amountStroops = toStroops(body.amount);
    const campaign = await this.campaigns.findForMerchant(merchantId, body.campaignId, 'campaignId');
    await this.checkCampaign(campaign, body.walletAddress, amountStroops);

    // The create path is every issuance's: plain SQL (see ISSUANCE_COLUMNS). The issuance and
    // its workflow-start row are one statement: whatever happens next, its workflow gets started.
    const id = randomUUID();
    const metadata = body.metadata === undefined ? null : JSON.stringify(body.metadata);
    const [row] = await this.db.$queryRaw<Issuance[]>`
      WITH inserted AS (
        INSERT INTO issuances (id, merchant_id, campaign_id, wallet_address, amount_stroops, reference, metadata,
                               idempotency_key, idempotency_claim_id, request_id, workflow_id, updated_at)
        VALUES (${id}::uuid, ${merchantId}::uuid, ${campaign.id}::uuid, ${body.walletAddress}, ${amountStroops},
                ${body.reference ?? null}, ${metadata}::jsonb, ${claim.key}, ${claim.claimId}::uuid, ${requestId},
                ${issuanceWorkflowId(id)}, now())
        ON CONFLICT (idempotency_claim_id) DO NOTHING
        RETURNING ${ISSUANCE_COLUMNS}
      ), queued AS (
        INSERT INTO issuance_workflow_starts (issuance_id) SELECT id::uuid FROM inserted
      )
      SELECT * FROM inserted`;
    if (!row) {
      // A run of the same claim (one taken over while it still ran) inserted it first.
      const winner = await this.findByClaim(claim.claimId);
      if (winner) return winner;
      throw new Error(`issuance of Idempotency-Key ${claim.key} neither inserted nor found`);
    }
    // 202 now: the record is durable, and the start goes on in the background (IssuanceStarter).
    this.starter.startSoon(row);
    return this.toView(row);
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

  async listForAdmin(query: AdminIssuanceListQuery): Promise<Page<AdminIssuanceView>> {
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
    return toPage(rows, size, (row) => this.toAdminView(row));
  }

  /**
   * Admin replay: a new run of a failed issuance. The run finds any payment that landed
   * before building a new one, so a replay never pays twice; two replays at once start one run.
   */
  async replay(id: string): Promise<ReplayResultView> {
    const row = await this.db.issuance.findUnique({ where: { id } });
    if (!row) return { id, outcome: 'not-found' };
    if (row.status !== 'failed') return { id, outcome: 'not-failed', issuance: this.toAdminView(row) };
    const started = await this.workflows.replay(row, row.attempts + 1);
    return { id, outcome: started === 'started' ? 'replaying' : 'already-replaying', issuance: this.toAdminView(row) };
  }

  private async findByClaim(claimId: string): Promise<IssuanceView | undefined> {
    const [row] = await this.db.$queryRaw<Issuance[]>`
      SELECT ${ISSUANCE_COLUMNS} FROM issuances WHERE idempotency_claim_id = ${claimId}::uuid`;
    // A start that has not gone through yet is the reconciler's: the merchant's retry needs none.
    return row ? this.toView(row) : undefined;
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

  toAdminView(row: Issuance): AdminIssuanceView {
    return { ...this.toView(row), merchantId: row.merchantId };
  }

  toView(row: Issuance): IssuanceView {
    return issuanceResource(row, this.workflows.temporalUi);
  }
}
