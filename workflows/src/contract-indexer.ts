import {
  continueAsNew,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ContractIndexerActivities } from '@nova/activities';
import { activityProfiles } from './definitions/activity-profiles';
import {
  contractIndexerProgressQuery,
  type ContractIndexerInput,
  type ContractIndexerProgress,
} from './definitions/contract-indexer';
import { searchAttributes } from './definitions/search-attributes';

const indexer = proxyActivities<ContractIndexerActivities>(activityProfiles.contractIndex);

/**
 * Indexes one contract's events for good: one workflow per contract
 * (`contract-indexer/<task queue>/<contract>`), started by the worker at boot. Each page is one activity
 * that reads after the persisted cursor and stores the events and the new cursor in one
 * database transaction, so the workflow itself carries no position: a restarted, retried or
 * replayed run resumes from the database and stores nothing twice. Caught up, it sleeps about a
 * ledger (a durable timer); a gap (the cursor fell out of the RPC's retention window) is marked
 * on the run (ContractIndexerFailure) and the indexer goes on after it. It continues as new
 * to keep its history small.
 */
export async function contractIndexerWorkflow(input: ContractIndexerInput): Promise<never> {
  const totals = { stored: 0, gaps: 0, runs: 0, ...input.totals };
  const progress: ContractIndexerProgress = { contract: input.contract, totals, caughtUp: false };
  setHandler(contractIndexerProgressQuery, () => progress);
  const maxHistoryEvents = input.maxHistoryEvents ?? 1000;

  for (;;) {
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= maxHistoryEvents) break;
    const outcome = await indexer.indexContractEventsPage({
      contract: input.contract,
      contractId: input.contractId,
      pageSize: input.pageSize,
    });
    if (outcome.gap) {
      totals.gaps += 1;
      progress.lastGap = { fromLedger: outcome.gap.fromLedger, toLedger: outcome.gap.toLedger };
      upsertSearchAttributes([{ key: searchAttributes.contractIndexerFailure, value: [outcome.gap.failureType] }]);
    }
    totals.stored += outcome.stored;
    progress.nextLedger = outcome.nextLedger;
    progress.latestLedger = outcome.latestLedger;
    progress.caughtUp = outcome.caughtUp;
    if (outcome.caughtUp) await sleep(`${input.pollSeconds} seconds`);
  }
  return await continueAsNew<typeof contractIndexerWorkflow>({
    ...input,
    totals: { ...totals, runs: totals.runs + 1 },
  });
}
