import { defineQuery } from '@temporalio/workflow';
import type { IndexedContract } from '@nova/domain';

export const contractIndexerWorkflowType = 'contractIndexerWorkflow';

export interface ContractIndexerInput {
  contract: IndexedContract;
  contractId: string;
  /** Events per getEvents page (CONTRACT_INDEXER_PAGE_SIZE). */
  pageSize: number;
  /** How long the indexer waits once it has caught up (CONTRACT_INDEXER_POLL_SECONDS): about a ledger. */
  pollSeconds: number;
  /** A run continues as new once its history has this many events (default 1000, or when the server suggests it). */
  maxHistoryEvents?: number;
  /** Carried across continue-as-new: what the indexer's earlier runs did. */
  totals?: ContractIndexerTotals;
}

export interface ContractIndexerTotals {
  /** Events stored. */
  stored: number;
  /** Gaps recorded (the cursor had fallen out of the RPC's retention window). */
  gaps: number;
  /** Runs before this one (continue-as-new). */
  runs: number;
}

export interface ContractIndexerProgress {
  contract: IndexedContract;
  totals: ContractIndexerTotals;
  /** The first ledger not yet read in full, and the RPC's latest ledger, as of the last page. */
  nextLedger?: number;
  latestLedger?: number;
  caughtUp: boolean;
  /** The last gap recorded, if any. */
  lastGap?: { fromLedger: number; toLedger: number };
}

/** Where the indexer is (for operators; the contract_event_cursors row is the truth). */
export const contractIndexerProgressQuery = defineQuery<ContractIndexerProgress>('contractIndexerProgress');
