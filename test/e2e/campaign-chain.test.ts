// Calls the API through the typed client (@nova/client).
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, nativeToScVal, rpc, scValToNative, TransactionBuilder, type xdr } from '@stellar/stellar-sdk';
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
  ensureReconciler,
  workflowSourceFor,
} from '@nova/worker';
import {
  campaignChangeSignal,
  campaignSyncQuery,
  campaignWorkflowType,
  searchAttributes,
} from '@nova/workflows/definitions';
import {
  eventually,
  quietTemporalRuntime,
  required,
  TEST_ADMIN_KEY,
  testApiConfig,
  testWorkerConfig,
  uniqueTaskQueue,
} from '../support/environment';
import type { NovaClient, Schemas } from '@nova/client';
import { apiClient, expectStatus, idempotencyKey, listenForClients } from '../support/api-client';
import { contractHostBinary, startContractHost, type RunningContractHost } from '../support/contract-host';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/launcher';
import { sandboxStellarConfig, startStellarFixture, type StellarFixture } from '../support/stellar';

quietTemporalRuntime();

interface OnChain {
  status: 'pending' | 'synced' | 'failed';
  txHash: string | null;
  ledger: number | null;
  error?: { type: string; code: number | null; message: string; change: string };
}

interface CampaignView {
  id: string;
  budget: string;
  startsAt: string;
  endsAt: string;
  status: string;
  onChain: OnChain | null;
}

const unix = (iso: string) => BigInt(Math.floor(Date.parse(iso) / 1000));

// Campaigns on chain, on the real stack: API -> Temporal dev server -> worker -> Stellar sandbox
// -> the REAL campaign contract (nova-contract-host), read back through Soroban RPC.
describe('campaigns on the campaign contract, end to end', () => {
  const binary = contractHostBinary();
  if (!binary) {
    /* skipped: no nova-contract-host binary: run npm run setup */ it.skip('puts campaigns on chain', () => undefined);
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
  let contractId: string;
  let workerConfig: ReturnType<typeof testWorkerConfig>;
  let apiConfig: ReturnType<typeof testApiConfig>;
  const taskQueue = uniqueTaskQueue('e2e-campaign-chain');
  let merchant: { id: string; key: string };
  let merchantApi: NovaClient;
  const campaignIds: string[] = [];

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'nova-contracts-'));
    host = await startContractHost({
      binary,
      statePath: join(stateDir, 'contracts-state.json'),
      networkPassphrase: DEFAULT_NETWORK_PASSPHRASE,
    });
    stellar = await startStellarFixture({ ledgerIntervalMs: 250, contractHost: { url: host.url } });
    assert.equal(stellar.sandbox.contractRuntime, 'native');
    contractId = stellar.sandbox.contracts.campaign!;
    const sandbox = sandboxStellarConfig(stellar);
    const stellarConfig = { ...sandbox, network: { ...sandbox.network, campaignContractId: contractId } };
    // The reconciler re-drives what its database holds: this file's own.
    database = await createTestDatabase('e2e_campaign_chain');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 5 });
    workerConfig = testWorkerConfig({
      taskQueue,
      databaseUrl: database.url,
      stellar: stellarConfig,
      // The reconciler runs only while a test asks for it, every second then.
      reconciler: { everySeconds: 1, afterSeconds: 1 },
    });
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
    apiConfig = testApiConfig({ taskQueue, databaseUrl: database.url, stellar: stellarConfig.network });
    app = await createApp(apiConfig);
    const baseUrl = await listenForClients(app);
    const created = await expectStatus(
      apiClient(baseUrl, TEST_ADMIN_KEY).POST('/v1/merchants', {
        body: { name: `Chain shop ${randomUUID().slice(0, 6)}` },
      }),
      201,
    );
    merchant = { id: created.data!.merchant.id, key: created.data!.apiKey.key };
    merchantApi = apiClient(baseUrl, merchant.key);
  });
  afterAll(async () => {
    await app?.close();
    // Campaign workflows linger idle for a while before completing: end them with the test.
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

  async function createCampaign(body: Partial<Schemas['CreateCampaignRequest']> = {}): Promise<CampaignView> {
    const { data } = await expectStatus(
      merchantApi.POST('/v1/campaigns', {
        params: idempotencyKey(),
        body: {
          name: 'On-chain bonus',
          budget: '1000',
          startsAt: '2026-03-01T00:00:00.000Z',
          endsAt: '2027-03-01T00:00:00.000Z',
          ...body,
        },
      }),
      201,
    );
    campaignIds.push(data!.id);
    return data! as CampaignView;
  }

  /** Runs `body` while the worker's reconciler schedule exists, as a worker creates it at boot. */
  async function withReconciler<T>(body: () => Promise<T>): Promise<T> {
    const { scheduleId } = await ensureReconciler(temporal, workerConfig);
    try {
      return await body();
    } finally {
      await temporal.schedule.getHandle(scheduleId).delete();
    }
  }

  async function patch(id: string, body: Schemas['UpdateCampaignRequest'], client = merchantApi) {
    const { data } = await expectStatus(
      client.PATCH('/v1/campaigns/{id}', { params: { ...idempotencyKey(), path: { id } }, body }),
      200,
    );
    return data! as CampaignView;
  }

  /** The campaign's view once no change is pending any more. */
  async function settled(id: string): Promise<CampaignView> {
    return await eventually(
      async () => {
        const view = (await expectStatus(merchantApi.GET('/v1/campaigns/{id}', { params: { path: { id } } }), 200))
          .data! as CampaignView;
        return view.onChain && view.onChain.status !== 'pending' ? view : undefined;
      },
      { what: `campaign ${id} settled on chain`, timeoutMs: 60_000 },
    );
  }

  /** `get(id)` on the campaign contract, simulated through the gateway's Soroban RPC client. */
  async function onContract(id: string): Promise<Record<string, unknown>> {
    const server = stellar.gateway.rpc;
    const account = await server.getAccount(stellar.distribution.publicKey());
    const read = new TransactionBuilder(account, { fee: '100', networkPassphrase: stellar.sandbox.networkPassphrase })
      .addOperation(new Contract(contractId).call('get', nativeToScVal(id, { type: 'string' })))
      .setTimeout(30)
      .build();
    const simulation = await server.simulateTransaction(read);
    assert.ok(rpc.Api.isSimulationSuccess(simulation), JSON.stringify(simulation));
    return scValToNative(simulation.result?.retval as xdr.ScVal) as Record<string, unknown>;
  }

  it('registers a campaign created through the API, with the same budget and dates, signed by the platform', async () => {
    const campaign = await createCampaign({ budget: '1234.5' });
    assert.deepEqual(campaign.onChain, { status: 'pending', txHash: null, ledger: null });

    const done = await settled(campaign.id);
    assert.equal(done.onChain?.status, 'synced', JSON.stringify(done.onChain));
    assert.match(done.onChain?.txHash ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(await onContract(campaign.id), {
      id: campaign.id,
      merchant: merchantChainAddress(merchant.id),
      budget: 12_345_000_000n,
      starts_at: unix(campaign.startsAt),
      ends_at: unix(campaign.endsAt),
      status: ['Active'],
    });
    // The hash and ledger shown are the registration's transaction, as the network reports it.
    const transaction = await stellar.gateway.rpc.getTransaction(done.onChain!.txHash!);
    assert.equal(transaction.status, rpc.Api.GetTransactionStatus.SUCCESS);
    assert.equal(transaction.ledger, done.onChain!.ledger);
    // Merchants hear of it: campaign.synced carries the campaign exactly as the API returns it.
    const events = await db.outboxEvent.findMany({ where: { aggregateId: campaign.id } });
    assert.deepEqual(
      events.map((e) => e.type),
      ['campaign.synced'],
    );
    assert.deepEqual(events[0]!.payload, done);
    // The contract was initialized lazily with the platform (distribution) account as its admin.
    const admin = await stellar.gateway.readContract({
      contractId,
      method: 'admin',
      args: [],
      source: stellar.distribution.publicKey(),
    });
    assert.equal(scValToNative(admin), stellar.distribution.publicKey());

    // Operators find the campaign's workflow by campaign and merchant.
    const description = await temporal.workflow.getHandle(campaignWorkflowId(campaign.id)).describe();
    assert.equal(description.typedSearchAttributes.get(searchAttributes.campaignId), campaign.id);
    assert.equal(description.typedSearchAttributes.get(searchAttributes.merchantId), merchant.id);
  });

  it('PATCHes reach the contract one at a time, in the order they were made', async () => {
    const campaign = await createCampaign();
    // Back to back, without waiting: they queue behind the registration.
    await patch(campaign.id, { budget: '2000', endsAt: '2027-06-01T00:00:00Z', name: 'Renamed (off chain)' });
    const paused = await patch(campaign.id, { status: 'paused' });
    assert.equal(paused.onChain?.status, 'pending');
    await patch(campaign.id, { status: 'active' });
    await patch(campaign.id, { name: 'Only the name: nothing for the contract' });
    await patch(campaign.id, { budget: '3000.0000001' });

    const done = await settled(campaign.id);
    assert.equal(done.onChain?.status, 'synced', JSON.stringify(done.onChain));
    assert.deepEqual(await onContract(campaign.id), {
      id: campaign.id,
      merchant: merchantChainAddress(merchant.id),
      budget: 30_000_000_001n,
      starts_at: unix(campaign.startsAt),
      ends_at: unix('2027-06-01T00:00:00Z'),
      status: ['Active'],
    });

    const changes = await db.campaignChainChange.findMany({
      where: { campaignId: campaign.id },
      orderBy: { seq: 'asc' },
    });
    assert.deepEqual(
      changes.map((c) => [c.seq, c.kind, c.status]),
      [
        [1, 'register', 'synced'],
        [2, 'update', 'synced'],
        [3, 'pause', 'synced'],
        [4, 'resume', 'synced'],
        [5, 'update', 'synced'],
      ],
    );
    const ledgers = changes.map((c) => c.ledger!);
    assert.deepEqual(
      ledgers,
      [...ledgers].sort((a, b) => a - b),
      'each change landed no earlier than the one before',
    );
    assert.equal(new Set(changes.map((c) => c.txHash)).size, 5, 'one transaction per change');
    assert.equal(done.onChain?.txHash, changes[4]!.txHash, 'the view shows the last change');

    // The contract's own events for this campaign, in ledger order: what happened, in that order.
    const { events } = await stellar.gateway.contractEvents({
      contractIds: [contractId],
      startLedger: Math.min(...ledgers),
      limit: 200,
    });
    const ours = events
      .filter((event) => event.topics[1] && scValToNative(event.topics[1]) === campaign.id)
      .map((event) => scValToNative(event.topics[0]!) as string);
    assert.deepEqual(ours, [
      'campaign_registered',
      'campaign_updated',
      'campaign_paused',
      'campaign_resumed',
      'campaign_updated',
    ]);
  });

  it('a contract refusal marks the campaign failed with the typed reason; a later change that lands makes up for it', async () => {
    // Valid to the millisecond, but the contract's unix seconds make starts_at == ends_at.
    const campaign = await createCampaign({ startsAt: '2026-03-01T00:00:00.100Z', endsAt: '2027-03-01T00:00:00Z' });
    await settled(campaign.id);
    await patch(campaign.id, { endsAt: '2026-03-01T00:00:00.900Z' });
    const refused = await settled(campaign.id);
    assert.equal(refused.onChain?.status, 'failed');
    assert.deepEqual(refused.onChain?.error, {
      type: 'InvalidSchedule',
      code: 6,
      message: `update refused by contract ${contractId}: InvalidSchedule (#6)`,
      change: 'update',
    });
    assert.equal(refused.endsAt, '2026-03-01T00:00:00.900Z', 'the API accepted it; only the chain refused');
    assert.equal((await onContract(campaign.id)).ends_at, unix('2027-03-01T00:00:00Z'), 'the contract kept its end');
    const failedEvent = await db.outboxEvent.findFirstOrThrow({
      where: { aggregateId: campaign.id, type: 'campaign.sync_failed' },
    });
    assert.deepEqual(failedEvent.payload, refused, 'campaign.sync_failed carries the campaign with its error');

    // The next changes still go ahead; a later update carries the whole budget and end again.
    await patch(campaign.id, { status: 'paused' });
    const stillFailed = await settled(campaign.id);
    assert.equal(stillFailed.onChain?.status, 'failed', 'a pause does not make up for a refused update');
    assert.deepEqual((await onContract(campaign.id)).status, ['Paused'], 'but it landed');
    await patch(campaign.id, { endsAt: '2027-09-01T00:00:00Z' });
    const mended = await settled(campaign.id);
    assert.equal(mended.onChain?.status, 'synced', JSON.stringify(mended.onChain));
    assert.equal(mended.onChain?.error, undefined);
    assert.equal((await onContract(campaign.id)).ends_at, unix('2027-09-01T00:00:00Z'));
    // One event per settled state reached: synced, failed (the update), failed again after the pause, synced.
    const types = (await db.outboxEvent.findMany({ where: { aggregateId: campaign.id }, orderBy: { id: 'asc' } })).map(
      (e) => e.type,
    );
    assert.deepEqual(types, ['campaign.synced', 'campaign.sync_failed', 'campaign.sync_failed', 'campaign.synced']);
  });

  it('a change whose signal was lost reaches the contract without another PATCH: the reconciler signals it', async () => {
    const campaign = await createCampaign({ budget: '70' });
    assert.equal((await settled(campaign.id)).onChain?.status, 'synced');

    // An API that cannot reach Temporal: the change commits with the campaign, its signal is lost.
    const offline = await createApp({
      ...apiConfig,
      temporal: { ...apiConfig.temporal, address: `127.0.0.1:${await freePort()}` },
    });
    try {
      const offlineApi = apiClient(await listenForClients(offline), merchant.key);
      const patched = await patch(campaign.id, { budget: '75', endsAt: '2027-04-01T00:00:00Z' }, offlineApi);
      assert.equal(patched.onChain?.status, 'pending');
    } finally {
      await offline.close();
    }
    // Its workflow (still lingering after the registration, or completed) was never told about change 2.
    const handle = temporal.workflow.getHandle(campaignWorkflowId(campaign.id));
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') assert.equal((await handle.query(campaignSyncQuery)).requestedSeq, 1);

    const done = await withReconciler(() => settled(campaign.id));
    assert.equal(done.onChain?.status, 'synced', JSON.stringify(done.onChain));
    const onChain = await onContract(campaign.id);
    assert.deepEqual([onChain.budget, onChain.ends_at], [750_000_000n, unix('2027-04-01T00:00:00Z')]);
    const changes = await db.campaignChainChange.findMany({
      where: { campaignId: campaign.id },
      orderBy: { seq: 'asc' },
    });
    assert.deepEqual(
      changes.map((c) => [c.seq, c.kind, c.status]),
      [
        [1, 'register', 'synced'],
        [2, 'update', 'synced'],
      ],
    );
  });

  it("a second registration of the same id fails with the contract's numbered error, typed and non-retryable", async () => {
    const campaign = await createCampaign({ budget: '50' });
    await settled(campaign.id);
    // A second registration queued as the API queues changes: the workflow settles the contract's
    // refusal failed with its code, and the campaign says so (test/activities/campaign-contract.test.ts
    // has the activity's typed failure).
    await db.$transaction([
      db.campaignChainChange.create({
        data: {
          campaignId: campaign.id,
          seq: 2,
          kind: 'register',
          budgetStroops: 500_000_000n,
          startsAt: new Date(campaign.startsAt),
          endsAt: new Date(campaign.endsAt),
        },
      }),
      db.campaign.update({ where: { id: campaign.id }, data: { chainChangeSeq: 2, onChainStatus: 'pending' } }),
    ]);
    await temporal.workflow.signalWithStart(campaignWorkflowType, {
      workflowId: campaignWorkflowId(campaign.id),
      taskQueue,
      args: [{ campaignId: campaign.id, merchantId: merchant.id }],
      signal: campaignChangeSignal,
      signalArgs: [{ seq: 2 }],
    });
    const failed = await settled(campaign.id);
    assert.equal(failed.onChain?.status, 'failed');
    assert.deepEqual(failed.onChain?.error, {
      type: 'CampaignExists',
      code: 3,
      message: `register refused by contract ${contractId}: CampaignExists (#3)`,
      change: 'register',
    });
    const row = await db.campaignChainChange.findUniqueOrThrow({
      where: { campaignId_seq: { campaignId: campaign.id, seq: 2 } },
    });
    assert.deepEqual([row.status, row.failureType, row.failureCode], ['failed', 'CampaignExists', 3]);
    assert.equal((await onContract(campaign.id)).budget, 500_000_000n, 'the first registration stands');
    assert.equal(
      await db.journalItem.count({ where: { businessKey: `campaign/${campaign.id}/change/2` } }),
      0,
      'refused in simulation: nothing was signed for the network',
    );
  });
});
