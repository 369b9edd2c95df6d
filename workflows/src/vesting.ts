import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PaymentActivities } from '@nova/activities';
import {
  vestedAt,
  vestingKeys,
  vestingReleaseMemo,
  vestingReleases,
  vestingTermsOf,
  type VestingStatus,
} from '@nova/domain';
import { activityProfiles, localActivityProfiles } from './definitions/activity-profiles';
import { searchAttributes } from './definitions/search-attributes';
import {
  revokeVestingUpdate,
  VESTING_ENDED,
  VESTING_NOT_REVOCABLE,
  vestingProgressQuery,
  type VestingCarriedState,
  type VestingContractActivities,
  type VestingLedgerActivities,
  type VestingOutcome,
  type VestingProgress,
  type VestingWorkflowInput,
} from './definitions/vesting';

// Retryable Stellar errors retry without limit (the journal keeps each payment and contract
// call exactly once); what comes back to the workflow is a refusal for good, which the schedule
// waits out with its own timers.
const chain = proxyActivities<VestingContractActivities>(activityProfiles.stellarSubmit);
const stellar = proxyActivities<Pick<PaymentActivities, 'submitPayment'>>(activityProfiles.stellarSubmit);
const readModel = proxyLocalActivities<VestingLedgerActivities>(localActivityProfiles.dbWrite);

const DEFAULT_RETRY_DELAYS_SECONDS = [60, 600, 3600];
const DEFAULT_STALLED_RETRY_SECONDS = 86_400;
const DEFAULT_MAX_HISTORY_EVENTS = 1000;

function failureOf(error: unknown): { type: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  return { type: 'Error', message: error instanceof Error ? error.message : String(error) };
}

const sumOf = (amounts: bigint[]) => amounts.reduce((a, b) => a + b, 0n);

/**
 * Workflow time, in milliseconds: the sandbox's Date is the workflow task's time, the same on
 * replay (the schedule's dates need it; durable waits are still condition and sleep).
 */
// eslint-disable-next-line no-restricted-globals
const now = (): number => Date.now();
// eslint-disable-next-line no-restricted-globals
const isoOf = (ms: number): string => new Date(ms).toISOString();
// eslint-disable-next-line no-restricted-globals
const msOf = (iso: string): number => Date.parse(iso);

/**
 * One vesting schedule, for its whole life (years): registered on the vesting contract, then
 * each release paid at its time through the journal (keyed by the release, so never twice) and
 * recorded on chain with its payment hash. A payment refused for good is tried again after
 * growing delays, then the schedule is stalled until it can be paid, and what was missed is
 * paid together. Revocation is an update, taken at any time: a payment in flight completes
 * first. The history stays bounded: a run continues as new, carrying where the schedule stands.
 */
export async function vestingWorkflow(input: VestingWorkflowInput): Promise<VestingOutcome> {
  const { scheduleId } = input;
  const terms = vestingTermsOf(input);
  const releases = vestingReleases(terms);
  const state: VestingCarriedState = input.carried ?? {
    registered: false,
    paidThrough: 0,
    releasedStroops: '0',
    stalled: false,
    refusals: 0,
  };
  let released = BigInt(state.releasedStroops);
  let status: VestingStatus = state.stalled ? 'stalled' : 'active';
  let revokeAt: number | undefined;
  let outcome: VestingOutcome | undefined;

  const setStatus = (next: VestingStatus) => {
    status = next;
    state.stalled = next === 'stalled';
    upsertSearchAttributes([{ key: searchAttributes.vestingStatus, value: next }]);
  };
  if (!input.carried) setStatus('active');

  const progress = (): VestingProgress => ({
    status,
    totalStroops: input.totalStroops,
    vestedStroops: vestedAt(terms, revokeAt ?? now()).toString(),
    releasedStroops: released.toString(),
    paidThrough: state.paidThrough,
    releaseCount: releases.length,
    nextReleaseAt: revokeAt ? null : (releases[state.paidThrough]?.at.toISOString() ?? null),
    ...(state.stalledBy ? { stalledBy: state.stalledBy } : {}),
    ...(revokeAt ? { revokedAt: isoOf(revokeAt) } : {}),
    ...(outcome ? { returnedStroops: outcome.returnedStroops } : {}),
  });
  setHandler(vestingProgressQuery, progress);
  setHandler(
    revokeVestingUpdate,
    async () => {
      revokeAt = now();
      await condition(() => outcome !== undefined);
      return progress();
    },
    {
      validator: () => {
        if (!input.revocable) {
          throw ApplicationFailure.nonRetryable(
            `vesting schedule ${scheduleId} is not revocable`,
            VESTING_NOT_REVOCABLE,
          );
        }
        if (revokeAt || outcome || state.paidThrough >= releases.length) {
          throw ApplicationFailure.nonRetryable(`vesting schedule ${scheduleId} has ended (${status})`, VESTING_ENDED);
        }
      },
    },
  );

  /** A refused payment: wait the next delay, and past the last one, stall (once) and wait the stalled delay. */
  const refused = async (error: unknown, fromNumber: number): Promise<number> => {
    if (isCancellation(error)) throw error;
    const failure = failureOf(error);
    state.refusals += 1;
    const delays = input.retryDelaysSeconds ?? DEFAULT_RETRY_DELAYS_SECONDS;
    log.warn('vesting payment refused', { scheduleId, fromNumber, refusals: state.refusals, error: failure.message });
    if (state.refusals <= delays.length) return now() + delays[state.refusals - 1]! * 1000;
    if (status !== 'stalled') {
      state.stalledBy = failure.type;
      setStatus('stalled');
      await readModel.markVestingStalled({
        scheduleId,
        fromNumber,
        failureType: failure.type,
        message: failure.message,
      });
    }
    return now() + (input.stalledRetrySeconds ?? DEFAULT_STALLED_RETRY_SECONDS) * 1000;
  };

  /** The payment landed: record it on chain, whatever that takes (it must not be paid again). */
  const recordOnChain = async (releaseNumber: number, amountStroops: string, paymentTxHash: string) => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await chain.recordVestingReleaseOnChain({ scheduleId, releaseNumber, amountStroops, paymentTxHash });
        return;
      } catch (error) {
        if (isCancellation(error)) throw error;
        log.error('vesting release not recorded on chain yet', { scheduleId, releaseNumber, error: failureOf(error) });
        await sleep(Math.min(60_000 * 2 ** attempt, 3_600_000));
      }
    }
  };

  // Registered first, whatever that takes: a refusal (no contract on this worker, say) is waited
  // out like a refused payment, stalled and flagged, never left as a schedule nobody keeps.
  while (!state.registered && !revokeAt) {
    try {
      const registered = await chain.registerVestingOnChain({
        scheduleId,
        beneficiary: input.beneficiary,
        totalStroops: input.totalStroops,
        startAt: input.startAt,
        cliffAt: input.cliffAt,
        endAt: input.endAt,
        revocable: input.revocable,
      });
      await readModel.markVestingRegistered({ scheduleId, txHash: registered.txHash });
      state.registered = true;
      state.refusals = 0;
      delete state.retryAt;
      if (status === 'stalled') {
        delete state.stalledBy;
        setStatus('active');
      }
    } catch (error) {
      const retryAt = await refused(error, 1);
      await condition(() => revokeAt !== undefined, Math.max(0, retryAt - now()));
    }
  }

  const maxHistoryEvents = input.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  while (state.paidThrough < releases.length && !revokeAt) {
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= maxHistoryEvents) {
      // Nothing is in flight here: no payment, and no revocation (the loop ends on one).
      await continueAsNew<typeof vestingWorkflow>({
        ...input,
        carried: { ...state, releasedStroops: released.toString() },
      });
    }

    // The next release's time; after a refusal, the retry or a later release, whichever comes first.
    const at = now();
    const nextDue = releases.slice(state.paidThrough).find((r) => r.at.getTime() > at);
    const wakeAt = Math.min(
      state.retryAt ?? releases[state.paidThrough]!.at.getTime(),
      nextDue?.at.getTime() ?? Infinity,
    );
    if (wakeAt > at && (await condition(() => revokeAt !== undefined, wakeAt - at))) break;

    const due = releases.slice(state.paidThrough).filter((r) => r.at.getTime() <= now());
    const newest = due[due.length - 1];
    if (!newest) continue;
    const amountStroops = sumOf(due.map((r) => r.amountStroops)).toString();
    let txHash: string;
    try {
      // Keyed by the newest release it pays: a payment refused for good left nothing pending,
      // and each (first, newest) pair, so each key, has one amount.
      ({ txHash } = await stellar.submitPayment({
        businessKey: vestingKeys.release(scheduleId, newest.number),
        walletAddress: input.beneficiary,
        amountStroops,
        memo: vestingReleaseMemo(input.memoStem, newest.number),
      }));
    } catch (error) {
      state.retryAt = await refused(error, state.paidThrough + 1);
      continue;
    }
    const fromNumber = state.paidThrough + 1;
    released += BigInt(amountStroops);
    state.paidThrough = newest.number;
    state.refusals = 0;
    delete state.retryAt;
    // The read model first (the payment and the budget are accounted at once), then the chain.
    await readModel.recordVestingRelease({
      scheduleId,
      fromNumber,
      toNumber: newest.number,
      amountStroops,
      releasedStroops: released.toString(),
      txHash,
    });
    if (status === 'stalled') {
      delete state.stalledBy;
      setStatus('active');
    }
    await recordOnChain(newest.number, amountStroops, txHash);
  }

  // A revocation that came while the last release was paid finds nothing left to revoke.
  if (!revokeAt || state.paidThrough >= releases.length) {
    setStatus('completed');
    outcome = { status: 'completed', releasedStroops: released.toString(), returnedStroops: '0' };
    await readModel.completeVesting({ scheduleId, releasedStroops: released.toString() });
    return outcome;
  }

  // Revoked: frozen on chain first, then what vested by then (the contract's own time, its
  // ledger's in whole seconds: paying that leaves nothing releasable on chain) and is not
  // released is paid, and the rest returns to the budget. A schedule never registered has nothing on chain.
  if (state.registered) {
    const frozen = await chain.revokeVestingOnChain({ scheduleId });
    if (frozen.revokedAt) revokeAt = msOf(frozen.revokedAt);
  }
  const vested = vestedAt(terms, revokeAt);
  const owed = vested - released;
  let finalTxHash: string | undefined;
  state.refusals = 0;
  while (owed > 0n && !finalTxHash) {
    try {
      ({ txHash: finalTxHash } = await stellar.submitPayment({
        businessKey: vestingKeys.revocation(scheduleId),
        walletAddress: input.beneficiary,
        amountStroops: owed.toString(),
        memo: vestingReleaseMemo(input.memoStem, 0),
      }));
    } catch (error) {
      await sleep(Math.max(0, (await refused(error, state.paidThrough + 1)) - now()));
    }
  }
  if (finalTxHash) released += owed;
  const returnedStroops = (terms.totalStroops - vested).toString();
  await readModel.revokeVesting({
    scheduleId,
    revokedAt: isoOf(revokeAt),
    releasedStroops: released.toString(),
    returnedStroops,
    ...(finalTxHash ? { finalTxHash } : {}),
  });
  if (finalTxHash && state.registered) await recordOnChain(0, owed.toString(), finalTxHash);
  delete state.stalledBy;
  setStatus('revoked');
  outcome = { status: 'revoked', releasedStroops: released.toString(), returnedStroops };
  // The update's caller gets its answer before the run closes.
  await condition(allHandlersFinished);
  return outcome;
}
