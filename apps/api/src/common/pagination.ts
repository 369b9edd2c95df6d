import { BadRequestException, type Type } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type as TransformTo } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/**
 * Cursor (keyset) pagination, newest first, for any read model with `createdAt` and `id`.
 *
 * Rows are ordered by (createdAt desc, id desc) and a cursor carries the last row's pair, so a
 * walk through the pages never repeats or skips a row that existed when it began, whatever is
 * inserted meanwhile (new rows sort before the cursor). Offsets cannot promise that.
 *
 * Usage in a service:
 *   const rows = await db.thing.findMany({
 *     where: { merchantId, ...afterCursor(query.cursor) },
 *     orderBy: NEWEST_FIRST,
 *     take: pageSize(query) + 1,
 *   });
 *   return toPage(rows, pageSize(query), toView);
 */

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** `?limit=&cursor=`; extend it when a list has filters of its own. */
export class PageQuery {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
    description: 'Items per page',
  })
  @IsOptional()
  @TransformTo(() => Number)
  @IsInt({ message: `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
  @Min(1, { message: `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
  @Max(MAX_PAGE_SIZE, { message: `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page; omit for the first page' })
  @IsOptional()
  @IsString({ message: 'cursor must be the nextCursor of a previous page' })
  @MaxLength(200, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  /** Opaque; null on the last page. */
  nextCursor: string | null;
}

/** The position of a row in (createdAt desc, id desc) order. */
export interface CursorPosition {
  createdAt: Date;
  id: string;
}

/** Prisma `orderBy` for the page order; `id` breaks ties between rows of the same millisecond. */
export const NEWEST_FIRST: [{ createdAt: 'desc' }, { id: 'desc' }] = [{ createdAt: 'desc' }, { id: 'desc' }];

export function pageSize(query: { limit?: number | undefined }): number {
  return query.limit ?? DEFAULT_PAGE_SIZE;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

const CURSOR_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function invalidCursor(): BadRequestException {
  const message = 'cursor must be the nextCursor of a previous page';
  return new BadRequestException({ message, details: [{ field: 'cursor', messages: [message] }] });
}

/** Reads a cursor made by encodeCursor; anything else is a 400 naming `cursor`. */
export function decodeCursor(cursor: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalidCursor();
  const [at, id] = parsed as unknown[];
  if (typeof at !== 'string' || typeof id !== 'string' || !UUID.test(id)) throw invalidCursor();
  // encodeCursor writes a four-digit year; anything else (year +010000, -000001) PostgreSQL would refuse.
  if (!CURSOR_INSTANT.test(at)) throw invalidCursor();
  const createdAt = new Date(at);
  if (Number.isNaN(createdAt.getTime()) || createdAt.getTime() < 0 || createdAt.toISOString() !== at) {
    throw invalidCursor();
  }
  return { createdAt, id };
}

/** A Prisma `where` fragment selecting the rows after the cursor (all rows without one). */
export function afterCursor(
  cursor: string | undefined,
): { OR: [{ createdAt: { lt: Date } }, { createdAt: Date; id: { lt: string } }] } | Record<string, never> {
  if (cursor === undefined) return {};
  const { createdAt, id } = decodeCursor(cursor);
  return { OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }] };
}

/** Turns `pageSize + 1` rows (the extra one only says "there is more") into a page. */
export function toPage<Row extends CursorPosition, View>(
  rows: Row[],
  size: number,
  toView: (row: Row) => View,
): Page<View> {
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return {
    data: items.map(toView),
    nextCursor: rows.length > size && last ? encodeCursor(last) : null,
  };
}

/**
 * A named OpenAPI schema for a page of `item`:
 * `export class CampaignPage extends PageOf(CampaignView) {}`.
 */
export function PageOf<T>(item: Type<T>): Type<Page<T>> {
  class PageOfItems implements Page<T> {
    @ApiProperty({ type: item, isArray: true })
    data!: T[];

    @ApiProperty({
      type: String,
      nullable: true,
      description: 'Pass as ?cursor= for the next page; null on the last page',
      example: 'WyIyMDI2LTAxLTAxVDAwOjAwOjAwLjAwMFoiLCIuLi4iXQ',
    })
    nextCursor!: string | null;
  }
  Object.defineProperty(PageOfItems, 'name', { value: `${item.name}Page` });
  return PageOfItems;
}
