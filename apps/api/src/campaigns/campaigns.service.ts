import { randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { PrismaClient, type Campaign } from '@nova/db';
import { fromStroops, toStroops } from '@nova/activities';
import { afterCursor, NEWEST_FIRST, pageSize, toPage, type Page, type PageQuery } from '../common/pagination';
import type { CampaignView, CreateCampaignRequest, UpdateCampaignRequest } from './dto/campaign.dto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function campaignView(row: Campaign): CampaignView {
  return {
    id: row.id,
    name: row.name,
    budget: fromStroops(row.budgetStroops),
    reserved: fromStroops(row.reservedStroops),
    paid: fromStroops(row.paidStroops),
    remaining: fromStroops(row.budgetStroops - row.reservedStroops - row.paidStroops),
    maxPerWallet: row.maxPerWalletStroops === null ? null : fromStroops(row.maxPerWalletStroops),
    startsAt: row.startsAt.toISOString(),
    endsAt: row.endsAt.toISOString(),
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

@Injectable()
export class CampaignsService {
  constructor(@Inject(PrismaClient) private readonly db: PrismaClient) {}

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

  async create(merchantId: string, request: CreateCampaignRequest): Promise<CampaignView> {
    const row = await this.db.campaign.create({
      data: {
        id: randomUUID(),
        merchantId,
        name: request.name,
        budgetStroops: toStroops(request.budget),
        maxPerWalletStroops:
          request.maxPerWallet === undefined || request.maxPerWallet === null ? null : toStroops(request.maxPerWallet),
        startsAt: new Date(request.startsAt),
        endsAt: new Date(request.endsAt),
      },
    });
    return campaignView(row);
  }

  async list(merchantId: string, query: PageQuery): Promise<Page<CampaignView>> {
    const size = pageSize(query);
    const rows = await this.db.campaign.findMany({
      where: { merchantId, ...afterCursor(query.cursor) },
      orderBy: NEWEST_FIRST,
      take: size + 1,
    });
    return toPage(rows, size, campaignView);
  }

  async get(merchantId: string, id: string): Promise<CampaignView> {
    return campaignView(await this.findForMerchant(merchantId, id, 'id'));
  }

  /** Changes only name, endsAt and status; the budget counters belong to the issuance workflows. */
  async update(merchantId: string, id: string, request: UpdateCampaignRequest): Promise<CampaignView> {
    const current = await this.findForMerchant(merchantId, id, 'id');
    const endsAt = request.endsAt === undefined ? undefined : new Date(request.endsAt);
    if (endsAt && endsAt.getTime() <= current.startsAt.getTime()) {
      const message = `endsAt must be after startsAt (${current.startsAt.toISOString()})`;
      throw new BadRequestException({ message, details: [{ field: 'endsAt', messages: [message] }] });
    }
    const row = await this.db.campaign.update({
      where: { id: current.id },
      data: { name: request.name, endsAt, status: request.status },
    });
    return campaignView(row);
  }
}
