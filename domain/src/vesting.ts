/**
 * The words of a vesting schedule (a merchant grants a wallet NOVA that vests over time), and
 * its release schedule as a pure function: the workflow, the API and the tests compute the same
 * releases from the same terms. Workflow-safe: no clocks, only the dates it is given.
 */

/** active (before and between releases) | stalled (a release cannot be paid yet) -> completed | revoked. */
export const VESTING_STATUSES = ['active', 'stalled', 'completed', 'revoked'] as const;
export type VestingStatus = (typeof VESTING_STATUSES)[number];

/** A release: scheduled until its time, then paid (with its transaction) or, while it cannot be paid, missed. */
export const VESTING_RELEASE_STATUSES = ['scheduled', 'missed', 'paid', 'cancelled'] as const;
export type VestingReleaseStatus = (typeof VESTING_RELEASE_STATUSES)[number];

/**
 * The most steps (intervals from start to end, so the most releases) a schedule may have:
 * bounds its size in the read model and the work of computing it (ten years of daily
 * releases fit), and keeps the release number in a memo.
 */
export const MAX_VESTING_RELEASES = 4000;

/** An ISO-8601 duration as the calendar adds it: whole months (years are 12), then a fixed time (days are 24 h in UTC). */
export interface VestingInterval {
  months: number;
  milliseconds: number;
}

const DURATION_PATTERN = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** "P1M" -> { months: 1, milliseconds: 0 }; undefined for anything that is not a positive ISO-8601 duration of whole units. */
export function parseInterval(text: string): VestingInterval | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [years, months, weeks, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
  const interval = {
    months: years! * 12 + months!,
    milliseconds: (((weeks! * 7 + days!) * 24 + hours!) * 60 * 60 + minutes! * 60 + seconds!) * 1000,
  };
  if (!Number.isSafeInteger(interval.months) || !Number.isSafeInteger(interval.milliseconds)) return undefined;
  return interval.months > 0 || interval.milliseconds > 0 ? interval : undefined;
}

/**
 * `start` plus `steps` intervals, on the UTC calendar: months first (a day past the end of the
 * month is clamped to its last day: Jan 31 + P1M is Feb 28), then the fixed time. Counted from
 * the start each time, so a long schedule never drifts (Jan 31 + P2M is Mar 31).
 */
export function addIntervals(start: Date, interval: VestingInterval, steps: number): Date {
  const months = start.getUTCMonth() + interval.months * steps;
  const year = start.getUTCFullYear() + Math.floor(months / 12);
  const month = ((months % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const shifted = Date.UTC(
    year,
    month,
    Math.min(start.getUTCDate(), lastDay),
    start.getUTCHours(),
    start.getUTCMinutes(),
    start.getUTCSeconds(),
    start.getUTCMilliseconds(),
  );
  return new Date(shifted + interval.milliseconds * steps);
}

/** A schedule's terms, as the merchant gave them. */
export interface VestingTerms {
  totalStroops: bigint;
  startAt: Date;
  cliffAt: Date;
  endAt: Date;
  interval: string;
}

export interface VestingRelease {
  /** 1-based, in time order: the release's number in its journal key and memo. */
  number: number;
  at: Date;
  amountStroops: bigint;
}

/** Terms as they travel in JSON payloads: stroops as a decimal string, instants in ISO-8601. */
export interface VestingTermsPayload {
  totalStroops: string;
  startAt: string;
  cliffAt: string;
  endAt: string;
  interval: string;
}

export function vestingTermsOf(payload: VestingTermsPayload): VestingTerms {
  return {
    totalStroops: BigInt(payload.totalStroops),
    startAt: new Date(payload.startAt),
    cliffAt: new Date(payload.cliffAt),
    endAt: new Date(payload.endAt),
    interval: payload.interval,
  };
}

/** Why terms are refused: the field, and what is wrong with it. */
export interface VestingTermsProblem {
  field: 'totalAmount' | 'startAt' | 'cliffAt' | 'endAt' | 'interval';
  message: string;
}

/** The first problem with the terms, or undefined when a schedule can be built from them. */
export function vestingTermsProblem(terms: VestingTerms): VestingTermsProblem | undefined {
  if (terms.totalStroops <= 0n) return { field: 'totalAmount', message: 'must be positive' };
  for (const field of ['startAt', 'cliffAt', 'endAt'] as const) {
    if (Number.isNaN(terms[field].getTime())) return { field, message: 'must be a date' };
    // The contract keeps seconds; a fraction would make its record differ from the releases.
    if (terms[field].getTime() % 1000 !== 0) return { field, message: 'must be a whole second' };
  }
  if (terms.cliffAt < terms.startAt) return { field: 'cliffAt', message: 'must not be before startAt' };
  if (terms.endAt < terms.cliffAt) return { field: 'endAt', message: 'must not be before cliffAt' };
  if (terms.endAt <= terms.startAt) return { field: 'endAt', message: 'must be after startAt' };
  const interval = parseInterval(terms.interval);
  if (!interval)
    return { field: 'interval', message: 'must be a positive ISO-8601 duration such as P1M, P1W, P1D or PT10S' };
  if (addIntervals(terms.startAt, interval, 1) > terms.endAt) {
    return { field: 'interval', message: 'must not be longer than the schedule (startAt to endAt)' };
  }
  if (!releaseTimes(terms, interval)) {
    return { field: 'interval', message: `too short: a schedule has at most ${MAX_VESTING_RELEASES} steps` };
  }
  return undefined;
}

/**
 * What has vested at `at`: nothing before the cliff, then linear in whole seconds from start
 * to end (rounded down to the stroop), all of it from the end on. The vesting contract's
 * `vested` with a one-second interval is the same figure, so every release recorded on chain
 * stays within what the contract sees vested.
 */
export function vestedAt(terms: VestingTerms, at: Date | number): bigint {
  const time = typeof at === 'number' ? at : at.getTime();
  if (time < terms.cliffAt.getTime()) return 0n;
  if (time >= terms.endAt.getTime()) return terms.totalStroops;
  const elapsed = BigInt(Math.max(0, Math.floor((time - terms.startAt.getTime()) / 1000)));
  const duration = BigInt((terms.endAt.getTime() - terms.startAt.getTime()) / 1000);
  return (terms.totalStroops * elapsed) / duration;
}

/**
 * The release times: the cliff (unless it is the start), every step after it, the end (the
 * last step is partial when the interval does not divide the schedule); undefined past
 * MAX_VESTING_RELEASES steps (PT1S over years), before counting them all.
 */
function releaseTimes(terms: VestingTerms, interval: VestingInterval): Date[] | undefined {
  const times: Date[] = [];
  if (terms.cliffAt > terms.startAt) times.push(terms.cliffAt);
  for (let step = 1; ; step += 1) {
    const at = addIntervals(terms.startAt, interval, step);
    if (at >= terms.endAt) break;
    if (step >= MAX_VESTING_RELEASES) return undefined;
    if (at > terms.cliffAt) times.push(at);
  }
  if (terms.endAt > terms.cliffAt || times.length === 0) times.push(terms.endAt);
  return times;
}

/**
 * The releases of a schedule: each pays what vested since the previous one (the first, at the
 * cliff, all that vested by then; a step that vests nothing is left out), so every rounding remainder lands in the last release and
 * the releases sum to the total to the stroop. Throws on terms `vestingTermsProblem` refuses.
 */
export function vestingReleases(terms: VestingTerms): VestingRelease[] {
  const problem = vestingTermsProblem(terms);
  if (problem) throw new RangeError(`vesting terms: ${problem.field} ${problem.message}`);
  const releases: VestingRelease[] = [];
  let vestedBefore = 0n;
  for (const at of releaseTimes(terms, parseInterval(terms.interval)!)!) {
    const vested = vestedAt(terms, at);
    // A step too short to vest a stroop pays nothing: its share moves to the next release.
    if (vested === vestedBefore) continue;
    releases.push({ number: releases.length + 1, at, amountStroops: vested - vestedBefore });
    vestedBefore = vested;
  }
  return releases;
}

/**
 * A vesting payment's memo: the schedule's stem (`vestingMemoStem` in @nova/domain/memos) and
 * the number of the newest release it pays, in base 36 on 3 characters (28 characters in all);
 * 0 is the revocation's final payment.
 */
export function vestingReleaseMemo(memoStem: string, releaseNumber: number): string {
  if (!Number.isInteger(releaseNumber) || releaseNumber < 0 || releaseNumber >= 36 ** 3) {
    throw new RangeError(`release number out of range: ${releaseNumber}`);
  }
  return `${memoStem}${releaseNumber.toString(36).padStart(3, '0')}`;
}

/** What the hand-off to Temporal needs of a schedule (a row of `vesting_schedules` fits). */
export interface VestingStartRecord {
  id: string;
  merchantId: string;
  campaignId: string;
  beneficiary: string;
  totalStroops: bigint;
  startAt: Date;
  cliffAt: Date;
  endAt: Date;
  interval: string;
  revocable: boolean;
  requestId: string | null;
}
