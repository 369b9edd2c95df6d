import { randomUUID } from 'node:crypto';
import type { Prisma, PrismaClient } from '@nova/db';
import { CONTRACT_EVENTS_OUTSIDE_RETENTION, type IndexedContract } from '@nova/domain';
import type { DecodedContractEvent } from '../stellar/contract-event-decoding';

/** Where an indexer reads next: after `cursor`, or (no cursor: first page, or after a gap) from `nextLedger`. */
export interface IndexerPosition {
  cursor: string | null;
  nextLedger: number;
}

/** Another attempt moved the cursor first (an activity retried while the old attempt still ran): nothing was written. */
export class CursorMovedError extends Error {
  constructor(contract: string) {
    super(`the ${contract} indexer's cursor moved under this page: it is read again from the new cursor`);
    this.name = 'CursorMovedError';
  }
}

/**
 * The contract indexers' tables: events, cursors, gaps. The events of a page and the cursor
 * after it are written in ONE transaction, and the cursor moves only from the position the page
 * was read at (compare-and-set): a page is stored whole or not at all, and a retried or replayed
 * page adds no row (the RPC event id is the primary key).
 */
export class PrismaContractEventStore {
  constructor(private readonly db: PrismaClient) {}

  async position(contract: IndexedContract): Promise<IndexerPosition | undefined> {
    const row = await this.db.contractEventCursor.findUnique({ where: { contract } });
    return row ? { cursor: row.cursor, nextLedger: row.nextLedger } : undefined;
  }

  /**
   * Stores a page's events and moves the cursor from `from` to `to`, together; with `gap`, the
   * ledgers the cursor skips (no longer retained by the RPC) are recorded in the same transaction.
   * @returns the events this call inserted (those already stored are left as they are)
   */
  async storePage(input: {
    contract: IndexedContract;
    contractId: string;
    from: IndexerPosition | undefined;
    to: IndexerPosition;
    events: DecodedContractEvent[];
    gap?: { fromLedger: number; toLedger: number };
  }): Promise<DecodedContractEvent[]> {
    return await this.db.$transaction(async (tx) => {
      await this.moveCursor(tx, input.contract, input.contractId, input.from, input.to);
      if (input.gap) {
        await tx.contractEventGap.create({
          data: {
            id: randomUUID(),
            contract: input.contract,
            contractId: input.contractId,
            fromLedger: input.gap.fromLedger,
            toLedger: input.gap.toLedger,
            failureType: CONTRACT_EVENTS_OUTSIDE_RETENTION,
          },
        });
      }
      if (input.events.length === 0) return [];
      const inserted = await tx.contractEvent.createManyAndReturn({
        data: input.events.map((event) => ({
          id: event.id,
          contract: event.contract,
          contractId: event.contractId,
          type: event.type,
          resourceId: event.resourceId,
          ledger: event.ledger,
          ledgerClosedAt: event.ledgerClosedAt,
          txHash: event.txHash,
          payload: event.payload,
          topicXdr: event.topicXdr,
          valueXdr: event.valueXdr,
        })),
        skipDuplicates: true,
        select: { id: true },
      });
      const ids = new Set(inserted.map((row) => row.id));
      return input.events.filter((event) => ids.has(event.id));
    });
  }

  private async moveCursor(
    tx: Prisma.TransactionClient,
    contract: IndexedContract,
    contractId: string,
    from: IndexerPosition | undefined,
    to: IndexerPosition,
  ): Promise<void> {
    if (!from) {
      // The first page: a concurrent first page fails on the primary key and rolls back.
      const created = await tx.contractEventCursor.createMany({
        data: [{ contract, contractId, cursor: to.cursor, nextLedger: to.nextLedger }],
        skipDuplicates: true,
      });
      if (created.count !== 1) throw new CursorMovedError(contract);
      return;
    }
    const moved = await tx.contractEventCursor.updateMany({
      where: { contract, cursor: from.cursor, nextLedger: from.nextLedger },
      data: { cursor: to.cursor, nextLedger: to.nextLedger, contractId },
    });
    if (moved.count !== 1) throw new CursorMovedError(contract);
  }
}
