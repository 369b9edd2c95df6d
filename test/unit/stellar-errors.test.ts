import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { fromStroops, isValidAmount, toStroops } from '@nova/domain';
import {
  GatewayInternalError,
  StellarRequestError,
  StellarUnavailableError,
  SubmissionIndeterminateError,
  TransactionRejectedError,
  translateStellarError,
} from '@nova/activities';

const http = (status: number, data: unknown = {}, headers: Record<string, string> = {}) => ({
  message: `Request failed with status code ${status}`,
  response: { status, data, headers },
});
const rejected = (transaction: string, operations: string[] = []) =>
  http(400, { extras: { result_codes: { transaction, operations } } });

// The retryable-vs-final table of DESIGN.md, decided at the gateway boundary.
describe('Stellar error translation', () => {
  for (const [code, type] of [
    ['op_no_trust', 'TrustlineMissing'],
    ['op_underfunded', 'DistributionUnderfunded'],
    ['op_no_destination', 'AccountNotFound'],
    ['op_line_full', 'TrustlineLimitExceeded'],
    ['op_not_authorized', 'TrustlineNotAuthorized'],
  ] as const) {
    it(`${code} is final (${type})`, () => {
      const error = translateStellarError(rejected('tx_failed', [code]));
      assert.ok(error instanceof TransactionRejectedError);
      assert.equal(error.retryable, false);
      assert.equal(error.type, type);
    });
  }

  it('tx_bad_auth is final', () => {
    const error = translateStellarError(rejected('tx_bad_auth'));
    assert.equal(error.retryable, false);
    assert.equal(error.type, 'TransactionBadAuth');
  });

  for (const code of ['tx_insufficient_fee', 'tx_bad_seq', 'tx_too_late']) {
    it(`${code} is retryable`, () => {
      const error = translateStellarError(rejected(code));
      assert.ok(error instanceof TransactionRejectedError);
      assert.equal(error.retryable, true);
    });
  }

  describe('a fee bump: the inner transaction decides', () => {
    const bumped = (inner: string, operations?: string[]) =>
      http(400, {
        extras: {
          result_codes: {
            transaction: 'tx_fee_bump_inner_failed',
            inner_transaction: inner,
            ...(operations ? { operations } : {}),
          },
        },
      });

    it('an inner tx_no_source_account is ChannelAccountMissing', () => {
      const error = translateStellarError(bumped('tx_no_source_account'));
      assert.ok(error instanceof TransactionRejectedError);
      assert.deepEqual(error.resultCodes, { transaction: 'tx_no_source_account', operations: [] });
      assert.equal(error.type, 'ChannelAccountMissing');
      assert.equal(error.retryable, false);
    });

    it('an inner tx_bad_seq is retryable', () => {
      const error = translateStellarError(bumped('tx_bad_seq'));
      assert.ok(error instanceof TransactionRejectedError);
      assert.equal(error.retryable, true);
    });

    it("an inner failed operation is that operation's refusal", () => {
      const error = translateStellarError(bumped('tx_failed', ['op_no_trust']));
      assert.ok(error instanceof TransactionRejectedError);
      assert.deepEqual(error.resultCodes, { transaction: 'tx_failed', operations: ['op_no_trust'] });
      assert.equal(error.type, 'TrustlineMissing');
    });
  });

  it('429 is retryable and keeps Retry-After', () => {
    const error = translateStellarError(http(429, {}, { 'retry-after': '7' }));
    assert.ok(error instanceof StellarUnavailableError);
    assert.equal(error.retryAfterSeconds, 7);
  });

  it('5xx on a read is retryable', () => {
    for (const status of [500, 502, 503, 504]) {
      const error = translateStellarError(http(status));
      assert.ok(error instanceof StellarUnavailableError, String(status));
      assert.equal(error.retryable, true);
    }
  });

  it('504 or no answer on a submission is indeterminate: look the hash up', () => {
    const hash = 'aa'.repeat(32);
    for (const raw of [
      http(504),
      { code: 'ECONNRESET', message: 'socket hang up' },
      { code: 'ETIMEDOUT', message: 'timeout' },
    ]) {
      const error = translateStellarError(raw, hash);
      assert.ok(error instanceof SubmissionIndeterminateError);
      assert.equal(error.hash, hash);
      assert.equal(error.retryable, true);
    }
  });

  it('a connection refused on a read is retryable', () => {
    const error = translateStellarError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:8000' });
    assert.ok(error instanceof StellarUnavailableError);
  });

  it('a local fault (not an answer from the network) is final, not retried forever', () => {
    const error = translateStellarError(new TypeError("Cannot read properties of undefined (reading 'publicKey')"));
    assert.ok(error instanceof GatewayInternalError);
    assert.equal(error.retryable, false);
  });

  it('another 4xx is a final request error', () => {
    const error = translateStellarError(http(400, { title: 'Transaction Malformed', detail: 'bad xdr' }));
    assert.ok(error instanceof StellarRequestError);
    assert.equal(error.retryable, false);
  });
});

describe('Stellar amounts', () => {
  it('converts decimal strings to stroops and back, exactly', () => {
    assert.equal(toStroops('1'), 10_000_000n);
    assert.equal(toStroops('0.0000001'), 1n);
    assert.equal(toStroops('123.4567891'), 1_234_567_891n);
    assert.equal(fromStroops(1_234_567_891n), '123.4567891');
    assert.equal(fromStroops(5n), '0.0000005');
  });

  it('refuses more than 7 decimals, signs, exponents and zero', () => {
    for (const bad of ['1.00000001', '-1', '1e5', '', '0', '0.0000000', ' 1', '01']) {
      assert.equal(isValidAmount(bad), false, JSON.stringify(bad));
    }
    assert.throws(() => toStroops('1.00000001'), RangeError);
  });
});
