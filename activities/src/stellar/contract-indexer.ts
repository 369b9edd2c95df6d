import { ApplicationFailure } from '@temporalio/common';
import { CONTRACT_EVENTS_OUTSIDE_RETENTION, type IndexedContract } from '@nova/domain';
import { recordContractEventsIndexed, recordContractIndexerGap, recordContractIndexerLag } from '../metrics';
import { CursorMovedError, PrismaContractEventStore, type IndexerPosition } from '../postgres/contract-events';
import { decodeContractEvent } from './contract-event-decoding';
import { EventsOutsideRetentionError } from './errors';
import { ledgerOfEventCursor, type ContractEventsPage, type StellarGateway } from './gateway';
import { toActivityFailure } from './payment-activities';

export interface ContractIndexerPageInput {
  contract: IndexedContract;
  contractId: string;
  /** Events asked of getEvents at most (CONTRACT_INDEXER_PAGE_SIZE). */
  pageSize: number;
}

export interface ContractIndexerPageOutcome {
  /** Events the page held, and those of them stored now (fewer when a page is read again). */
  read: number;
  stored: number;
  /** The page was short: the indexer has read up to the RPC's latest ledger. */
  caughtUp: boolean;
  latestLedger: number;
  /** The first ledger not yet read in full. */
  nextLedger: number;
  /**
   * Set when the cursor had fallen out of the RPC's retention window: the ledgers whose events
   * could not be read (inclusive), recorded in contract_event_gaps with this page.
   */
  gap?: { failureType: typeof CONTRACT_EVENTS_OUTSIDE_RETENTION; fromLedger: number; toLedger: number };
}

/** Reads from the oldest retained ledger after a gap: the window may move on between two reads. */
const GAP_RESUME_ATTEMPTS = 5;

/**
 * The contract indexer's one step: read the page after the persisted cursor from Soroban RPC,
 * decode it by the contract's interface, store its events and the cursor after it in one
 * database transaction. Retried or repeated, a page is stored once (the event id is the key, the
 * cursor moves only from where the page was read). A cursor the RPC no longer retains is
 * recorded as a gap (from it to the ledger before the oldest retained one) in the transaction
 * that stores the first page read after the gap: the indexer never skips without saying so.
 */
export function createContractIndexerActivities(deps: {
  db: ConstructorParameters<typeof PrismaContractEventStore>[0];
  gateway: StellarGateway;
}) {
  const store = new PrismaContractEventStore(deps.db);
  const page = (input: ContractIndexerPageInput, from: { cursor: string } | { startLedger: number }) =>
    deps.gateway.contractEvents({ contractIds: [input.contractId], limit: input.pageSize, ...from });

  /** The page at the position; a position the RPC no longer retains: the page at the oldest retained ledger, and the gap. */
  async function readAt(
    input: ContractIndexerPageInput,
    position: IndexerPosition | undefined,
  ): Promise<{ page: ContractEventsPage; gap?: { fromLedger: number; toLedger: number } }> {
    // The first page starts at the oldest ledger the RPC still serves: it holds nothing older.
    const start = position ?? { cursor: null, nextLedger: (await deps.gateway.rpcLedgerRange()).oldestLedger };
    try {
      return {
        page: await page(input, start.cursor ? { cursor: start.cursor } : { startLedger: start.nextLedger }),
      };
    } catch (error) {
      if (!(error instanceof EventsOutsideRetentionError)) throw error;
      // Ahead of the window (an RPC node behind the one that served the cursor) is no gap: it passes.
      if (!position || position.nextLedger >= error.oldestLedger) {
        throw ApplicationFailure.retryable(error.message, 'StellarUnavailable');
      }
      let oldest = error.oldestLedger;
      for (let attempt = 1; ; attempt += 1) {
        try {
          return {
            page: await page(input, { startLedger: oldest }),
            gap: { fromLedger: position.nextLedger, toLedger: oldest - 1 },
          };
        } catch (again) {
          if (!(again instanceof EventsOutsideRetentionError) || attempt >= GAP_RESUME_ATTEMPTS) throw again;
          oldest = again.oldestLedger;
        }
      }
    }
  }

  return {
    async indexContractEventsPage(input: ContractIndexerPageInput): Promise<ContractIndexerPageOutcome> {
      try {
        const position = await store.position(input.contract);
        const { page: read, gap } = await readAt(input, position);
        const cursor = read.cursor;
        if (!cursor) {
          throw ApplicationFailure.retryable('Soroban RPC answered getEvents without a cursor', 'StellarUnavailable');
        }
        const full = read.events.length >= input.pageSize;
        // A full page may end inside a ledger: that ledger is read in full only by the next page.
        const nextLedger = full ? ledgerOfEventCursor(cursor) : ledgerOfEventCursor(cursor) + 1;
        const events = read.events.map((event) => decodeContractEvent(input.contract, event));
        const stored = await store.storePage({
          contract: input.contract,
          contractId: input.contractId,
          from: position,
          to: { cursor, nextLedger },
          events,
          ...(gap ? { gap } : {}),
        });
        if (gap) recordContractIndexerGap(input.contract, gap.fromLedger, gap.toLedger);
        const byType = new Map<string, number>();
        for (const event of stored) byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
        for (const [type, count] of byType) recordContractEventsIndexed(input.contract, type, count);
        recordContractIndexerLag(input.contract, read.latestLedger - (nextLedger - 1));
        return {
          read: events.length,
          stored: stored.length,
          caughtUp: !full,
          latestLedger: read.latestLedger,
          nextLedger,
          ...(gap ? { gap: { failureType: CONTRACT_EVENTS_OUTSIDE_RETENTION, ...gap } } : {}),
        };
      } catch (error) {
        if (error instanceof CursorMovedError) throw ApplicationFailure.retryable(error.message, 'CursorMoved');
        throw toActivityFailure(error);
      }
    },
  };
}

export type ContractIndexerActivities = ReturnType<typeof createContractIndexerActivities>;
