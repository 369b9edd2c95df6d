import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { VestingStatus } from '@nova/domain';

export const vestingWorkflowType = 'vestingWorkflow';

/** What a run carries to the next across continue-as-new: where the schedule stands. */
export interface VestingCarriedState {
  registered: boolean;
  /** Releases 1..paidThrough are paid (and recorded on chain). */
  paidThrough: number;
  /** Stroops, as a decimal string. */
  releasedStroops: string;
  stalled: boolean;
  /** Refusals of the payment now due, in a row; when it is tried again (epoch ms); what refused it (while stalled). */
  refusals: number;
  retryAt?: number;
  stalledBy?: string;
}

export interface VestingWorkflowInput {
  scheduleId: string;
  merchantId: string;
  campaignId: string;
  beneficiary: string;
  /** Stroops, as a decimal string (workflow payloads are JSON: no bigint). */
  totalStroops: string;
  /** ISO-8601 instants, whole seconds. */
  startAt: string;
  cliffAt: string;
  endAt: string;
  /** An ISO-8601 duration: P1M, P1W, P1D, PT10S. */
  interval: string;
  revocable: boolean;
  /** `vestingMemoStem(scheduleId)`, computed outside the workflow (it needs Buffer). */
  memoStem: string;
  requestId?: string;
  /** A run continues as new past this many history events (default 1000). */
  maxHistoryEvents?: number;
  /**
   * Waits after a release's payment is refused for good before it is tried again (default 1
   * minute, 10 minutes, 1 hour); after the last the schedule is stalled and tries again every
   * `stalledRetrySeconds` (default a day) and at every release time, paying all that is due.
   */
  retryDelaysSeconds?: number[];
  stalledRetrySeconds?: number;
  /** Set by continue-as-new only. */
  carried?: VestingCarriedState;
}

export interface VestingProgress {
  status: VestingStatus;
  totalStroops: string;
  /** What has vested now (frozen at the revocation once revoked). */
  vestedStroops: string;
  releasedStroops: string;
  paidThrough: number;
  releaseCount: number;
  nextReleaseAt: string | null;
  /** Why the schedule is stalled: the refused payment's failure type. */
  stalledBy?: string;
  revokedAt?: string;
  /** Stroops returned to the campaign budget by the revocation. */
  returnedStroops?: string;
}

export interface VestingOutcome {
  status: 'completed' | 'revoked';
  releasedStroops: string;
  returnedStroops: string;
}

/** Where the schedule stands (for the API while the workflow runs, and for operators). */
export const vestingProgressQuery = defineQuery<VestingProgress>('vestingProgress');

/**
 * Revokes the schedule: what vested by now and is not yet released is paid, the rest goes back
 * to the campaign budget. Refused (the validator throws) when the schedule is not revocable or
 * has ended; answered once the revocation is done.
 */
export const revokeVestingUpdate = defineUpdate<VestingProgress, []>('revokeVesting');

/** The failure types of a refused revocation. */
export const VESTING_NOT_REVOCABLE = 'VestingNotRevocable';
export const VESTING_ENDED = 'VestingEnded';

/**
 * What the vesting workflow needs of its activities, by name: the read model (local
 * activities) and the vesting contract; payments are the platform's `submitPayment`.
 */
export interface VestingLedgerActivities {
  /** `txHash` is absent when the schedule was found registered by an earlier call this journal has no record of. */
  markVestingRegistered(input: { scheduleId: string; txHash?: string }): Promise<void>;
  /** Releases `fromNumber..toNumber` paid together in `txHash` (emits vesting.released). */
  recordVestingRelease(input: {
    scheduleId: string;
    fromNumber: number;
    toNumber: number;
    amountStroops: string;
    releasedStroops: string;
    txHash: string;
  }): Promise<void>;
  /** The release cannot be paid yet (emits vesting.stalled). */
  markVestingStalled(input: {
    scheduleId: string;
    fromNumber: number;
    failureType: string;
    message: string;
  }): Promise<void>;
  /** Every release paid (emits vesting.completed). */
  completeVesting(input: { scheduleId: string; releasedStroops: string }): Promise<void>;
  /** Revoked: the final payment (if any) made, the unvested rest back to the budget (emits vesting.revoked). */
  revokeVesting(input: {
    scheduleId: string;
    revokedAt: string;
    releasedStroops: string;
    returnedStroops: string;
    finalTxHash?: string;
  }): Promise<void>;
}

/** A contract call's transaction; absent when the contract showed the call's work already done (by a call the journal has no record of). */
export interface VestingCallLanded {
  txHash?: string;
  ledger?: number;
}

export interface VestingContractActivities {
  /** `create_schedule` through the journal, exactly once (a one-second interval: see vestedAt). */
  registerVestingOnChain(input: {
    scheduleId: string;
    beneficiary: string;
    totalStroops: string;
    startAt: string;
    cliffAt: string;
    endAt: string;
    revocable: boolean;
  }): Promise<VestingCallLanded>;
  /** `record_release(id, amount, payment_hash)` through the journal, once per payment (keyed by its newest release). */
  recordVestingReleaseOnChain(input: {
    scheduleId: string;
    releaseNumber: number;
    amountStroops: string;
    paymentTxHash: string;
  }): Promise<VestingCallLanded>;
  /**
   * `revoke(id)` through the journal, exactly once; `revokedAt`: the time the contract froze
   * vesting at (its ledger's), when it could be read back.
   */
  revokeVestingOnChain(input: { scheduleId: string }): Promise<VestingCallLanded & { revokedAt?: string }>;
}
