import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import {
  addIntervals,
  MAX_VESTING_RELEASES,
  parseInterval,
  toStroops,
  vestedAt,
  vestingKeys,
  vestingReleaseMemo,
  vestingReleases,
  vestingScheduleResource,
  vestingTermsProblem,
  type VestingReleaseRow,
  type VestingScheduleRow,
  type VestingTerms,
} from '@nova/domain';
import { vestingMemoStem } from '@nova/domain/memos';

const at = (iso: string) => new Date(iso);
const sum = (amounts: bigint[]) => amounts.reduce((a, b) => a + b, 0n);

/** Four years, a one-year cliff, monthly releases; a total that does not divide evenly. */
const fourYears: VestingTerms = {
  totalStroops: toStroops('1000000.0000001'),
  startAt: at('2027-01-31T00:00:00Z'),
  cliffAt: at('2028-01-31T00:00:00Z'),
  endAt: at('2031-01-31T00:00:00Z'),
  interval: 'P1M',
};

describe('ISO-8601 intervals', () => {
  it('parses calendar months and fixed times', () => {
    assert.deepEqual(parseInterval('P1M'), { months: 1, milliseconds: 0 });
    assert.deepEqual(parseInterval('P1Y'), { months: 12, milliseconds: 0 });
    assert.deepEqual(parseInterval('P1W'), { months: 0, milliseconds: 7 * 86_400_000 });
    assert.deepEqual(parseInterval('P1D'), { months: 0, milliseconds: 86_400_000 });
    assert.deepEqual(parseInterval('PT10S'), { months: 0, milliseconds: 10_000 });
    assert.deepEqual(parseInterval('P1MT1H30M'), { months: 1, milliseconds: 5_400_000 });
  });

  it('refuses what is not a positive duration of whole units', () => {
    for (const text of ['', 'P', 'PT', 'P0D', 'PT0S', '1M', 'P1.5M', 'P-1D', 'p1m', 'P1DT', 'PT1M1H', 'P1S']) {
      assert.equal(parseInterval(text), undefined, text);
    }
  });

  it('adds calendar months in UTC, clamped to the end of the month, without drift', () => {
    const month = parseInterval('P1M')!;
    const jan31 = at('2027-01-31T10:00:00Z');
    assert.equal(addIntervals(jan31, month, 1).toISOString(), '2027-02-28T10:00:00.000Z');
    assert.equal(addIntervals(jan31, month, 2).toISOString(), '2027-03-31T10:00:00.000Z');
    assert.equal(addIntervals(jan31, month, 13).toISOString(), '2028-02-29T10:00:00.000Z', 'a leap year');
    assert.equal(addIntervals(jan31, month, 23).toISOString(), '2028-12-31T10:00:00.000Z');
    assert.equal(addIntervals(jan31, parseInterval('P1D')!, 3).toISOString(), '2027-02-03T10:00:00.000Z');
  });
});

describe('the release schedule', () => {
  it('four years, a one-year cliff, monthly: 37 releases, none before the cliff, summing to the total to the stroop', () => {
    const releases = vestingReleases(fourYears);
    assert.equal(releases.length, 37);
    assert.deepEqual(
      releases.map((r) => r.number),
      Array.from({ length: 37 }, (_, i) => i + 1),
    );
    assert.equal(sum(releases.map((r) => r.amountStroops)), fourYears.totalStroops);
    assert.ok(releases.every((r) => r.at >= fourYears.cliffAt && r.amountStroops > 0n));
    assert.equal(releases[0]!.at.toISOString(), '2028-01-31T00:00:00.000Z');
    assert.equal(releases[1]!.at.toISOString(), '2028-02-29T00:00:00.000Z');
    assert.equal(releases[36]!.at.toISOString(), '2031-01-31T00:00:00.000Z');
    // The first release pays the whole first year: 365 of the 1461 days.
    assert.equal(releases[0]!.amountStroops, (fourYears.totalStroops * 365n) / 1461n);
    // Each release pays what vested since the previous one.
    for (const release of releases) {
      const paidSoFar = sum(releases.filter((r) => r.number <= release.number).map((r) => r.amountStroops));
      assert.equal(paidSoFar, vestedAt(fourYears, release.at), `release ${release.number}`);
    }
  });

  it('vests nothing before the cliff, linearly after it, all of it from the end', () => {
    assert.equal(vestedAt(fourYears, at('2028-01-30T23:59:59Z')), 0n);
    assert.equal(vestedAt(fourYears, at('2031-01-31T00:00:00Z')), fourYears.totalStroops);
    assert.equal(vestedAt(fourYears, at('2040-01-01T00:00:00Z')), fourYears.totalStroops);
    const mid = at('2029-01-30T12:00:00Z');
    assert.ok(vestedAt(fourYears, mid) > vestedAt(fourYears, fourYears.cliffAt));
  });

  it('a cliff at the start releases from the first step; a cliff at the end releases everything at once', () => {
    const noCliff = vestingReleases({ ...fourYears, cliffAt: fourYears.startAt });
    assert.equal(noCliff.length, 48);
    assert.equal(noCliff[0]!.at.toISOString(), '2027-02-28T00:00:00.000Z');
    assert.equal(sum(noCliff.map((r) => r.amountStroops)), fourYears.totalStroops);

    const allAtEnd = vestingReleases({ ...fourYears, cliffAt: fourYears.endAt });
    assert.deepEqual(
      allAtEnd.map((r) => [r.at.toISOString(), r.amountStroops]),
      [['2031-01-31T00:00:00.000Z', fourYears.totalStroops]],
    );
  });

  it('an interval that does not divide the schedule ends with a partial step at the end', () => {
    const terms: VestingTerms = {
      totalStroops: 100n,
      startAt: at('2027-01-01T00:00:00Z'),
      cliffAt: at('2027-01-01T00:00:00Z'),
      endAt: at('2027-01-01T00:00:25Z'),
      interval: 'PT10S',
    };
    const releases = vestingReleases(terms);
    assert.deepEqual(
      releases.map((r) => [r.at.toISOString(), r.amountStroops]),
      [
        ['2027-01-01T00:00:10.000Z', 40n],
        ['2027-01-01T00:00:20.000Z', 40n],
        ['2027-01-01T00:00:25.000Z', 20n],
      ],
    );
  });

  it('a step too short to vest a stroop is left out, and the sum stays exact', () => {
    const releases = vestingReleases({
      totalStroops: 3n,
      startAt: at('2027-01-01T00:00:00Z'),
      cliffAt: at('2027-01-01T00:00:00Z'),
      endAt: at('2027-01-01T00:01:40Z'),
      interval: 'PT10S',
    });
    assert.equal(sum(releases.map((r) => r.amountStroops)), 3n);
    assert.ok(releases.every((r) => r.amountStroops > 0n));
    assert.deepEqual(
      releases.map((r) => r.number),
      [1, 2, 3],
    );
  });

  it('names the field of every refused term', () => {
    const problem = (overrides: Partial<VestingTerms>) => vestingTermsProblem({ ...fourYears, ...overrides })?.field;
    assert.equal(problem({}), undefined);
    assert.equal(problem({ totalStroops: 0n }), 'totalAmount');
    assert.equal(problem({ startAt: new Date(Number.NaN) }), 'startAt');
    assert.equal(problem({ cliffAt: at('2027-01-30T00:00:00Z') }), 'cliffAt', 'cliff before start');
    assert.equal(problem({ endAt: at('2027-12-31T00:00:00Z') }), 'endAt', 'end before cliff');
    assert.equal(problem({ endAt: fourYears.startAt, cliffAt: fourYears.startAt }), 'endAt', 'no duration');
    assert.equal(problem({ interval: 'P5Y' }), 'interval', 'longer than the schedule');
    assert.equal(problem({ interval: 'monthly' }), 'interval');
    assert.equal(problem({ interval: 'PT1S' }), 'interval', `more than ${MAX_VESTING_RELEASES} releases`);
    assert.equal(problem({ cliffAt: at('2028-01-31T00:00:00.500Z') }), 'cliffAt', 'not a whole second');
    assert.throws(() => vestingReleases({ ...fourYears, interval: 'P5Y' }), /interval/);
  });
});

describe('vesting keys and memos', () => {
  it('one journal key per payment, memos within 28 bytes naming the release', () => {
    const id = '3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60';
    assert.equal(vestingKeys.release(id, 37), `vesting/${id}/release/37`);
    assert.notEqual(vestingKeys.release(id, 1), vestingKeys.revocation(id));
    const memo = vestingReleaseMemo(vestingMemoStem(id), MAX_VESTING_RELEASES);
    assert.ok(Buffer.byteLength(memo) <= 28, memo);
    assert.notEqual(vestingReleaseMemo(vestingMemoStem(id), 1), vestingReleaseMemo(vestingMemoStem(id), 2));
    assert.throws(() => vestingReleaseMemo(vestingMemoStem(id), 36 ** 3));
  });
});

describe('a vesting schedule as the API shows it', () => {
  const ui = { uiUrl: 'http://localhost:8233', namespace: 'default' };
  const releases: VestingReleaseRow[] = vestingReleases(fourYears).map((release) => ({
    number: release.number,
    at: release.at,
    amountStroops: release.amountStroops,
    status: 'scheduled',
    txHash: null,
  }));
  const row = (changes: Partial<VestingScheduleRow> = {}): VestingScheduleRow => ({
    id: '0b9f7e1c-3a52-4c1e-9d0a-6f1e2b3c4d5e',
    campaignId: '6d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    beneficiary: 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H',
    ...fourYears,
    revocable: true,
    status: 'active',
    releasedStroops: 0n,
    paidThrough: 0,
    registeredTxHash: null,
    stalledFailureType: null,
    stalledMessage: null,
    stalledAt: null,
    revokedAt: null,
    revocationTxHash: null,
    revocationStroops: null,
    returnedStroops: null,
    workflowId: 'vesting/0b9f7e1c-3a52-4c1e-9d0a-6f1e2b3c4d5e',
    createdAt: at('2027-01-01T00:00:00Z'),
    updatedAt: at('2027-01-01T00:00:00Z'),
    ...changes,
  });
  const midway = at('2029-07-31T00:00:00Z');

  it('a revocation the workflow took and has not finished shows as requested, vested frozen there', () => {
    const requestedAt = '2029-01-31T00:00:00.000Z';
    const view = vestingScheduleResource(row(), releases, ui, midway, {
      releasedStroops: 0n,
      nextReleaseAt: null,
      revokedAt: requestedAt,
    });
    assert.equal(view.status, 'active', 'not revoked until it is done');
    assert.equal(view.revocationRequestedAt, requestedAt);
    assert.equal(view.revocation, null);
    assert.equal(view.vestedAmount, vestingScheduleResource(row(), releases, ui, at(requestedAt)).vestedAmount);
    assert.equal(view.nextReleaseAt, null);
  });

  it('none requested while it runs, nor once it is revoked (revocation says what it paid)', () => {
    const running = vestingScheduleResource(row(), releases, ui, midway, {
      releasedStroops: 0n,
      nextReleaseAt: releases[0]!.at.toISOString(),
    });
    assert.equal(running.revocationRequestedAt, null);
    assert.equal(vestingScheduleResource(row(), releases, ui, midway).revocationRequestedAt, null);
    const revoked = vestingScheduleResource(
      row({ status: 'revoked', revokedAt: at('2029-01-31T00:00:00Z'), revocationStroops: 10n, returnedStroops: 5n }),
      releases,
      ui,
      midway,
      { releasedStroops: 0n, nextReleaseAt: null, revokedAt: '2029-01-31T00:00:00.000Z' },
    );
    assert.equal(revoked.revocationRequestedAt, null);
    assert.equal(revoked.revocation?.revokedAt, '2029-01-31T00:00:00.000Z');
  });
});
