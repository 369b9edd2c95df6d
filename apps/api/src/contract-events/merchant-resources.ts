import { Prisma } from '@nova/db';
import type { IndexedContract } from '@nova/domain';

/**
 * Which merchant an indexed event concerns, by the resource id the event carries: each contract's
 * resources live in a table with `id` (uuid) and `merchant_id`. A contract's table that does not
 * exist (yet) concerns no merchant: its events are the admin's only. A new contract is one more line.
 */
export const MERCHANT_RESOURCE_TABLES: Readonly<Record<IndexedContract, string>> = {
  campaign: 'campaigns',
  redemption: 'redemptions',
  // The vesting schedules' read model; until its migration has run, vesting events are admin-only.
  vesting: 'vesting_schedules',
};

/** The tables of MERCHANT_RESOURCE_TABLES that exist in the database. */
export async function existingResourceTables(db: {
  $queryRaw<T>(query: Prisma.Sql): Promise<T>;
}): Promise<[IndexedContract, string][]> {
  const entries = Object.entries(MERCHANT_RESOURCE_TABLES) as [IndexedContract, string][];
  const rows = await db.$queryRaw<{ name: string }[]>(
    Prisma.sql`SELECT relname::text AS name FROM pg_class WHERE relkind = 'r' AND relname IN (${Prisma.join(
      entries.map(([, table]) => table),
    )}) AND pg_table_is_visible(oid)`,
  );
  const existing = new Set(rows.map((row) => row.name));
  return entries.filter(([, table]) => existing.has(table));
}

/** A SQL condition on `contract_events e`: the event is about one of the merchant's resources. */
export function aboutMerchant(merchantId: string, tables: [IndexedContract, string][]): Prisma.Sql {
  if (tables.length === 0) return Prisma.sql`FALSE`;
  return Prisma.join(
    tables.map(
      ([contract, table]) =>
        Prisma.sql`(e.contract = ${contract} AND e.resource_id IN (SELECT id::text FROM ${Prisma.raw(
          `"${table}"`,
        )} WHERE merchant_id = ${merchantId}::uuid))`,
    ),
    ' OR ',
  );
}
