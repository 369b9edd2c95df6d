import { randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { PrismaClient, type CatalogItem, type Prisma } from '@nova/db';
import { catalogItemResource, toStroops } from '@nova/domain';
import { afterCursor, NEWEST_FIRST, pageSize, toPage, type Page } from '../common/pagination';
import { fieldError } from '../common/validation';
import type {
  CatalogItemListQuery,
  CatalogItemView,
  CreateCatalogItemRequest,
  UpdateCatalogItemRequest,
} from './dto/catalog-item.dto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STOCK_CONSTRAINT = 'catalog_items_stock_covers_reserved';
const UPDATABLE = ['name', 'description', 'price', 'stock', 'fulfilment', 'active'] as const;

/**
 * True when `error` is PostgreSQL refusing a row whose stock is below its reserved units (the
 * CHECK constraint catalog_items_stock_covers_reserved), however Prisma and its pg adapter wrap it.
 */
export function violatesStockCoversReserved(error: unknown): boolean {
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 10; seen++) {
    const current = pending.pop() as
      { message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } } | null | undefined;
    if (current === null || typeof current !== 'object') continue;
    if (typeof current.message === 'string' && current.message.includes(STOCK_CONSTRAINT)) return true;
    pending.push(current.cause, current.meta?.driverAdapterError);
  }
  return false;
}

function stockBelowReserved(id: string, stock: number, reserved: number | undefined): ConflictException {
  return new ConflictException({
    message:
      reserved === undefined
        ? `stock ${stock} is below what catalog item ${id} has reserved for redemptions in progress`
        : `stock ${stock} is below the ${reserved} units catalog item ${id} has reserved for redemptions in progress`,
    details: { reason: 'StockBelowReserved', ...(reserved === undefined ? {} : { reserved }) },
  });
}

function notFound(id: string, field: string): NotFoundException {
  const message = `catalog item ${id} not found`;
  return new NotFoundException({ message, details: [{ field, messages: [message] }] });
}

/**
 * A merchant's catalog: what holders can redeem NOVA for. The API owns the item's description,
 * price, stock and switches; `reserved` belongs to the redemptions (they reserve, consume and
 * release units under the row's lock), so a stock change takes the same lock.
 */
@Injectable()
export class CatalogService {
  constructor(@Inject(PrismaClient) private readonly db: PrismaClient) {}

  /**
   * The merchant's item, or a 404 naming `field`: another merchant's item is indistinguishable
   * from a missing one. For other modules (redemption quotes) as well.
   */
  async findForMerchant(merchantId: string, id: string, field = 'itemId'): Promise<CatalogItem> {
    const row = UUID.test(id) ? await this.db.catalogItem.findFirst({ where: { id, merchantId } }) : null;
    if (!row) throw notFound(id, field);
    return row;
  }

  async create(merchantId: string, request: CreateCatalogItemRequest): Promise<CatalogItemView> {
    const row = await this.db.catalogItem.create({
      data: {
        id: randomUUID(),
        merchantId,
        name: request.name,
        description: request.description ?? null,
        priceStroops: toStroops(request.price),
        stock: request.stock,
        fulfilment: request.fulfilment,
        active: request.active ?? true,
      },
    });
    return catalogItemResource(row);
  }

  async list(merchantId: string, query: CatalogItemListQuery): Promise<Page<CatalogItemView>> {
    const size = pageSize(query);
    const rows = await this.db.catalogItem.findMany({
      where: {
        merchantId,
        ...(query.active !== undefined ? { active: query.active } : {}),
        ...(query.fulfilment ? { fulfilment: query.fulfilment } : {}),
        ...afterCursor(query.cursor),
      },
      orderBy: NEWEST_FIRST,
      take: size + 1,
    });
    return toPage(rows, size, catalogItemResource);
  }

  async get(merchantId: string, id: string): Promise<CatalogItemView> {
    return catalogItemResource(await this.findForMerchant(merchantId, id, 'id'));
  }

  /**
   * Changes any of the fields a merchant owns. A new stock is checked against `reserved` under
   * the row lock the redemptions' reservations take too, so none can slip in between the check
   * and the write; the CHECK constraint would refuse it anyway, and answers the same 409.
   */
  async update(merchantId: string, id: string, request: UpdateCatalogItemRequest): Promise<CatalogItemView> {
    if (UPDATABLE.every((field) => request[field] === undefined)) {
      throw fieldError('body', `the body must change at least one of: ${UPDATABLE.join(', ')}`);
    }
    const data: Prisma.CatalogItemUpdateInput = {
      name: request.name,
      description: request.description,
      priceStroops: request.price === undefined ? undefined : toStroops(request.price),
      stock: request.stock,
      fulfilment: request.fulfilment,
      active: request.active,
    };
    const row = await this.db
      .$transaction(async (tx) => {
        const [locked] = await tx.$queryRaw<{ reserved: number }[]>`
        SELECT reserved FROM catalog_items WHERE id = ${id}::uuid AND merchant_id = ${merchantId}::uuid FOR UPDATE`;
        if (!locked) throw notFound(id, 'id');
        if (typeof request.stock === 'number' && request.stock < locked.reserved) {
          throw stockBelowReserved(id, request.stock, locked.reserved);
        }
        return await tx.catalogItem.update({ where: { id }, data });
      })
      .catch((error: unknown) => {
        if (typeof request.stock === 'number' && violatesStockCoversReserved(error)) {
          throw stockBelowReserved(id, request.stock, undefined);
        }
        throw error;
      });
    return catalogItemResource(row);
  }
}
