import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import {
  admissionRefusal,
  ISSUANCE_FAILURE_TYPES,
  isIssuanceFailureType,
  PAYMENT_REFUSALS,
  TRUSTLINE_FAILURES,
  toStroops,
  type CampaignBudgetState,
} from '@nova/domain';
import { batchMemo, issuanceMemo } from '@nova/domain/memos';
import { TransactionRejectedError } from '@nova/activities';

const now = new Date('2026-12-01T12:00:00Z');
const campaign: CampaignBudgetState = {
  id: 'c1',
  status: 'active',
  startsAt: new Date('2026-12-01T00:00:00Z'),
  endsAt: new Date('2026-12-02T00:00:00Z'),
  budgetStroops: toStroops('100'),
  reservedStroops: toStroops('30'),
  paidStroops: toStroops('20'),
  maxPerWalletStroops: toStroops('10'),
};
const wallet = 'GWALLET';

describe('the campaign admission rule (the API at the door and the reservation use this one)', () => {
  it('admits what fits: remaining budget and the wallet limit, both inclusive', () => {
    assert.equal(admissionRefusal(campaign, toStroops('10'), 0n, wallet, now), undefined);
    assert.equal(
      admissionRefusal({ ...campaign, maxPerWalletStroops: null }, toStroops('50'), 0n, wallet, now),
      undefined,
    );
  });

  it('refuses each case with its own reason', () => {
    const reason = (state: Partial<CampaignBudgetState>, amount: string, held = 0n, at = now) =>
      admissionRefusal({ ...campaign, ...state }, toStroops(amount), held, wallet, at)?.reason;
    assert.equal(reason({ status: 'paused' }, '1'), 'CampaignPaused');
    assert.equal(reason({}, '1', 0n, new Date('2026-11-30T23:59:59Z')), 'CampaignNotStarted');
    assert.equal(reason({}, '1', 0n, campaign.endsAt), 'CampaignEnded', 'the end is exclusive');
    assert.equal(reason({ maxPerWalletStroops: null }, '50.0000001'), 'CampaignBudgetExhausted');
    assert.equal(reason({}, '1', toStroops('9.5')), 'WalletLimitExceeded');
    // Paused outranks dates and budget: the merchant's own decision is the reason they see.
    assert.equal(reason({ status: 'paused', budgetStroops: 0n }, '1', 0n, campaign.endsAt), 'CampaignPaused');
  });

  it('every refusal is a failure type an issuance may end with', () => {
    for (const state of [{ status: 'paused' }, { budgetStroops: 0n }]) {
      const refusal = admissionRefusal({ ...campaign, ...state }, 1n, 0n, wallet, now);
      assert.ok(refusal && isIssuanceFailureType(refusal.reason), JSON.stringify(refusal));
    }
  });
});

describe('failure types: one vocabulary', () => {
  it('holds every trustline and payment refusal the activities raise', () => {
    for (const type of [...Object.values(TRUSTLINE_FAILURES), ...Object.values(PAYMENT_REFUSALS)]) {
      assert.ok(isIssuanceFailureType(type), type);
    }
    assert.equal(isIssuanceFailureType('CampaignInactive'), false, 'the old word is gone');
    assert.equal(new Set(ISSUANCE_FAILURE_TYPES).size, ISSUANCE_FAILURE_TYPES.length);
  });

  it("the error translation's types are the vocabulary's", () => {
    for (const code of Object.keys(PAYMENT_REFUSALS)) {
      const operations = code.startsWith('op_') ? [code] : [];
      const transaction = code.startsWith('op_') ? 'tx_failed' : code;
      const error = new TransactionRejectedError('refused', { transaction, operations });
      assert.equal(error.type, PAYMENT_REFUSALS[code as keyof typeof PAYMENT_REFUSALS], code);
    }
    const other = new TransactionRejectedError('refused', { transaction: 'tx_failed', operations: ['op_malformed'] });
    assert.equal(other.type, 'TransactionFailed');
    assert.ok(isIssuanceFailureType(other.type));
  });
});

describe('memos', () => {
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it('an issuance memo is "nv:" and its UUID in base64url, within Stellar\'s 28 bytes, and decodes back', () => {
    const memo = issuanceMemo(id);
    assert.match(memo, /^nv:[A-Za-z0-9_-]{22}$/);
    assert.ok(Buffer.byteLength(memo) <= 28);
    assert.equal(Buffer.from(memo.slice(3), 'base64url').toString('hex'), id.replace(/-/g, ''));
  });

  it('a batch memo is "nvb:" and the envelope UUID, within 28 bytes', () => {
    const memo = batchMemo(id);
    assert.match(memo, /^nvb:[A-Za-z0-9_-]{22}$/);
    assert.ok(Buffer.byteLength(memo) <= 28);
    assert.equal(Buffer.from(memo.slice(4), 'base64url').toString('hex'), id.replace(/-/g, ''));
  });

  it('refuses what is not a UUID', () => {
    assert.throws(() => issuanceMemo('not-a-uuid'), /not a UUID/);
    assert.throws(() => batchMemo('0f8fad5b'), /not a UUID/);
  });
});
