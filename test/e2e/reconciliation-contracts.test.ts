import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { campaignWorkflowId } from '@nova/domain';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { merchantChainAddress } from '@nova/activities';
import { DEFAULT_NETWORK_PASSPHRASE } from '@nova/stellar-sandbox';
import {
  connectToTemporal,
  createPlatformWorker,
  createTemporalClient,
  createWorkerActivities,
  workflowSourceFor,
} from '@nova/worker';
import {
  eventually,
  quietTemporalRuntime,
  required,
  TEST_ADMIN_KEY,
  testApiConfig,
  testWorkerConfig,
  uniqueTaskQueue,
} from '../support/environment';
import { sandboxStellarConfig, startStellarFixture, type StellarFixture } from '../support/stellar';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { contractHostBinary, startContractHost, type RunningContractHost } from '../support/contract-host';
import { apiClient, expectStatus, idempotencyKey, listenForClients } from '../support/api-client';

quietTemporalRuntime();

// The report as the typed client returns it, with what this file reads of a mismatch's sides
// (free-form objects in the OpenAPI document): the contract's record and the expected values.
interface ReportView {
  id: string;
  status: string;
  failureMessage: string | null;
  counts: { checked: Record<string, number>; mismatches: Record<string, number> };
  mismatchCount: number;
  mismatches: {
    kind: string;
    resourceKind: string;
    resourceId: string | null;
    merchantId: string | null;
    chain: { contractId: string; record: Record<string, string> } | null;
    readModel: { expected: Record<string, string> } | null;
  }[];
}

// Contract records against their resources: the REAL campaign contract (nova-contract-host) read
// through Soroban RPC by the reconciliation's view calls.
describe('reconciliation of the campaign contract against the campaigns, end to end', () => {
  const binary = contractHostBinary();
  if (!binary) {
    /* skipped: no nova-contract-host binary: run npm run setup */ it.skip('compares contract records', () =>
      undefined);
    return;
  }
  let stateDir: string;
  let host: RunningContractHost;
  let stellar: StellarFixture;
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestExpressApplication;
  let connection: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  let temporal: Client;
  const taskQueue = uniqueTaskQueue('e2e-reconciliation-contracts');
  let baseUrl: string;
  const admin = () => apiClient(baseUrl, TEST_ADMIN_KEY);
  const campaignIds: string[] = [];

  async function report(from: string, to: string): Promise<ReportView> {
    const accepted = await expectStatus(
      admin().POST('/v1/admin/reconciliations', { params: idempotencyKey(), body: { from, to } }),
      202,
    );
    const id = accepted.data!.id;
    return await eventually(
      async () => {
        const view = (
          await expectStatus(admin().GET('/v1/admin/reconciliations/{id}', { params: { path: { id } } }), 200)
        ).data! as ReportView;
        if (view.status === 'failed') throw new Error(`reconciliation failed: ${view.failureMessage}`);
        return view.status === 'completed' ? view : undefined;
      },
      { what: 'the reconciliation completed', timeoutMs: 60_000 },
    );
  }

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'nova-contracts-'));
    host = await startContractHost({
      binary,
      statePath: join(stateDir, 'contracts-state.json'),
      networkPassphrase: DEFAULT_NETWORK_PASSPHRASE,
    });
    stellar = await startStellarFixture({ ledgerIntervalMs: 250, contractHost: { url: host.url } });
    const sandbox = sandboxStellarConfig(stellar);
    const stellarConfig = {
      ...sandbox,
      network: { ...sandbox.network, campaignContractId: stellar.sandbox.contracts.campaign! },
    };
    database = await createTestDatabase('e2e_reconciliation_contracts');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 5 });
    const workerConfig = testWorkerConfig({ taskQueue, databaseUrl: database.url, stellar: stellarConfig });
    connection = await connectToTemporal(workerConfig);
    temporal = new Client({ connection: await Connection.connect({ address: required('TEMPORAL_ADDRESS') }) });
    worker = await createPlatformWorker({
      config: workerConfig,
      connection,
      identity: `e2e-${taskQueue}`,
      workflowSource: workflowSourceFor(workerConfig),
      activities: await createWorkerActivities({
        config: workerConfig,
        db,
        temporal: createTemporalClient(connection, workerConfig),
        identity: `e2e-${taskQueue}`,
      }),
    });
    workerRun = worker.run();
    app = await createApp(testApiConfig({ taskQueue, databaseUrl: database.url, stellar: stellarConfig.network }));
    baseUrl = await listenForClients(app);
  });
  afterAll(async () => {
    await app?.close();
    for (const id of campaignIds) {
      await temporal?.workflow
        .getHandle(campaignWorkflowId(id))
        .terminate('end of test')
        .catch(() => undefined);
    }
    worker?.shutdown();
    await workerRun;
    await temporal?.connection.close();
    await connection?.close();
    await db?.$disconnect();
    await database?.drop();
    await stellar?.stop();
    await host?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it("a campaign in sync matches its contract record; its budget altered by hand is reported with the contract's side", async () => {
    const created = (await expectStatus(admin().POST('/v1/merchants', { body: { name: 'Contract shop' } }), 201)).data!;
    const merchant = { id: created.merchant.id, key: created.apiKey.key };
    const asMerchant = apiClient(baseUrl, merchant.key);
    const from = new Date().toISOString();
    const campaign = await expectStatus(
      asMerchant.POST('/v1/campaigns', {
        params: idempotencyKey(),
        body: {
          name: 'On chain',
          budget: '500',
          startsAt: '2026-01-01T00:00:00Z',
          endsAt: '2030-01-01T00:00:00Z',
        },
      }),
      201,
    );
    const id = campaign.data!.id;
    campaignIds.push(id);
    await eventually(
      async () => {
        const view = (await expectStatus(asMerchant.GET('/v1/campaigns/{id}', { params: { path: { id } } }), 200))
          .data!;
        if (view.onChain?.status === 'failed') throw new Error(JSON.stringify(view.onChain));
        return view.onChain?.status === 'synced' ? true : undefined;
      },
      { what: 'the campaign synced to the contract' },
    );
    const clean = await report(from, new Date().toISOString());
    assert.equal(clean.counts.checked.campaigns, 1);
    assert.deepEqual(clean.mismatches, []);

    // The read model changed behind the platform's back (no change queued for the contract).
    await db.$executeRaw`UPDATE campaigns SET budget_stroops = 7770000000 WHERE id = ${id}::uuid`;
    const altered = await report(from, new Date().toISOString());
    assert.equal(altered.mismatchCount, 1, JSON.stringify(altered.mismatches));
    const [mismatch] = altered.mismatches;
    assert.ok(mismatch);
    assert.equal(mismatch.kind, 'contract_record_differs');
    assert.equal(mismatch.resourceKind, 'campaign');
    assert.equal(mismatch.resourceId, id);
    assert.equal(mismatch.merchantId, merchant.id);
    assert.equal(mismatch.chain?.contractId, stellar.sandbox.contracts.campaign);
    assert.deepEqual(mismatch.chain?.record, {
      merchant: merchantChainAddress(merchant.id),
      budget: '5000000000',
      starts_at: String(Date.parse('2026-01-01T00:00:00Z') / 1000),
      ends_at: String(Date.parse('2030-01-01T00:00:00Z') / 1000),
      status: 'Active',
    });
    assert.equal(mismatch.readModel?.expected.budget, '7770000000');
    assert.deepEqual(altered.counts.mismatches, { contract_record_differs: 1 });
  });
});
