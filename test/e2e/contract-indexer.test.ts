import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Address, Keypair, nativeToScVal, xdr } from '@stellar/stellar-sdk';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Client, Connection } from '@temporalio/client';
import { CONTRACT_EVENTS_OUTSIDE_RETENTION, contractIndexerWorkflowId, type IndexedContract } from '@nova/domain';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { merchantChainAddress, TransactionRejectedError } from '@nova/activities';
import { DEFAULT_NETWORK_PASSPHRASE } from '@nova/stellar-sandbox';
import { searchAttributes } from '@nova/workflows/definitions';
import { eventually, required, TEST_ADMIN_KEY, testApiConfig, uniqueTaskQueue } from '../support/environment';
import { contractHostBinary, startContractHost, type RunningContractHost } from '../support/contract-host';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/launcher';
import { apiClient, expectStatus, idempotencyKey, listenForClients } from '../support/api-client';
import { spawnCollecting, waitForOutput, withTimeout, type Spawned } from '../support/processes';
import { sandboxStellarConfig, startStellarFixture, type StellarFixture } from '../support/stellar';

const root = resolve(__dirname, '..', '..');

// The contract indexers on the real stack: a worker PROCESS (so it can be killed) on the Temporal
// dev server, the sandbox running the REAL contracts (nova-contract-host), PostgreSQL. The truth
// each test compares against is what Soroban RPC itself serves for the contract.
describe('contract indexers, end to end', () => {
  const binary = contractHostBinary();
  if (!binary) {
    /* skipped: no nova-contract-host binary: run npm run setup */ it.skip('indexes the contracts’ events', () =>
      undefined);
    return;
  }
  const taskQueue = uniqueTaskQueue('e2e-indexer');
  let stateDir: string;
  let host: RunningContractHost;
  let stellar: StellarFixture;
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestExpressApplication;
  let temporal: Client;
  let worker: Spawned | undefined;
  let metricsPort = 0;
  let merchantKey = '';
  let campaignId = '';
  const contracts = {} as Record<IndexedContract, string>;
  let baseUrl: string;

  function startWorker(): Spawned {
    worker = spawnCollecting(process.execPath, [join(root, 'apps/worker/dist/main.js')], {
      PATH: process.env.PATH,
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: required('TEMPORAL_ADDRESS'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      HORIZON_URL: stellar.sandbox.url,
      SOROBAN_RPC_URL: stellar.sandbox.rpcUrl,
      NETWORK_PASSPHRASE: stellar.sandbox.networkPassphrase,
      STELLAR_KEYS_FILE: join(stellar.sandbox.dataDir, 'keys.json'),
      STELLAR_CONTRACTS_FILE: join(stellar.sandbox.dataDir, 'contracts.json'),
      CHANNEL_POOL_SIZE: '8',
      LOG_LEVEL: 'info',
      WORKER_SHUTDOWN_GRACE_SECONDS: '2',
      WORKER_METRICS_PORT: String(metricsPort),
      // Small pages, so a backlog takes many pages (and a kill lands between two of them).
      CONTRACT_INDEXER_PAGE_SIZE: '2',
      CONTRACT_INDEXER_POLL_SECONDS: '1',
    });
    return worker;
  }

  async function killWorker(): Promise<void> {
    worker!.child.kill('SIGKILL');
    await withTimeout(worker!.exited, 10_000, 'worker death');
  }

  /** A contract call signed by the contracts' admin (the distribution account), as tools make them. */
  async function invoke(contract: IndexedContract, method: string, args: xdr.ScVal[]) {
    // The worker signs with the same account (campaign sync, the contracts' initialize): a call
    // that lost the sequence-number race is refused tx_bad_seq, retryable. While the worker's
    // transaction waits for its ledger the account's sequence number has not moved yet, so the
    // call is made again once a ledger has closed after the refusal.
    for (let attempt = 1; ; attempt += 1) {
      const ledgerBefore = (await stellar.gateway.rpcLedgerRange()).latestLedger;
      try {
        return await stellar.gateway.invokeContract({
          contractId: contracts[contract],
          method,
          args,
          source: stellar.distribution,
        });
      } catch (error) {
        if (!(error instanceof TransactionRejectedError && error.retryable) || attempt >= 10) throw error;
        await eventually(
          async () => ((await stellar.gateway.rpcLedgerRange()).latestLedger > ledgerBefore ? true : undefined),
          { what: 'a ledger closed after the refused call', timeoutMs: 30_000 },
        );
      }
    }
  }
  const str = (value: string) => nativeToScVal(value, { type: 'string' });
  const i128 = (value: bigint) => nativeToScVal(value, { type: 'i128' });
  const u64 = (value: bigint) => nativeToScVal(value, { type: 'u64' });
  const address = (value: string) => new Address(value).toScVal();

  /** Every event Soroban RPC serves for the contract, in order (the truth the index must equal). */
  async function onChain(contract: IndexedContract): Promise<{ id: string; ledger: number }[]> {
    const all: { id: string; ledger: number }[] = [];
    const range = await stellar.gateway.rpcLedgerRange();
    let page = await stellar.gateway.contractEvents({
      contractIds: [contracts[contract]],
      startLedger: range.oldestLedger,
      limit: 200,
    });
    for (;;) {
      all.push(...page.events.map((event) => ({ id: event.id, ledger: event.ledger })));
      if (page.events.length < 200) return all;
      page = await stellar.gateway.contractEvents({
        contractIds: [contracts[contract]],
        cursor: page.cursor!,
        limit: 200,
      });
    }
  }

  async function indexed(contract: IndexedContract) {
    return await db.contractEvent.findMany({ where: { contract }, orderBy: { id: 'asc' } });
  }

  /** Waits until the index holds at least what the chain held when called. */
  async function caughtUp(contract: IndexedContract) {
    const chain = await onChain(contract);
    await eventually(
      async () => ((await db.contractEvent.count({ where: { contract } })) >= chain.length ? true : undefined),
      { what: `the ${contract} indexer to catch up with ${chain.length} events`, timeoutMs: 90_000 },
    );
  }

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'nova-indexer-'));
    host = await startContractHost({
      binary,
      statePath: join(stateDir, 'contracts-state.json'),
      networkPassphrase: DEFAULT_NETWORK_PASSPHRASE,
    });
    stellar = await startStellarFixture({ ledgerIntervalMs: 250, contractHost: { url: host.url } });
    assert.equal(stellar.sandbox.contractRuntime, 'native');
    contracts.campaign = stellar.sandbox.contracts.campaign!;
    contracts.redemption = stellar.sandbox.contracts.redemption!;
    contracts.vesting = stellar.sandbox.contracts.vesting!;
    database = await createTestDatabase('e2e_contract_indexer');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 3 });
    temporal = new Client({ connection: await Connection.connect({ address: required('TEMPORAL_ADDRESS') }) });
    const network = sandboxStellarConfig(stellar).network;
    app = await createApp(
      testApiConfig({
        taskQueue,
        databaseUrl: database.url,
        stellar: { ...network, campaignContractId: contracts.campaign },
      }),
    );
    baseUrl = await listenForClients(app);
    const merchant = await expectStatus(
      apiClient(baseUrl, TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: 'Indexed Co' } }),
      201,
    );
    merchantKey = merchant.data!.apiKey.key;
    metricsPort = await freePort();
    await waitForOutput(startWorker(), /"msg":"worker started"/, 60_000);
  });

  afterAll(async () => {
    await app?.close();
    if (worker && worker.child.exitCode === null) await killWorker();
    await temporal?.connection.close();
    await db?.$disconnect();
    await database?.drop();
    await stellar?.stop();
    await host?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('the events of real contract calls are indexed once each, in order, decoded by the contracts’ interfaces', async () => {
    // The campaign contract through the platform's own path: the API's campaign, synced on chain.
    const merchant = apiClient(baseUrl, merchantKey);
    const created = await expectStatus(
      merchant.POST('/v1/campaigns', {
        params: idempotencyKey(),
        body: { name: 'Indexed', budget: '250', startsAt: '2026-01-01T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' },
      }),
      201,
    );
    campaignId = created.data!.id;
    await expectStatus(
      merchant.PATCH('/v1/campaigns/{id}', {
        params: { ...idempotencyKey(), path: { id: campaignId } },
        body: { status: 'paused' },
      }),
      200,
    );
    // The redemption and vesting contracts through contract calls of the admin's.
    const holder = Keypair.random().publicKey();
    const merchantAddress = Keypair.random().publicKey();
    await invoke('redemption', 'initialize', [address(stellar.distribution.publicKey())]);
    await invoke('redemption', 'open', [str('r-1'), address(holder), address(merchantAddress), i128(40_000_000n)]);
    await invoke('redemption', 'confirm', [str('r-1')]);
    await invoke('redemption', 'open', [str('r-2'), address(holder), address(merchantAddress), i128(10_000_000n)]);
    await invoke('redemption', 'cancel', [str('r-2'), xdr.ScVal.scvSymbol('expired')]);
    await invoke('vesting', 'initialize', [address(stellar.distribution.publicKey())]);
    await invoke('vesting', 'create_schedule', [
      str('v-1'),
      address(holder),
      i128(1_000_000_000n),
      u64(1_767_225_600n),
      u64(1_798_761_600n),
      u64(1_861_920_000n),
      u64(2_592_000n),
      nativeToScVal(true),
    ]);
    await invoke('vesting', 'revoke', [str('v-1')]);
    await eventually(
      async () => {
        const row = await db.campaign.findUnique({ where: { id: campaignId } });
        return row?.onChainStatus === 'synced' && row.chainSettledSeq === 2 ? true : undefined;
      },
      { what: 'the campaign registered and paused on chain', timeoutMs: 60_000 },
    );

    for (const contract of ['campaign', 'redemption', 'vesting'] as const) await caughtUp(contract);

    const types = async (contract: IndexedContract) => (await indexed(contract)).map((event) => event.type);
    assert.deepEqual(await types('campaign'), ['campaign.initialized', 'campaign.registered', 'campaign.paused']);
    assert.deepEqual(await types('redemption'), [
      'redemption.initialized',
      'redemption.opened',
      'redemption.confirmed',
      'redemption.opened',
      'redemption.cancelled',
    ]);
    assert.deepEqual(await types('vesting'), [
      'vesting.initialized',
      'vesting.schedule_created',
      'vesting.schedule_revoked',
    ]);
    for (const contract of ['campaign', 'redemption', 'vesting'] as const) {
      const rows = await indexed(contract);
      assert.deepEqual(
        rows.map((row) => ({ id: row.id, ledger: row.ledger })),
        await onChain(contract),
        `${contract}: exactly the chain's events, once each, in order`,
      );
      assert.ok(rows.every((row) => row.contractId === contracts[contract] && /^[0-9a-f]{64}$/.test(row.txHash)));
    }

    const campaignEvents = await indexed('campaign');
    const registered = campaignEvents[1]!;
    assert.equal(registered.resourceId, campaignId);
    assert.deepEqual(registered.payload, {
      // The campaign's view does not carry its merchant's id; its row does.
      merchant: merchantChainAddress((await db.campaign.findUniqueOrThrow({ where: { id: campaignId } })).merchantId),
      budget: '250.0000000',
      startsAt: '2026-01-01T00:00:00.000Z',
      endsAt: '2030-01-01T00:00:00.000Z',
    });
    const campaignRow = await db.campaign.findUnique({ where: { id: campaignId } });
    assert.equal(
      campaignEvents[2]!.txHash,
      campaignRow?.onChainTxHash,
      'the pause’s transaction, as the read model has it',
    );
    const opened = (await indexed('redemption'))[1]!;
    assert.deepEqual(opened.payload, {
      holder,
      merchant: merchantAddress,
      amount: '4.0000000',
      at: (opened.payload as Record<string, string>).at,
    });
    assert.equal(xdr.ScVal.fromXDR(opened.valueXdr, 'base64').switch(), xdr.ScValType.scvMap(), 'raw value XDR kept');
    assert.equal(opened.topicXdr.length, 2);
    const cancelled = (await indexed('redemption'))[4]!;
    assert.equal((cancelled.payload as Record<string, string>).reason, 'expired');
    const revoked = (await indexed('vesting'))[2]!;
    assert.equal(revoked.resourceId, 'v-1');
    assert.ok(Math.abs(revoked.ledgerClosedAt.getTime() - Date.now()) < 120_000, 'the ledger’s close time');

    const cursor = await db.contractEventCursor.findUnique({ where: { contract: 'redemption' } });
    assert.equal(cursor?.contractId, contracts.redemption);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /nova_contract_events_indexed_total\{contract="redemption",type="redemption.opened"\} 2/);
    assert.match(metrics, /nova_contract_indexer_lag_ledgers\{contract="vesting"\} \d+/);
  });

  it('the worker killed while the indexer works through a backlog: a new worker loses and duplicates nothing', async () => {
    await killWorker();
    // A backlog of many pages (2 events a page) while no worker runs.
    for (let i = 0; i < 24; i += 1) {
      await invoke('redemption', 'open', [
        str(`backlog-${i}`),
        address(Keypair.random().publicKey()),
        address(Keypair.random().publicKey()),
        i128(BigInt(i + 1) * 10_000_000n),
      ]);
    }
    const chain = await onChain('redemption');
    const before = await db.contractEvent.count({ where: { contract: 'redemption' } });
    assert.equal(chain.length - before, 24, 'the backlog is not indexed yet');
    startWorker();
    // Killed as soon as the indexer has stored part of the backlog.
    const atKill = await eventually(
      async () => {
        const count = await db.contractEvent.count({ where: { contract: 'redemption' } });
        return count > before ? count : undefined;
      },
      { what: 'the first backlog pages', timeoutMs: 60_000 },
    );
    await killWorker();
    const afterKill = await db.contractEvent.count({ where: { contract: 'redemption' } });
    assert.ok(afterKill < chain.length, `killed mid-backlog (${afterKill - before} of 24 stored, ${atKill} seen)`);
    await waitForOutput(startWorker(), /"msg":"worker started"/, 60_000);
    await caughtUp('redemption');
    assert.deepEqual(
      (await indexed('redemption')).map((row) => ({ id: row.id, ledger: row.ledger })),
      chain,
      'every event once, in order, across the crash',
    );
  });

  it('a cursor outside the RPC’s retention window: the gap is recorded and reported, indexing resumes after it', async () => {
    await caughtUp('vesting');
    await killWorker();
    const cursor = await db.contractEventCursor.findUniqueOrThrow({ where: { contract: 'vesting' } });
    // While no worker runs: two events, then enough ledgers for the RPC to drop them and the cursor.
    const missed = [
      await invoke('vesting', 'create_schedule', [
        str('v-gap'),
        address(Keypair.random().publicKey()),
        i128(500_000_000n),
        u64(1_767_225_600n),
        u64(1_767_225_600n),
        u64(1_830_297_600n),
        u64(86_400n),
        nativeToScVal(true),
      ]),
      await invoke('vesting', 'revoke', [str('v-gap')]),
    ];
    const retention = 20;
    const shrink = await fetch(`${stellar.sandbox.url}/sandbox/rpc-retention`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ledgers: retention }),
    });
    assert.equal(shrink.status, 200);
    try {
      await eventually(
        async () => {
          const range = await stellar.gateway.rpcLedgerRange();
          return range.oldestLedger > missed[1]!.ledger + 1 ? true : undefined;
        },
        { what: 'the missed events to fall out of the retention window', timeoutMs: 30_000 },
      );
      await waitForOutput(startWorker(), /"msg":"worker started"/, 60_000);
      // An event after the gap, indexed as usual once the indexer has resumed.
      const later = await invoke('vesting', 'create_schedule', [
        str('v-after'),
        address(Keypair.random().publicKey()),
        i128(100_000_000n),
        u64(1_767_225_600n),
        u64(1_767_225_600n),
        u64(1_830_297_600n),
        u64(86_400n),
        nativeToScVal(false),
      ]);
      const gap = await eventually(
        async () => (await db.contractEventGap.findFirst({ where: { contract: 'vesting' } })) ?? undefined,
        { what: 'the gap', timeoutMs: 60_000 },
      );
      assert.equal(gap.fromLedger, cursor.nextLedger, 'from the first ledger the indexer had not read');
      assert.equal(gap.failureType, CONTRACT_EVENTS_OUTSIDE_RETENTION);
      for (const event of missed) {
        assert.ok(event.ledger >= gap.fromLedger && event.ledger <= gap.toLedger, `ledger ${event.ledger} in the gap`);
      }
      await eventually(
        async () =>
          (await db.contractEvent.count({ where: { contract: 'vesting', resourceId: 'v-after' } })) === 1
            ? true
            : undefined,
        { what: 'the event after the gap', timeoutMs: 60_000 },
      );
      const rows = await indexed('vesting');
      assert.ok(
        rows.every((row) => row.resourceId !== 'v-gap'),
        'the dropped events are not invented',
      );
      assert.ok(rows.some((row) => row.ledger === later.ledger));
      const description = await temporal.workflow.getHandle(contractIndexerWorkflowId('vesting', taskQueue)).describe();
      assert.deepEqual(description.typedSearchAttributes.get(searchAttributes.contractIndexerFailure), [
        CONTRACT_EVENTS_OUTSIDE_RETENTION,
      ]);
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(metrics, /nova_contract_indexer_gaps_total\{contract="vesting"\} 1/);
    } finally {
      await fetch(`${stellar.sandbox.url}/sandbox/rpc-retention`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ledgers: 120_960 }),
      });
    }
  });
});
