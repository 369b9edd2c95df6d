import { Prisma, type PrismaClient } from '@nova/db';
import type { ResultCodes } from '../stellar/errors';
import type { EnvelopeStatus, EnvelopeStore, StoredEnvelope } from '../stellar/payment-submitter';

/** PostgreSQL store of payment envelopes and their submission attempts. */
export class PrismaEnvelopeStore implements EnvelopeStore {
  constructor(private readonly db: PrismaClient) {}

  async list(businessKey: string): Promise<StoredEnvelope[]> {
    const rows = await this.db.paymentEnvelope.findMany({ where: { businessKey }, orderBy: { attempt: 'asc' } });
    return rows.map((row) => ({
      id: row.id,
      businessKey: row.businessKey,
      attempt: row.attempt,
      hash: row.hash,
      envelopeXdr: row.envelopeXdr,
      feeBumpXdr: row.feeBumpXdr,
      channelAccount: row.channelAccount,
      sequence: row.sequence,
      maxTime: row.maxTime,
      destination: row.destination,
      amountStroops: row.amountStroops,
      memo: row.memo,
      status: row.status as EnvelopeStatus,
      ledger: row.ledger,
    }));
  }

  async insert(envelope: Omit<StoredEnvelope, 'status' | 'ledger' | 'feeBumpXdr'>): Promise<boolean> {
    try {
      await this.db.paymentEnvelope.create({ data: { ...envelope, status: 'built' } });
      return true;
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return false;
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
