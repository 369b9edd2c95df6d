import type { PrismaClient } from '@nova/db';
import type { ResultCodes } from '../stellar/errors';
import type {
  EnvelopeStatus,
  EnvelopeStore,
  NewEnvelope,
  NewPayment,
  StoredEnvelope,
  StoredPayment,
} from '../stellar/payment-submitter';

/** Thrown inside the insert transaction to roll it back when some attempts were already stored. */
class AttemptsTaken extends Error {
  constructor(readonly keys: string[]) {
    super(`attempts already stored for ${keys.join(', ')}`);
  }
}

/** A payment joined with its envelope, as list() reads it. */
interface PaymentRow {
  id: string;
  opIndex: number;
  businessKey: string;
  attempt: number;
  destination: string;
  amountStroops: bigint;
  memo: string;
  envelopeId: string;
  hash: string;
  envelopeXdr: string;
  feeBumpXdr: string | null;
  channelAccount: string;
  sequence: bigint;
  maxTime: Date;
  envelopeMemo: string;
  status: EnvelopeStatus;
  ledger: number | null;
  resultCodes: ResultCodes | null;
}

/** PostgreSQL store of payment envelopes, their payments and their submission attempts. */
export class PrismaEnvelopeStore implements EnvelopeStore {
  constructor(private readonly db: PrismaClient) {}

  async list(businessKey: string): Promise<StoredPayment[]> {
    // Every payment runs this at least once: plain SQL (see createIssuanceLedgerActivities).
    const rows = await this.db.$queryRaw<PaymentRow[]>`
      SELECT p.id::text, p.op_index AS "opIndex", p.business_key AS "businessKey", p.attempt, p.destination,
             p.amount_stroops AS "amountStroops", p.memo,
             e.id::text AS "envelopeId", e.hash, e.envelope_xdr AS "envelopeXdr", e.fee_bump_xdr AS "feeBumpXdr",
             e.channel_account AS "channelAccount", e.sequence, e.max_time AS "maxTime", e.memo AS "envelopeMemo",
             e.status, e.ledger, e.result_codes AS "resultCodes"
        FROM payment_items p JOIN payment_envelopes e ON e.id = p.envelope_id
       WHERE p.business_key = ${businessKey}
       ORDER BY p.attempt`;
    const envelopes = new Map<string, StoredEnvelope>();
    return rows.map((row) => {
      let envelope = envelopes.get(row.envelopeId);
      if (!envelope) {
        envelope = {
          id: row.envelopeId,
          hash: row.hash,
          envelopeXdr: row.envelopeXdr,
          feeBumpXdr: row.feeBumpXdr,
          channelAccount: row.channelAccount,
          sequence: row.sequence,
          maxTime: row.maxTime,
          memo: row.envelopeMemo,
          status: row.status,
          ledger: row.ledger,
          resultCodes: row.resultCodes,
        };
        envelopes.set(row.envelopeId, envelope);
      }
      return {
        id: row.id,
        envelope,
        opIndex: row.opIndex,
        businessKey: row.businessKey,
        attempt: row.attempt,
        destination: row.destination,
        amountStroops: row.amountStroops,
        memo: row.memo,
      };
    });
  }

  async insert(envelope: NewEnvelope, payments: NewPayment[]): Promise<{ conflicts: string[] }> {
    try {
      await this.db.$transaction(async (tx) => {
        await tx.paymentEnvelope.create({ data: { ...envelope, status: 'built' } });
        const stored = await tx.paymentItem.createManyAndReturn({
          data: payments.map((payment) => ({ ...payment, envelopeId: envelope.id })),
          skipDuplicates: true,
          select: { businessKey: true },
        });
        if (stored.length < payments.length) {
          const storedKeys = new Set(stored.map((row) => row.businessKey));
          throw new AttemptsTaken(payments.map((p) => p.businessKey).filter((key) => !storedKeys.has(key)));
        }
      });
      return { conflicts: [] };
    } catch (error) {
      if (error instanceof AttemptsTaken) return { conflicts: error.keys };
      throw error;
    }
  }

  async setStatus(
    id: string,
    status: EnvelopeStatus,
    details: { ledger?: number; resultCodes?: ResultCodes } = {},
  ): Promise<void> {
    const resultCodes = details.resultCodes ? JSON.stringify(details.resultCodes) : null;
    await this.db.$executeRaw`
      UPDATE payment_envelopes
         SET status = ${status}, ledger = COALESCE(${details.ledger ?? null}::int, ledger),
             result_codes = COALESCE(${resultCodes}::jsonb, result_codes), updated_at = now()
       WHERE id = ${id}::uuid`;
  }

  async setFeeBump(id: string, feeBumpXdr: string): Promise<void> {
    await this.db.paymentEnvelope.update({ where: { id }, data: { feeBumpXdr } });
  }

  async recordAttempt(envelopeId: string, action: string, outcome: string, detail?: string): Promise<void> {
    await this.db.$executeRaw`
      INSERT INTO submission_attempts (envelope_id, action, outcome, detail)
      VALUES (${envelopeId}::uuid, ${action}, ${outcome}, ${detail ?? null})`;
  }
}
