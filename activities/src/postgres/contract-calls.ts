import { Prisma, type PrismaClient } from '@nova/db';
import type { ResultCodes } from '../stellar/errors';
import type { ContractCallStatus, ContractCallStore, StoredContractCall } from '../stellar/contract-call-submitter';

/** PostgreSQL store of signed contract calls (contract_calls). */
export class PrismaContractCallStore implements ContractCallStore {
  constructor(private readonly db: PrismaClient) {}

  async list(businessKey: string): Promise<StoredContractCall[]> {
    const rows = await this.db.contractCall.findMany({ where: { businessKey }, orderBy: { attempt: 'asc' } });
    return rows.map((row) => ({
      id: row.id,
      businessKey: row.businessKey,
      attempt: row.attempt,
      contractId: row.contractId,
      method: row.method,
      sourceAccount: row.sourceAccount,
      hash: row.hash,
      envelopeXdr: row.envelopeXdr,
      maxTime: row.maxTime,
      status: row.status as ContractCallStatus,
      ledger: row.ledger,
    }));
  }

  async insert(call: Omit<StoredContractCall, 'status' | 'ledger'>): Promise<boolean> {
    try {
      await this.db.contractCall.create({ data: { ...call, status: 'built' } });
      return true;
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return false;
      throw error;
    }
  }

  async setStatus(
    id: string,
    status: ContractCallStatus,
    details: { ledger?: number; contractErrorCode?: number; resultCodes?: ResultCodes } = {},
  ): Promise<void> {
    await this.db.contractCall.update({
      where: { id },
      data: {
        status,
        ...(details.ledger !== undefined ? { ledger: details.ledger } : {}),
        ...(details.contractErrorCode !== undefined ? { contractErrorCode: details.contractErrorCode } : {}),
        ...(details.resultCodes ? { resultCodes: details.resultCodes as unknown as Prisma.InputJsonValue } : {}),
      },
    });
  }
}
