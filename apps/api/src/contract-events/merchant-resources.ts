import { Prisma } from '@nova/db';
import type { IndexedContract } from '@nova/domain';

/**
 * Which merchant an indexed event concerns, by the resource id the event carries: each contract's
 * resources live in a table with `id` (uuid) and `merchant_id`. A new contract is one more line.
 */
export const MERCHANT_RESOURCE_TABLES: Readonly<Record<IndexedContract, string>> = {
  campaign: 'campaigns',
  redemption: 'redemptions',
  vesting: 'vesting_schedules',
};

/** A SQL condition on `contract_events e`: the event is about one of the merchant's resources. */
export function aboutMerchant(merchantId: string): Prisma.Sql {
  const tables = Object.entries(MERCHANT_RESOURCE_TABLES) as [IndexedContract, string][];
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
