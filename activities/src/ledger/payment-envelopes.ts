import type { Prisma, PrismaClient } from '@nova/db';
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

/** PostgreSQL store of payment envelopes, their payments and their submission attempts. */
export class PrismaEnvelopeStore implements EnvelopeStore {
  constructor(private readonly db: PrismaClient) {}

  async list(businessKey: string): Promise<StoredPayment[]> {
    const rows = await this.db.paymentItem.findMany({
      where: { businessKey },
      include: { envelope: true },
      orderBy: { attempt: 'asc' },
    });
    const envelopes = new Map<string, StoredEnvelope>();
    return rows.map(({ envelope: row, ...item }) => {
      let envelope = envelopes.get(row.id);
      if (!envelope) {
        envelope = {
          id: row.id,
          hash: row.hash,
          envelopeXdr: row.envelopeXdr,
          feeBumpXdr: row.feeBumpXdr,
          channelAccount: row.channelAccount,
          sequence: row.sequence,
          maxTime: row.maxTime,
          memo: row.memo,
          status: row.status as EnvelopeStatus,
          ledger: row.ledger,
          resultCodes: (row.resultCodes as ResultCodes | null) ?? null,
        };
        envelopes.set(row.id, envelope);
      }
      return {
        id: item.id,
        envelope,
        opIndex: item.opIndex,
        businessKey: item.businessKey,
        attempt: item.attempt,
        destination: item.destination,
        amountStroops: item.amountStroops,
        memo: item.memo,
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
    await this.db.paymentEnvelope.update({
      where: { id },
      data: {
        status,
        ...(details.ledger !== undefined ? { ledger: details.ledger } : {}),
        ...(details.resultCodes ? { resultCodes: details.resultCodes as unknown as Prisma.InputJsonValue } : {}),
      },
    });
  }

  async setFeeBump(id: string, feeBumpXdr: string): Promise<void> {
    await this.db.paymentEnvelope.update({ where: { id }, data: { feeBumpXdr } });
  }

  async recordAttempt(envelopeId: string, action: string, outcome: string, detail?: string): Promise<void> {
    await this.db.submissionAttempt.create({ data: { envelopeId, action, outcome, detail: detail ?? null } });
  }
}
