import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { Keypair } from '@stellar/stellar-sdk';
import { isDatabaseUnavailable, redactingRequestSerializer, redactUrl } from '@nova/api';

const ADMIN_KEY = 'admin-key-for-the-redaction-test-0123';

// Secrets a client puts in a URL never reach the request log.
describe('request log redaction', () => {
  const seed = Keypair.random().secret();
  const merchantKey = `nk_ABCDEFGHIJKL.${'x'.repeat(43)}`;

  it('redacts seeds, merchant keys and the admin key in paths and queries, and credential-named parameters', () => {
    assert.equal(redactUrl(`/v1/campaigns/${seed}`, ADMIN_KEY), '/v1/campaigns/[redacted]');
    assert.equal(
      redactUrl(`/v1/rewards/issuances?walletAddress=${seed}&status=failed`, ADMIN_KEY),
      '/v1/rewards/issuances?walletAddress=[redacted]&status=failed',
    );
    assert.equal(redactUrl(`/v1/campaigns?api_key=anything-at-all`, ADMIN_KEY), '/v1/campaigns?api_key=[redacted]');
    assert.equal(redactUrl(`/v1/campaigns?x=${merchantKey}`, ADMIN_KEY), '/v1/campaigns?x=[redacted]');
    assert.equal(
      redactUrl(`/v1/campaigns?x=${encodeURIComponent(ADMIN_KEY)}`, ADMIN_KEY),
      '/v1/campaigns?x=[redacted]',
    );
    assert.equal(redactUrl(`/v1/${ADMIN_KEY}/x`, ADMIN_KEY), '/v1/[redacted]/x');
    const wallet = Keypair.random().publicKey();
    assert.equal(
      redactUrl(`/v1/rewards/issuances?walletAddress=${wallet}`, ADMIN_KEY),
      `/v1/rewards/issuances?walletAddress=${wallet}`,
    );
  });

  it('the request serializer cleans url, query and params and keeps the rest', () => {
    const serialize = redactingRequestSerializer(ADMIN_KEY);
    const logged = serialize({
      id: 'r1',
      method: 'GET',
      url: `/v1/campaigns/${seed}?token=t0ken`,
      query: { token: 't0ken', walletAddress: seed, status: 'failed', nested: { a: seed } },
      params: { id: seed },
      headers: { host: 'localhost' },
    });
    assert.deepEqual(logged, {
      id: 'r1',
      method: 'GET',
      url: '/v1/campaigns/[redacted]?token=[redacted]',
      query: { token: '[redacted]', walletAddress: '[redacted]', status: 'failed', nested: '[redacted]' },
      params: { id: '[redacted]' },
      headers: { host: 'localhost' },
    });
    assert.ok(!JSON.stringify(logged).includes(seed));
  });
});

describe('database unavailability', () => {
  it('tells an unreachable PostgreSQL (503) from a statement it refused (500)', () => {
    const unreachable = {
      code: 'P1001',
      meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'DatabaseNotReachable' } } },
    };
    assert.equal(isDatabaseUnavailable(unreachable), true);
    assert.equal(
      isDatabaseUnavailable({
        code: 'P2010',
        meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } },
      }),
      true,
    );
    assert.equal(
      isDatabaseUnavailable({ code: 'P2010', meta: { driverAdapterError: { cause: { originalCode: '57P01' } } } }),
      true,
    );
    assert.equal(isDatabaseUnavailable(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })), true);
    assert.equal(
      isDatabaseUnavailable({ code: 'P2010', meta: { driverAdapterError: { cause: { originalCode: '57014' } } } }),
      false,
      'a cancelled statement',
    );
    assert.equal(isDatabaseUnavailable(new Error('boom')), false);
  });
});
