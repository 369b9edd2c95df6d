import { randomUUID } from 'node:crypto';
import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { PrismaClient, type Campaign, type Prisma } from '@nova/db';
import { campaignResource, fromStroops, toStroops, type CampaignChangeKind } from '@nova/domain';
import { afterCursor, NEWEST_FIRST, pageSize, toPage, type Page, type PageQuery } from '../common/pagination';
import { CampaignWorkflows } from './campaign-workflows';
import type { CampaignView, CreateCampaignRequest, UpdateCampaignRequest } from './dto/campaign.dto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A change for the campaign contract, before it gets its sequence number. */
interface ChainChange {
  kind: CampaignChangeKind;
  budgetStroops?: bigint;
  startsAt?: Date;
  endsAt?: Date;
}

/** The campaign as the API returns it: the domain's one presenter (webhook events carry the same). */
export function campaignView(row: Campaign, syncEnabled: boolean): CampaignView {
  return campaignResource(row, syncEnabled) as CampaignView;
}

/**
 * The changes a PATCH makes for the contract, in the order they are applied: the budget and
 * end (one `update`, the contract takes both), then the status. A campaign never sent on
 * chain (created while sync was off) is registered as it now stands instead.
 */
function chainChangesOf(
  before: Campaign,
  after: { budgetStroops: bigint; endsAt: Date; status: string },
): ChainChange[] {
  if (before.chainChangeSeq === 0) {
    return [
      { kind: 'register', budgetStroops: after.budgetStroops, startsAt: before.startsAt, endsAt: after.endsAt },
      ...(after.status === 'paused' ? [{ kind: 'pause' as const }] : []),
    ];
  }
  const changes: ChainChange[] = [];
  if (after.budgetStroops !== before.budgetStroops || after.endsAt.getTime() !== before.endsAt.getTime()) {
    changes.push({ kind: 'update', budgetStroops: after.budgetStroops, endsAt: after.endsAt });
  }
  if (after.status !== before.status) changes.push({ kind: after.status === 'paused' ? 'pause' : 'resume' });
  return changes;
}

@Injectable()
export class CampaignsService {
  private readonly logger = new Logger(CampaignsService.name);

  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    private readonly workflows: CampaignWorkflows,
  ) {}

  /**
   * The merchant's campaign, or a 404 naming `field`: another merchant's campaign is
   * indistinguishable from a missing one. For other modules (issuances) as well.
   */
  async findForMerchant(merchantId: string, id: string, field = 'campaignId'): Promise<Campaign> {
    const row = UUID.test(id) ? await this.db.campaign.findFirst({ where: { id, merchantId } }) : null;
    if (!row) {
      const message = `campaign ${id} not found`;
      throw new NotFoundException({ message, details: [{ field, messages: [message] }] });
    }
    return row;
  }

  /** Creates the campaign and, with sync on, its `register` change for the contract, in one transaction. */
  async create(merchantId: string, request: CreateCampaignRequest, requestId?: string): Promise<CampaignView> {
    const sync = this.workflows.syncEnabled;
    const id = randomUUID();
    const budgetStroops = toStroops(request.budget);
    const startsAt = new Date(request.startsAt);
    const endsAt = new Date(request.endsAt);
    const row = await this.db.$transaction(async (tx) => {
      const created = await tx.campaign.create({
        data: {
          id,
          merchantId,
          name: request.name,
          budgetStroops,
          maxPerWalletStroops:
            request.maxPerWallet === undefined || request.maxPerWallet === null
              ? null
              : toStroops(request.maxPerWallet),
          startsAt,
          endsAt,
          ...(sync ? { chainChangeSeq: 1, onChainStatus: 'pending' } : {}),
        },
      });
      if (sync) {
        await this.queueChanges(tx, created, 0, [{ kind: 'register', budgetStroops, startsAt, endsAt }], requestId);
      }
      return created;
    });
    if (sync) await this.signal(row, requestId);
    return campaignView(row, sync);
  }

  async list(merchantId: string, query: PageQuery): Promise<Page<CampaignView>> {
    const size = pageSize(query);
    const rows = await this.db.campaign.findMany({
      where: { merchantId, ...afterCursor(query.cursor) },
      orderBy: NEWEST_FIRST,
      take: size + 1,
    });
    return toPage(rows, size, (row) => campaignView(row, this.workflows.syncEnabled));
  }

  async get(merchantId: string, id: string): Promise<CampaignView> {
    return campaignView(await this.findForMerchant(merchantId, id, 'id'), this.workflows.syncEnabled);
  }

  /**
   * Changes name, budget, endsAt and status; the reserved/paid counters belong to the issuance
   * workflows. With sync on, the changes that matter on chain (budget, endsAt, status; not the
   * name) are queued for the campaign workflow in the same transaction, under the row lock the
   * issuance reservations take too, so sequence numbers follow the order the changes were made.
   */
  async update(
    merchantId: string,
    id: string,
    request: UpdateCampaignRequest,
    requestId?: string,
  ): Promise<CampaignView> {
    const sync = this.workflows.syncEnabled;
    const { id: campaignId } = await this.findForMerchant(merchantId, id, 'id');
    const { row, queued } = await this.db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM campaigns WHERE id = ${campaignId}::uuid FOR UPDATE`;
      const current = await tx.campaign.findUniqueOrThrow({ where: { id: campaignId } });
      const endsAt = request.endsAt === undefined ? undefined : new Date(request.endsAt);
      if (endsAt && endsAt.getTime() <= current.startsAt.getTime()) {
        const message = `endsAt must be after startsAt (${current.startsAt.toISOString()})`;
        throw new BadRequestException({ message, details: [{ field: 'endsAt', messages: [message] }] });
      }
      const budgetStroops = request.budget === undefined ? undefined : toStroops(request.budget);
      const committed = current.reservedStroops + current.paidStroops;
      if (budgetStroops !== undefined && budgetStroops < committed) {
        throw new ConflictException({
          message: `budget ${fromStroops(budgetStroops)} is below what campaign ${current.id} has reserved and paid (${fromStroops(committed)})`,
          details: { reason: 'BudgetBelowCommitted', committed: fromStroops(committed) },
        });
      }
      const changes = sync
        ? chainChangesOf(current, {
            budgetStroops: budgetStroops ?? current.budgetStroops,
            endsAt: endsAt ?? current.endsAt,
            status: request.status ?? current.status,
          })
        : [];
      const updated = await tx.campaign.update({
        where: { id: current.id },
        data: {
          name: request.name,
          budgetStroops,
          endsAt,
          status: request.status,
          ...(changes.length > 0
            ? { chainChangeSeq: current.chainChangeSeq + changes.length, onChainStatus: 'pending' }
            : {}),
        },
      });
      await this.queueChanges(tx, current, current.chainChangeSeq, changes, requestId);
      return { row: updated, queued: changes.length };
    });
    if (sync && queued > 0) await this.signal(row, requestId);
    return campaignView(row, sync);
  }

  private async queueChanges(
    tx: Prisma.TransactionClient,
    campaign: Campaign,
    lastSeq: number,
    changes: ChainChange[],
    requestId: string | undefined,
  ): Promise<void> {
    if (changes.length === 0) return;
    await tx.campaignChainChange.createMany({
      data: changes.map((change, index) => ({
        campaignId: campaign.id,
        seq: lastSeq + 1 + index,
        kind: change.kind,
        budgetStroops: change.budgetStroops ?? null,
        startsAt: change.startsAt ?? null,
        endsAt: change.endsAt ?? null,
        requestId: requestId || null,
      })),
    });
  }

  /**
   * Wakes the campaign workflow for every change up to the campaign's latest. The changes are
   * already committed: if Temporal is unreachable now they stay pending (the response says so)
   * and the worker's reconciler signals the workflow once Temporal is back; nobody needs to PATCH.
   */
  private async signal(row: Campaign, requestId: string | undefined): Promise<void> {
    try {
      await this.workflows.signalChanges(row, row.chainChangeSeq, requestId || undefined);
    } catch (error) {
      this.logger.warn(
        `campaign ${row.id}: change ${row.chainChangeSeq} is queued but its workflow was not signalled: ${(error as Error).message}`,
      );
    }
  }
}
