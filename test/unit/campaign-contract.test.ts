import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { scValToNative, StrKey } from '@stellar/stellar-sdk';
import { ApplicationFailure } from '@temporalio/common';
import { campaignChangeKey } from '@nova/domain';
import {
  CAMPAIGN_CONTRACT_ERRORS,
  campaignContractArgs,
  ContractError,
  contractRefusal,
  merchantChainAddress,
  unixSeconds,
  type CampaignChange,
} from '@nova/activities';

const campaignId = '5b0c5f0e-4a53-4f43-9d0f-3f0f4d0a9c11';
const merchantId = '0d3a6c5e-9a77-4b0e-8c65-2a6ad1a1f0e2';
const change = (fields: Partial<CampaignChange>): CampaignChange => ({
  campaignId,
  merchantId,
  seq: 1,
  kind: 'register',
  ...fields,
});

// How campaign changes are encoded for the campaign contract (contracts/README.md).
describe('campaign contract encoding', () => {
  it("a merchant's on-chain address is derived from its id: deterministic, a valid G..., distinct per merchant", () => {
    const address = merchantChainAddress(merchantId);
    assert.ok(StrKey.isValidEd25519PublicKey(address));
    assert.equal(merchantChainAddress(merchantId), address);
    assert.notEqual(merchantChainAddress('0d3a6c5e-9a77-4b0e-8c65-2a6ad1a1f0e3'), address);
    // sha256('nova-merchant:' + id) as the ed25519 key bytes, recomputable by anyone.
    assert.deepEqual(
      StrKey.decodeEd25519PublicKey(address),
      createHash('sha256').update(`nova-merchant:${merchantId}`).digest(),
    );
  });

  it('times are unix seconds, rounded down; a change has one business key per sequence number', () => {
    assert.equal(unixSeconds('2026-03-01T00:00:00.999Z'), 1_772_323_200n);
    assert.equal(unixSeconds('2026-03-01T01:00:00+01:00'), 1_772_323_200n);
    assert.throws(() => unixSeconds('soon'), RangeError);
    assert.throws(() => unixSeconds('1969-12-31T23:59:59Z'), /outside what the contract's u64/);
    assert.equal(unixSeconds('1970-01-01T00:00:00Z'), 0n);
    assert.equal(campaignChangeKey(campaignId, 7), `campaign/${campaignId}/change/7`);
  });

  it('register(id, merchant, budget i128, starts_at u64, ends_at u64); update(id, budget, ends_at); pause/resume(id)', () => {
    const register = campaignContractArgs(
      change({
        budgetStroops: '170141183460469231731687303715884105727', // i128::MAX: no JS number on the way
        startsAt: '2026-03-01T00:00:00.500Z',
        endsAt: '2026-06-01T00:00:00Z',
      }),
    );
    assert.deepEqual(
      register.map((value) => value.switch().name),
      ['scvString', 'scvAddress', 'scvI128', 'scvU64', 'scvU64'],
    );
    assert.deepEqual(
      register.map((value) => scValToNative(value) as unknown),
      [
        campaignId,
        merchantChainAddress(merchantId),
        170141183460469231731687303715884105727n,
        1_772_323_200n,
        1_780_272_000n,
      ],
    );
    const update = campaignContractArgs(change({ kind: 'update', budgetStroops: '5', endsAt: '2026-06-01T00:00:00Z' }));
    assert.deepEqual(
      update.map((value) => [value.switch().name, scValToNative(value) as unknown]),
      [
        ['scvString', campaignId],
        ['scvI128', 5n],
        ['scvU64', 1_780_272_000n],
      ],
    );
    for (const kind of ['pause', 'resume'] as const) {
      assert.deepEqual(
        campaignContractArgs(change({ kind })).map((value) => scValToNative(value) as unknown),
        [campaignId],
      );
    }
    assert.throws(
      () => campaignContractArgs(change({ kind: 'update', endsAt: '2026-06-01T00:00:00Z' })),
      (error: unknown) => error instanceof ApplicationFailure && error.type === 'InvalidChange' && error.nonRetryable,
    );
  });

  it("a contract refusal is final and typed with the contract's error name, the code in details", () => {
    const refusal = contractRefusal(
      new ContractError('contract error #3', 'CABC', 3),
      'register',
      CAMPAIGN_CONTRACT_ERRORS,
    );
    assert.equal(refusal.type, 'CampaignExists');
    assert.equal(refusal.nonRetryable, true);
    assert.deepEqual(refusal.details, [
      { kind: 'ContractError', contractId: 'CABC', code: 3, error: 'CampaignExists' },
    ]);
    const unknown = contractRefusal(
      new ContractError('contract error #42', 'CABC', 42),
      'pause',
      CAMPAIGN_CONTRACT_ERRORS,
    );
    assert.equal(unknown.type, 'ContractError', 'a code the table does not know keeps the generic type');
    assert.deepEqual(
      Object.entries(CAMPAIGN_CONTRACT_ERRORS).map(([code, name]) => `${code}:${name}`),
      [
        '1:AlreadyInitialized',
        '2:NotInitialized',
        '3:CampaignExists',
        '4:CampaignNotFound',
        '5:InvalidBudget',
        '6:InvalidSchedule',
        '7:InvalidId',
        '8:AlreadyPaused',
        '9:NotPaused',
      ],
      'the numbering of contracts/README.md',
    );
  });
});
