import { Prisma, type PrismaClient } from '@nova/db';
import type { ExpectedPaymentKind } from '@nova/domain';

/** A read-model record that says a payment left the platform, as the reconciliation compares it. */
export interface PaidRecord {
  kind: ExpectedPaymentKind;
  /** The record's id (an issuance's, a redemption's, a vesting schedule's with its release). */
  id: string;
  /** Its payment's key in the transaction journal. */
  businessKey: string;
  merchantId: string | null;
  /** The record's own status (confirmed, refunded, ...). */
  status: string;
  /** Does the read model say the payment landed? */
  paid: boolean;
  amountStroops: bigint;
  destination: string;
  txHash: string | null;
  /** When the read model recorded the payment (what puts it in a window). */
  paidAt: Date;
}

export interface Window {
  from: Date;
  to: Date;
}

/** Keyset position in paidIn (paid at, id). */
export interface RecordCursor {
  at: Date;
  id: string;
}

/**
 * One kind of record a payment from the platform's accounts may pay. A payment the journal put
 * on chain names its record by business key; every such key must belong to one source here.
 */
export interface ExpectedPaymentSource {
  kind: ExpectedPaymentKind;
  /** The record a journal business key pays, or undefined when the key is not of this kind. */
  recordId(businessKey: string): string | undefined;
  /** The records by id. */
  load(db: PrismaClient, ids: string[]): Promise<PaidRecord[]>;
  /** The records the read model says were paid within the window, oldest first, after `after`. */
  paidIn(db: PrismaClient, window: Window, after: RecordCursor, limit: number): Promise<PaidRecord[]>;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const ISSUANCE_KEY = new RegExp(`^issuance/(${UUID})$`);
const REFUND_KEY = new RegExp(`^redemption/(${UUID})/refund$`);
const VESTING_KEY = new RegExp(`^(vesting/${UUID}/(?:release/\\d+|revocation))$`);

type Row = Omit<PaidRecord, 'kind'>;

const issuances: ExpectedPaymentSource = {
  kind: 'issuance',
  recordId: (key) => ISSUANCE_KEY.exec(key)?.[1],
  async load(db, ids) {
    const rows = await db.$queryRaw<Row[]>`
      SELECT id::text, 'issuance/' || id::text AS "businessKey", merchant_id::text AS "merchantId", status,
             status = 'confirmed' AS paid, amount_stroops AS "amountStroops", wallet_address AS destination,
             tx_hash AS "txHash", updated_at AS "paidAt"
        FROM issuances WHERE id = ANY(${ids}::uuid[])`;
    return rows.map((row) => ({ ...row, kind: 'issuance' }));
  },
  async paidIn(db, window, after, limit) {
    // A confirmed issuance's last change is its confirmation (nothing changes it afterwards).
    const rows = await db.$queryRaw<Row[]>`
      SELECT id::text, 'issuance/' || id::text AS "businessKey", merchant_id::text AS "merchantId", status,
             true AS paid, amount_stroops AS "amountStroops", wallet_address AS destination,
             tx_hash AS "txHash", updated_at AS "paidAt"
        FROM issuances
       WHERE status = 'confirmed' AND updated_at >= ${window.from} AND updated_at < ${window.to}
         AND (updated_at, id) > (${after.at}::timestamptz, ${after.id}::uuid)
       ORDER BY updated_at, id LIMIT ${limit}`;
    return rows.map((row) => ({ ...row, kind: 'issuance' }));
  },
};

const redemptionRefunds: ExpectedPaymentSource = {
  kind: 'redemption_refund',
  recordId: (key) => REFUND_KEY.exec(key)?.[1],
  async load(db, ids) {
    const rows = await db.$queryRaw<Row[]>`
      SELECT id::text, 'redemption/' || id::text || '/refund' AS "businessKey", merchant_id::text AS "merchantId",
             status, refund_tx_hash IS NOT NULL AS paid, price_stroops AS "amountStroops", wallet_address AS destination,
             refund_tx_hash AS "txHash", updated_at AS "paidAt"
        FROM redemptions WHERE id = ANY(${ids}::uuid[])`;
    return rows.map((row) => ({ ...row, kind: 'redemption_refund' }));
  },
  async paidIn(db, window, after, limit) {
    const rows = await db.$queryRaw<Row[]>`
      SELECT id::text, 'redemption/' || id::text || '/refund' AS "businessKey", merchant_id::text AS "merchantId",
             status, true AS paid, price_stroops AS "amountStroops", wallet_address AS destination,
             refund_tx_hash AS "txHash", updated_at AS "paidAt"
        FROM redemptions
       WHERE refund_tx_hash IS NOT NULL AND updated_at >= ${window.from} AND updated_at < ${window.to}
         AND (updated_at, id) > (${after.at}::timestamptz, ${after.id}::uuid)
       ORDER BY updated_at, id LIMIT ${limit}`;
    return rows.map((row) => ({ ...row, kind: 'redemption_refund' }));
  },
};

/**
 * Vesting payments, from the vesting read model: each payment of a schedule's releases (those
 * paid together while it was stalled share one, keyed by the newest of them, for their summed
 * amount) and a revocation's final payment, each to the schedule's beneficiary.
 */
function vestingPayments(scheduleIds: string[] | undefined, window: Window | undefined): Prisma.Sql {
  const releases = Prisma.sql`
    SELECT 'vesting/' || s.id::text || '/release/' || max(r.number) AS id, s.merchant_id::text AS "merchantId",
           s.status, true AS paid, sum(r.amount_stroops)::bigint AS "amountStroops", s.beneficiary AS destination,
           r.tx_hash AS "txHash", max(r.paid_at) AS "paidAt"
      FROM vesting_releases r JOIN vesting_schedules s ON s.id = r.schedule_id
     WHERE r.status = 'paid' AND r.tx_hash IS NOT NULL
       ${scheduleIds ? Prisma.sql`AND s.id = ANY(${scheduleIds}::uuid[])` : Prisma.empty}
       ${window ? Prisma.sql`AND r.paid_at >= ${window.from} AND r.paid_at < ${window.to}` : Prisma.empty}
     GROUP BY s.id, r.tx_hash`;
  // A revoked schedule changes no more after its revocation: updated_at is when its payment was recorded.
  const revocations = Prisma.sql`
    SELECT 'vesting/' || s.id::text || '/revocation' AS id, s.merchant_id::text AS "merchantId", s.status,
           true AS paid, s.revocation_stroops AS "amountStroops", s.beneficiary AS destination,
           s.revocation_tx_hash AS "txHash", s.updated_at AS "paidAt"
      FROM vesting_schedules s
     WHERE s.revocation_tx_hash IS NOT NULL
       ${scheduleIds ? Prisma.sql`AND s.id = ANY(${scheduleIds}::uuid[])` : Prisma.empty}
       ${window ? Prisma.sql`AND s.updated_at >= ${window.from} AND s.updated_at < ${window.to}` : Prisma.empty}`;
  return Prisma.sql`(${releases}) UNION ALL (${revocations})`;
}

const vestingReleases: ExpectedPaymentSource = {
  kind: 'vesting_release',
  recordId: (key) => VESTING_KEY.exec(key)?.[1],
  async load(db, ids) {
    const scheduleIds = [...new Set(ids.map((id) => id.split('/')[1]!))];
    const rows = await db.$queryRaw<Omit<Row, 'businessKey'>[]>`
      SELECT * FROM (${vestingPayments(scheduleIds, undefined)}) p WHERE p.id = ANY(${ids}::text[])`;
    return rows.map((row) => ({ ...row, businessKey: row.id, kind: 'vesting_release' }));
  },
  async paidIn(db, window, after, limit) {
    const rows = await db.$queryRaw<Omit<Row, 'businessKey'>[]>`
      SELECT * FROM (${vestingPayments(undefined, window)}) p
       WHERE (p."paidAt", p.id) > (${after.at}::timestamptz, ${after.id}::text)
       ORDER BY p."paidAt", p.id LIMIT ${limit}`;
    return rows.map((row) => ({ ...row, businessKey: row.id, kind: 'vesting_release' }));
  },
};

/**
 * Every kind of record a payment from the distribution account or a channel may pay. A new kind
 * of platform payment is one more source here (and its kind in EXPECTED_PAYMENT_KINDS).
 */
export const EXPECTED_PAYMENT_SOURCES: readonly ExpectedPaymentSource[] = [
  issuances,
  redemptionRefunds,
  vestingReleases,
];

export function paymentSourceOf(kind: ExpectedPaymentKind): ExpectedPaymentSource {
  const source = EXPECTED_PAYMENT_SOURCES.find((candidate) => candidate.kind === kind);
  if (!source) throw new Error(`no payment source for ${kind}`);
  return source;
}

/** The source and record a journal business key pays; undefined when no source claims it. */
export function recordOfKey(businessKey: string): { source: ExpectedPaymentSource; id: string } | undefined {
  for (const source of EXPECTED_PAYMENT_SOURCES) {
    const id = source.recordId(businessKey);
    if (id !== undefined) return { source, id };
  }
  return undefined;
}
