import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { createCampaignContractActivities, systemClock, type CampaignChange } from '@nova/activities';
import { DEFAULT_NETWORK_PASSPHRASE } from '@nova/stellar-sandbox';
import { createStellarServices } from '@nova/worker';
import { required, testWorkerConfig, uniqueTaskQueue } from '../support/environment';
import { contractHostBinary, startContractHost, type RunningContractHost } from '../support/contract-host';
import { sandboxStellarConfig, startStellarFixture, type StellarFixture } from '../support/stellar';

// The campaign contract activity against the REAL campaign contract (nova-contract-host) behind
// the sandbox's Soroban RPC, with the real PostgreSQL journal.
describe('campaign contract activity', () => {
  const binary = contractHostBinary();
  if (!binary) {
    /* skipped: no nova-contract-host binary: run npm run setup */ it.skip('writes campaign changes', () => undefined);
    return;
  }
  let stateDir: string;
  let host: RunningContractHost;
  let stellar: StellarFixture;
  let db: PrismaClient;
  let activities: ReturnType<typeof createCampaignContractActivities>;
  let contractId: string;
  const environment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'nova-contracts-'));
    host = await startContractHost({
      binary,
      statePath: join(stateDir, 'contracts-state.json'),
      networkPassphrase: DEFAULT_NETWORK_PASSPHRASE,
    });
    stellar = await startStellarFixture({ ledgerIntervalMs: 250, contractHost: { url: host.url } });
    contractId = stellar.sandbox.contracts.campaign!;
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 2 });
    const config = testWorkerConfig({
      taskQueue: uniqueTaskQueue('activity-contract'),
      stellar: sandboxStellarConfig(stellar),
    });
    const { gateway, contractCalls } = await createStellarServices(config, db, systemClock);
    activities = createCampaignContractActivities({ gateway, contractCalls, campaignContractId: contractId });
  });
  afterAll(async () => {
    await db?.channelAccount.deleteMany({ where: { publicKey: stellar?.distribution.publicKey() } });
    await db?.$disconnect();
    await stellar?.stop();
    await host?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it("a second registration of the same id fails with the contract's numbered error, typed and non-retryable, signing nothing", async () => {
    const campaignId = randomUUID();
    const register = (seq: number): CampaignChange => ({
      campaignId,
      merchantId: randomUUID(),
      seq,
      kind: 'register',
      budgetStroops: '500000000',
      startsAt: '2026-03-01T00:00:00.000Z',
      endsAt: '2027-03-01T00:00:00.000Z',
    });
    const first = (await environment().run(activities.applyCampaignChange, register(1))) as { txHash: string };
    assert.match(first.txHash, /^[0-9a-f]{64}$/);

    const failure = await environment()
      .run(activities.applyCampaignChange, register(1_000))
      .then(
        () => assert.fail('a second registration must be refused'),
        (error: unknown) => error,
      );
    assert.ok(failure instanceof ApplicationFailure, String(failure));
    assert.equal(failure.type, 'CampaignExists');
    assert.equal(failure.nonRetryable, true);
    assert.deepEqual(failure.details, [{ kind: 'ContractError', contractId, code: 3, error: 'CampaignExists' }]);
    assert.equal(
      await db.journalItem.count({ where: { businessKey: `campaign/${campaignId}/change/1000` } }),
      0,
      'refused in simulation: nothing was signed for the network',
    );
  });

  it('a change the contract can never hold (a start before 1970) fails at once, typed InvalidChange and non-retryable, signing nothing', async () => {
    const campaignId = randomUUID();
    const failure = await environment()
      .run(activities.applyCampaignChange, {
        campaignId,
        merchantId: randomUUID(),
        seq: 1,
        kind: 'register',
        budgetStroops: '500000000',
        startsAt: '1969-12-31T00:00:00.000Z',
        endsAt: '2027-03-01T00:00:00.000Z',
      } satisfies CampaignChange)
      .then(
        () => assert.fail('a negative u64 must be refused'),
        (error: unknown) => error,
      );
    assert.ok(failure instanceof ApplicationFailure, String(failure));
    assert.equal(failure.type, 'InvalidChange');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /register change 1 cannot be written to the contract: .*u64/);
    assert.equal(await db.journalItem.count({ where: { businessKey: `campaign/${campaignId}/change/1` } }), 0);
  });
});
