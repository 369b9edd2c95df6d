import { Prisma, type PrismaClient } from '@nova/db';
import {
  EnvelopeMismatchError,
  type JournalAction,
  type JournalItem,
  type JournalStatus,
  type JournalStore,
  type JournalTransaction,
  type NewJournalItem,
  type NewJournalTransaction,
  type SettleDetails,
} from '../stellar/journal';

/** Thrown inside the insert transaction to roll it back when some attempts were already stored. */
class AttemptsTaken extends Error {
  constructor(readonly keys: string[]) {
    super(`attempts already stored for ${keys.join(', ')}`);
  }
}

/** An item joined with its transaction, as list() reads it (the item's memo renamed beside the transaction's). */
type ItemRow = Omit<JournalItem, 'transaction' | 'memo'> &
  Omit<JournalTransaction, 'id'> & { itemMemo: string | null; transactionId: string };

/** The transaction journal in PostgreSQL: journal_transactions, journal_items, journal_attempts. */
export class PrismaJournalStore implements JournalStore {
  constructor(private readonly db: PrismaClient) {}

  async list(businessKey: string): Promise<JournalItem[]> {
    // Every payment runs this at least once: plain SQL (a third of the ORM's CPU).
    const rows = await this.db.$queryRaw<ItemRow[]>`
      SELECT i.id::text, i.op_index AS "opIndex", i.business_key AS "businessKey", i.attempt, i.destination,
             i.amount_stroops AS "amountStroops", i.memo AS "itemMemo",
             t.id::text AS "transactionId", t.source::text AS source, t.hash, t.envelope_xdr AS "envelopeXdr",
             t.fee_bump_xdr AS "feeBumpXdr", t.source_account AS "sourceAccount", t.sequence, t.max_time AS "maxTime",
             t.memo, t.contract_id AS "contractId", t.method, t.status::text AS status, t.ledger,
             t.result_codes AS "resultCodes", t.contract_error_code AS "contractErrorCode"
        FROM journal_items i JOIN journal_transactions t ON t.id = i.transaction_id
       WHERE i.business_key = ${businessKey}
       ORDER BY i.attempt`;
    const transactions = new Map<string, JournalTransaction>();
    return rows.map(
      ({ id, opIndex, businessKey, attempt, destination, amountStroops, itemMemo, transactionId, ...rest }) => {
        let transaction = transactions.get(transactionId);
        if (!transaction) {
          transaction = { ...rest, id: transactionId };
          transactions.set(transactionId, transaction);
        }
        return { id, transaction, opIndex, businessKey, attempt, destination, amountStroops, memo: itemMemo };
      },
    );
  }

  async insert(transaction: NewJournalTransaction, items: NewJournalItem[]): Promise<{ conflicts: string[] }> {
    try {
      await this.db.$transaction(async (tx) => {
        await tx.journalTransaction.create({ data: { ...transaction, status: 'prepared' } });
        const stored = await tx.journalItem.createManyAndReturn({
          data: items.map((item) => ({ ...item, transactionId: transaction.id })),
          skipDuplicates: true,
          select: { businessKey: true },
        });
        if (stored.length < items.length) {
          const storedKeys = new Set(stored.map((row) => row.businessKey));
          throw new AttemptsTaken(items.map((item) => item.businessKey).filter((key) => !storedKeys.has(key)));
        }
      });
      return { conflicts: [] };
    } catch (error) {
      if (error instanceof AttemptsTaken) return { conflicts: error.keys };
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        // The envelope itself is journaled already (its hash is unique): under these keys, a
        // concurrent caller stored it first (follow it); under another key, it is not theirs.
        const keys = items.map((item) => item.businessKey);
        const ours = await this.db.$queryRaw<{ businessKey: string }[]>`
          SELECT i.business_key AS "businessKey" FROM journal_items i JOIN journal_transactions t ON t.id = i.transaction_id
           WHERE t.hash = ${transaction.hash} AND i.business_key = ANY(${keys}::text[])`;
        if (ours.length > 0) return { conflicts: ours.map((row) => row.businessKey) };
        throw new EnvelopeMismatchError(
          `envelope ${transaction.hash} is journaled under another business key`,
          transaction.hash,
        );
      }
      throw error;
    }
  }

  async setStatus(id: string, status: JournalStatus, details: SettleDetails = {}): Promise<void> {
    const resultCodes = details.resultCodes ? JSON.stringify(details.resultCodes) : null;
    await this.db.$executeRaw`
      UPDATE journal_transactions
         SET status = ${status}::journal_status, ledger = COALESCE(${details.ledger ?? null}::int, ledger),
             result_codes = COALESCE(${resultCodes}::jsonb, result_codes),
             contract_error_code = COALESCE(${details.contractErrorCode ?? null}::int, contract_error_code),
             updated_at = now()
       WHERE id = ${id}::uuid AND status IN ('prepared', 'submitted')`;
  }

  async setFeeBump(id: string, feeBumpXdr: string): Promise<void> {
    await this.db.journalTransaction.update({ where: { id }, data: { feeBumpXdr } });
  }

  async recordAttempt(id: string, action: JournalAction, outcome: string, detail?: string): Promise<void> {
    await this.db.$executeRaw`
      INSERT INTO journal_attempts (transaction_id, action, outcome, detail)
      VALUES (${id}::uuid, ${action}::journal_action, ${outcome}, ${detail ?? null})`;
  }
}
