import { ApplicationFailure } from '@temporalio/common';
import { CONTRACT_EVENTS_OUTSIDE_RETENTION, type IndexedContract } from '@nova/domain';
import { recordContractEventsIndexed, recordContractIndexerGap, recordContractIndexerLag } from '../metrics';
import { CursorMovedError, PrismaContractEventStore, type IndexerPosition } from '../postgres/contract-events';
import { decodeContractEvent } from './contract-event-decoding';
import { EventsOutsideRetentionError } from './errors';
import { ledgerOfEventCursor, type StellarGateway } from './gateway';
import { toActivityFailure } from './payment-activities';

export interface ContractIndexerPageInput {
  contract: IndexedContract;
  contractId: string;
  /** Events asked of getEvents at most (CONTRACT_INDEXER_PAGE_SIZE). */
  pageSize: number;
}

export type ContractIndexerPageOutcome =
  | {
      status: 'indexed';
      /** Events the page held, and those of them stored now (fewer when a page is read again). */
      read: number;
      stored: number;
      /** The page was short: the indexer has read up to the RPC's latest ledger. */
      caughtUp: boolean;
      latestLedger: number;
      /** The first ledger not yet read in full. */
      nextLedger: number;
    }
  | {
      status: 'gap';
      failureType: typeof CONTRACT_EVENTS_OUTSIDE_RETENTION;
      /** The ledgers whose events could not be read, inclusive; the indexer resumes after toLedger. */
      fromLedger: number;
      toLedger: number;
    };

/**
 * The contract indexer's one step: read the page after the persisted cursor from Soroban RPC,
 * decode it by the contract's interface, store its events and the cursor after it in one
 * database transaction. Retried or repeated, a page is stored once (the event id is the key, the
 * cursor moves only from where the page was read). A cursor the RPC no longer retains is
 * recorded as a gap (the ledgers from it to the oldest retained one) and the cursor moves past
 * the gap in the same transaction: the indexer never skips without saying so.
 */
export function createContractIndexerActivities(deps: {
  db: ConstructorParameters<typeof PrismaContractEventStore>[0];
  gateway: StellarGateway;
}) {
  const store = new PrismaContractEventStore(deps.db);

  async function readPage(input: ContractIndexerPageInput, position: IndexerPosition | undefined) {
    if (position?.cursor) {
      return await deps.gateway.contractEvents({
        contractIds: [input.contractId],
        cursor: position.cursor,
        limit: input.pageSize,
      });
    }
    // The first page starts at the oldest ledger the RPC still serves: it holds nothing older.
    const startLedger = position?.nextLedger ?? (await deps.gateway.rpcLedgerRange()).oldestLedger;
    return await deps.gateway.contractEvents({ contractIds: [input.contractId], startLedger, limit: input.pageSize });
  }

  return {
    async indexContractEventsPage(input: ContractIndexerPageInput): Promise<ContractIndexerPageOutcome> {
      const position = await store.position(input.contract);
      try {
        const page = await readPage(input, position);
        const cursor = page.cursor;
        if (!cursor)
          throw ApplicationFailure.retryable('Soroban RPC answered getEvents without a cursor', 'StellarUnavailable');
        const full = page.events.length >= input.pageSize;
        // A full page may end inside a ledger: that ledger is read in full only by the next page.
        const nextLedger = full ? ledgerOfEventCursor(cursor) : ledgerOfEventCursor(cursor) + 1;
        const events = page.events.map((event) => decodeContractEvent(input.contract, event));
        const stored = await store.storePage({
          contract: input.contract,
          contractId: input.contractId,
          from: position,
          to: { cursor, nextLedger },
          events,
        });
        const byType = new Map<string, number>();
        for (const event of stored) byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
        for (const [type, count] of byType) recordContractEventsIndexed(input.contract, type, count);
        recordContractIndexerLag(input.contract, page.latestLedger - (nextLedger - 1));
        return {
          status: 'indexed',
          read: events.length,
          stored: stored.length,
          caughtUp: !full,
          latestLedger: page.latestLedger,
          nextLedger,
        };
      } catch (error) {
        if (error instanceof EventsOutsideRetentionError && position && position.nextLedger < error.oldestLedger) {
          const gap = { fromLedger: position.nextLedger, toLedger: error.oldestLedger - 1 };
          await store.recordGap({ contract: input.contract, contractId: input.contractId, from: position, ...gap });
          recordContractIndexerGap(input.contract, gap.fromLedger, gap.toLedger);
          return { status: 'gap', failureType: CONTRACT_EVENTS_OUTSIDE_RETENTION, ...gap };
        }
        if (error instanceof EventsOutsideRetentionError) {
          // Not behind the window: ahead of it (an RPC node behind the one that served the cursor),
          // or the window moved between two reads. Both pass; nothing is skipped.
          throw ApplicationFailure.retryable(error.message, 'StellarUnavailable');
        }
        if (error instanceof CursorMovedError) throw ApplicationFailure.retryable(error.message, 'CursorMoved');
        throw toActivityFailure(error);
      }
    },
  };
}

export type ContractIndexerActivities = ReturnType<typeof createContractIndexerActivities>;
