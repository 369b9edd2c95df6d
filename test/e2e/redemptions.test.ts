// Calls the API through the typed client (@nova/client): every request here, the refused ones
// included, is one the document's types allow.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Account,
  Asset,
  Contract,
  Horizon,
  Keypair,
  Memo,
  nativeToScVal,
  Operation,
  rpc,
  scValToNative,
  TransactionBuilder,
  type Transaction,
  type xdr,
} from '@stellar/stellar-sdk';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { domainMetrics, merchantChainAddress } from '@nova/activities';
import { toStroops } from '@nova/domain';
import { redemptionQuoteMemo, redemptionRefundMemo } from '@nova/domain/memos';
import { DEFAULT_NETWORK_PASSPHRASE } from '@nova/stellar-sandbox';
import type { NovaClient, Schemas } from '@nova/client';
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
  TEST_ADMIN_KEY,
  testApiConfig,
  testWorkerConfig,
  uniqueTaskQueue,
} from '../support/environment';
import { contractHostBinary, startContractHost, type RunningContractHost } from '../support/contract-host';
import { createTestDatabase, type TestDatabase } from '../support/database';
import {
  createWallets,
  landedWithMemo,
  sandboxStellarConfig,
  startStellarFixture,
  type StellarFixture,
} from '../support/stellar';
import {
  apiClient,
  expectStatus,
  fieldsOf,
  idempotencyKey,
  listenForClients,
  reasonOf,
  runningCampaign,
} from '../support/api-client';

quietTemporalRuntime();

type QuoteView = Schemas['QuoteView'];

type RedemptionView = Schemas['RedemptionView'];

type ItemView = Schemas['CatalogItemView'];

const FINAL = ['fulfilled', 'refunded', 'failed'];
/** Manual items not decided within this are refunded (short, so the deadline test runs in seconds). */
const FULFILMENT_DEADLINE_SECONDS = 20;

// Redemptions on the real stack: API -> Temporal dev server -> worker -> Stellar sandbox (Horizon
// for the holder's payment and the refund) -> the REAL redemption contract (nova-contract-host).
describe('redemptions, end to end', () => {
  const binary = contractHostBinary();
  if (!binary) {
    /* skipped: no nova-contract-host binary: run npm run setup */ it.skip('redeems', () => undefined);
    return;
  }
  let stateDir: string;
  let host: RunningContractHost;
  let stellar: StellarFixture;
  let horizon: Horizon.Server;
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestExpressApplication;
  let connection: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  let contractId: string;
  const taskQueue = uniqueTaskQueue('e2e-redemptions');
  let baseUrl: string;
  const as = (key?: string): NovaClient => apiClient(baseUrl, key);
  let merchant: { id: string; key: string };
  let campaignId: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'nova-redemptions-'));
    host = await startContractHost({
      binary,
      statePath: join(stateDir, 'contracts-state.json'),
      networkPassphrase: DEFAULT_NETWORK_PASSPHRASE,
    });
    stellar = await startStellarFixture({ ledgerIntervalMs: 250, contractHost: { url: host.url } });
    assert.equal(stellar.sandbox.contractRuntime, 'native');
    contractId = stellar.sandbox.contracts.redemption!;
    horizon = new Horizon.Server(stellar.sandbox.url, { allowHttp: true });
    const sandbox = sandboxStellarConfig(stellar);
    const stellarConfig = { ...sandbox, network: { ...sandbox.network, redemptionContractId: contractId } };
    database = await createTestDatabase('e2e_redemptions');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 5 });
    const workerConfig = testWorkerConfig({
      taskQueue,
      databaseUrl: database.url,
      stellar: stellarConfig,
      fulfilmentDeadlineSeconds: FULFILMENT_DEADLINE_SECONDS,
    });
    connection = await connectToTemporal(workerConfig);
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
    app = await createApp(
      testApiConfig({
        taskQueue,
        databaseUrl: database.url,
        stellar: stellarConfig.network,
        quoteTtlSeconds: 120,
        fulfilmentDeadlineSeconds: FULFILMENT_DEADLINE_SECONDS,
      }),
    );
    baseUrl = await listenForClients(app);
    const created = await expectStatus(
      as(TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: `Redemption shop ${randomUUID().slice(0, 6)}` } }),
      201,
    );
    merchant = { id: created.data!.merchant.id, key: created.data!.apiKey.key };
    campaignId = (await runningCampaign(as(merchant.key), { name: 'Rewards to spend', budget: '100000' })).id;
  });
  afterAll(async () => {
    await app?.close();
    worker?.shutdown();
    await workerRun;
    await connection?.close();
    await db?.$disconnect();
    await database?.drop();
    await stellar?.stop();
    await host?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  async function item(body: Partial<Schemas['CreateCatalogItemRequest']> = {}): Promise<ItemView> {
    const created = as(merchant.key).POST('/v1/catalog/items', {
      params: idempotencyKey(),
      body: { name: 'Coffee', price: '25', stock: 10, fulfilment: 'automatic', active: true, ...body },
    });
    return (await expectStatus(created, 201)).data!;
  }

  async function itemNow(id: string): Promise<ItemView> {
    return (await expectStatus(as(merchant.key).GET('/v1/catalog/items/{id}', { params: { path: { id } } }), 200))
      .data!;
  }

  /** POST /v1/redemptions/quotes. */
  function quoteOf(body: Schemas['CreateQuoteRequest'], key = merchant.key) {
    return as(key).POST('/v1/redemptions/quotes', { params: idempotencyKey(), body });
  }

  /** POST /v1/redemptions. */
  function submit(body: Schemas['CreateRedemptionRequest'], key = merchant.key) {
    return as(key).POST('/v1/redemptions', { params: idempotencyKey(), body });
  }

  function fulfil(id: string, key = merchant.key) {
    return as(key).POST('/v1/redemptions/{id}/fulfil', { params: { ...idempotencyKey(), path: { id } } });
  }

  function reject(id: string, reason: string) {
    return as(merchant.key).POST('/v1/redemptions/{id}/reject', {
      params: { ...idempotencyKey(), path: { id } },
      body: { reason },
    });
  }

  const redemptionView = (id: string, key = merchant.key) =>
    as(key).GET('/v1/redemptions/{id}', { params: { path: { id } } });

  /** A holder: a funded account with the NOVA trustline and `nova` NOVA from a confirmed issuance. */
  async function holder(nova = '100'): Promise<Keypair> {
    const [wallet] = await createWallets(stellar, 1);
    const issued = await expectStatus(
      as(merchant.key).POST('/v1/rewards/issuances', {
        params: idempotencyKey(),
        body: { campaignId, walletAddress: wallet!.publicKey(), amount: nova },
      }),
      202,
    );
    await eventually(
      async () => {
        const { data: view } = await as(merchant.key).GET('/v1/rewards/issuances/{id}', {
          params: { path: { id: issued.data!.id } },
        });
        assert.notEqual(view?.status, 'failed', JSON.stringify(view?.failure));
        return view?.status === 'confirmed' ? view : undefined;
      },
      { what: 'the holder’s NOVA issued', timeoutMs: 60_000 },
    );
    return wallet!;
  }

  async function novaOf(account: string): Promise<bigint> {
    const record = await horizon.loadAccount(account);
    const line = record.balances.find((b) => 'asset_code' in b && b.asset_code === stellar.sandbox.asset.code) as
      Horizon.HorizonApi.BalanceLineAsset | undefined;
    return line ? toStroops(line.balance) : 0n;
  }

  async function quote(itemId: string, wallet: Keypair): Promise<QuoteView> {
    return (await expectStatus(quoteOf({ itemId, walletAddress: wallet.publicKey() }), 201)).data!;
  }

  function sign(transactionXdr: string, ...signers: Keypair[]): string {
    const transaction = TransactionBuilder.fromXDR(transactionXdr, stellar.sandbox.networkPassphrase) as Transaction;
    transaction.sign(...signers);
    return transaction.toXDR();
  }

  async function redeem(quoteView: QuoteView, wallet: Keypair): Promise<RedemptionView> {
    const response = await expectStatus(
      submit({ quoteId: quoteView.id, signedTransactionXdr: sign(quoteView.transactionXdr, wallet) }),
      202,
    );
    assert.equal(response.response.headers.get('location'), `/v1/redemptions/${response.data!.id}`);
    return response.data!;
  }

  async function redemption(id: string): Promise<RedemptionView> {
    return (await expectStatus(redemptionView(id), 200)).data!;
  }

  async function reaches(id: string, status: string, timeoutMs = 60_000): Promise<RedemptionView> {
    return await eventually(
      async () => {
        const view = await redemption(id);
        if (view.status !== status) {
          assert.ok(!FINAL.includes(view.status), `ended ${view.status}: ${JSON.stringify(view)}`);
          return undefined;
        }
        return view;
      },
      { what: `redemption ${id} ${status}`, timeoutMs },
    );
  }

  /** `get(id)` on the redemption contract, simulated through Soroban RPC. */
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

  /** Landed transactions carrying a memo, and how many succeeded. */
  async function landed(memo: string): Promise<{ count: number; successful: number }> {
    const { count, successful } = await landedWithMemo(stellar, memo);
    return { count, successful };
  }

  /** nova_redemptions_total{outcome} as this process's worker has counted it. */
  async function redemptionsCounted(outcome: string): Promise<number> {
    const metric = await domainMetrics.getSingleMetric('nova_redemptions_total')!.get();
    return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  }

  async function eventTypes(redemptionId: string): Promise<string[]> {
    const events = await db.outboxEvent.findMany({ where: { aggregateId: redemptionId }, orderBy: { id: 'asc' } });
    return events.map((e) => e.type);
  }

  it('automatic item: the holder signs the quote in their own wallet -> paid -> fulfilled; NOVA moves exactly once; confirmed on chain', async () => {
    const wallet = await holder('100');
    const coffee = await item({ price: '25', stock: 3 });
    const before = { holder: await novaOf(wallet.publicKey()), pool: await novaOf(stellar.distribution.publicKey()) };
    const quoted = await quote(coffee.id, wallet);
    assert.equal(quoted.price, '25.0000000');
    assert.equal(quoted.destination, stellar.distribution.publicKey());
    assert.equal(quoted.networkPassphrase, stellar.sandbox.networkPassphrase);
    const unsigned = TransactionBuilder.fromXDR(quoted.transactionXdr, quoted.networkPassphrase) as Transaction;
    assert.equal(unsigned.source, wallet.publicKey());
    assert.equal(unsigned.signatures.length, 0, 'the platform signs nothing of the holder’s');
    assert.equal(unsigned.memo.value?.toString(), redemptionQuoteMemo(quoted.id));
    assert.equal(Number(unsigned.timeBounds?.maxTime), Date.parse(quoted.expiresAt) / 1000);
    const account = await horizon.loadAccount(wallet.publicKey());
    assert.equal(BigInt(unsigned.sequence), BigInt(account.sequenceNumber()) + 1n);

    const fulfilledBefore = await redemptionsCounted('fulfilled');
    const accepted = await redeem(quoted, wallet);
    assert.equal(accepted.status, 'pending');
    assert.equal(accepted.stock, 'reserved');
    assert.equal((await itemNow(coffee.id)).reserved, 1);
    const done = await reaches(accepted.id, 'fulfilled');
    assert.equal(done.paymentTxHash, quoted.txHash, 'the envelope the holder signed is the one that landed');
    assert.equal(done.onChain, 'confirmed');
    assert.equal(done.stock, 'consumed');
    assert.equal(done.refundTxHash, null);
    assert.equal(await redemptionsCounted('fulfilled'), fulfilledBefore + 1, 'counted once, when it ended');
    assert.deepEqual(await itemNow(coffee.id), { ...(await itemNow(coffee.id)), stock: 2, reserved: 0, available: 2 });

    assert.equal(await novaOf(wallet.publicKey()), before.holder - toStroops('25'));
    assert.equal(await novaOf(stellar.distribution.publicKey()), before.pool + toStroops('25'));
    assert.deepEqual(await landed(redemptionQuoteMemo(quoted.id)), { count: 1, successful: 1 });
    const record = await onContract(accepted.id);
    assert.deepEqual(
      { status: record.status, holder: record.holder, merchant: record.merchant, amount: record.amount },
      {
        status: ['Confirmed'],
        holder: wallet.publicKey(),
        merchant: merchantChainAddress(merchant.id),
        amount: toStroops('25'),
      },
    );
    assert.deepEqual(await eventTypes(accepted.id), ['redemption.paid', 'redemption.fulfilled']);
    const fulfilled = await db.outboxEvent.findUniqueOrThrow({
      where: { dedupeKey: `redemption.fulfilled/${accepted.id}` },
    });
    assert.deepEqual(fulfilled.payload, { ...done, updatedAt: (fulfilled.payload as { updatedAt: string }).updatedAt });

    // An automatic item waits for nobody: the merchant's decision is refused.
    const refused = await expectStatus(fulfil(accepted.id), 409);
    assert.equal(reasonOf(refused.error), 'NotAwaitingFulfilment');
  });

  it('manual item rejected -> refunded: the holder’s balance is back, the unit released, the record cancelled', async () => {
    const wallet = await holder('40');
    const hamper = await item({ price: '30', stock: 1, fulfilment: 'manual' });
    const before = await novaOf(wallet.publicKey());
    const accepted = await redeem(await quote(hamper.id, wallet), wallet);
    const paid = await reaches(accepted.id, 'paid');
    assert.ok(paid.fulfilmentDeadline, 'a paid manual item shows its deadline');
    assert.equal(await novaOf(wallet.publicKey()), before - toStroops('30'));
    assert.equal((await itemNow(hamper.id)).available, 0, 'the last unit is held while the merchant decides');

    const decided = await eventually(
      async () => {
        const response = await reject(accepted.id, 'out of this colour');
        // 409 until the workflow waits for the decision (the read model says paid a moment before).
        return response.response.status === 202 ? response : undefined;
      },
      { what: 'the rejection taken' },
    );
    assert.equal(decided.data!.id, accepted.id);
    const refunded = await reaches(accepted.id, 'refunded');
    assert.deepEqual(refunded.refund, { reason: 'RejectedByMerchant', message: 'out of this colour' });
    assert.match(refunded.refundTxHash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(refunded.stock, 'released');
    assert.equal(refunded.onChain, 'cancelled');
    assert.equal(await novaOf(wallet.publicKey()), before);
    assert.deepEqual(await landed(redemptionRefundMemo(accepted.id)), { count: 1, successful: 1 });
    assert.deepEqual(await itemNow(hamper.id), { ...(await itemNow(hamper.id)), stock: 1, reserved: 0, available: 1 });
    const record = await onContract(accepted.id);
    assert.deepEqual([record.status, record.cancel_reason], [['Cancelled'], 'merchant_declined']);
    assert.deepEqual(await eventTypes(accepted.id), ['redemption.paid', 'redemption.refunded']);

    const again = await expectStatus(fulfil(accepted.id), 409);
    assert.equal(reasonOf(again.error), 'NotAwaitingFulfilment');
  });

  it('manual item fulfilled by the merchant; one left alone is refunded at its deadline', async () => {
    const wallet = await holder('100');
    const course = await item({ price: '10', stock: null, fulfilment: 'manual' });
    const kept = await redeem(await quote(course.id, wallet), wallet);
    await reaches(kept.id, 'paid');
    await eventually(async () => ((await fulfil(kept.id)).response.status === 202 ? true : undefined), {
      what: 'the fulfilment taken',
    });
    const forgotten = await redeem(await quote(course.id, wallet), wallet);
    const fulfilled = await reaches(kept.id, 'fulfilled');
    assert.equal(fulfilled.onChain, 'confirmed');
    const refunded = await reaches(forgotten.id, 'refunded', (FULFILMENT_DEADLINE_SECONDS + 60) * 1000);
    assert.equal(refunded.refund?.reason, 'FulfilmentDeadlinePassed');
    assert.deepEqual((await onContract(forgotten.id)).cancel_reason, 'expired');
    assert.equal(await novaOf(wallet.publicKey()), toStroops('90'), 'one paid for, one refunded');
  });

  /** Moves `amount` NOVA out of the wallet, in a transaction sourced by `source` (the wallet itself, or another account). */
  async function spend(wallet: Keypair, amount: string, source: Keypair = wallet): Promise<void> {
    const account = await horizon.loadAccount(source.publicKey());
    const transaction = new TransactionBuilder(account, {
      fee: '100',
      networkPassphrase: stellar.sandbox.networkPassphrase,
    })
      .addOperation(
        Operation.payment({
          source: wallet.publicKey(),
          destination: stellar.distribution.publicKey(),
          asset: new Asset(stellar.sandbox.asset.code, stellar.sandbox.asset.issuer),
          amount,
        }),
      )
      .setTimeout(60)
      .build();
    transaction.sign(...new Set([source, wallet]));
    await horizon.submitTransaction(transaction);
  }

  it('the holder spends the balance between quote and submission -> failed HolderUnderfunded, unit released, record cancelled, no refund', async () => {
    const wallet = await holder('20');
    const mug = await item({ price: '15', stock: 5 });
    const quoted = await quote(mug.id, wallet);
    // Spent in a transaction another account sources: the holder's sequence number stays, so the
    // quoted transaction is valid in every way but the balance.
    await spend(wallet, '10', stellar.distribution);
    const accepted = await redeem(quoted, wallet);
    const failed = await reaches(accepted.id, 'failed');
    assert.equal(failed.failure?.type, 'HolderUnderfunded', JSON.stringify(failed.failure));
    assert.equal(failed.stock, 'released');
    assert.equal(failed.onChain, 'cancelled');
    assert.equal(failed.alert, null);
    assert.equal(failed.refundTxHash, null);
    assert.equal((await itemNow(mug.id)).reserved, 0);
    assert.equal((await onContract(accepted.id)).cancel_reason, 'payment_failed');
    assert.deepEqual(await landed(redemptionRefundMemo(accepted.id)), { count: 0, successful: 0 });
    assert.equal(await novaOf(wallet.publicKey()), toStroops('10'));
    assert.deepEqual(await eventTypes(accepted.id), ['redemption.failed']);
    const admin = await expectStatus(
      as(TEST_ADMIN_KEY).GET('/v1/admin/redemptions', {
        params: { query: { status: 'failed', merchantId: merchant.id } },
      }),
      200,
    );
    assert.ok(admin.data!.data.some((r) => r.id === accepted.id));
  });

  it('the holder drops the trustline between quote and submission -> failed HolderTrustlineMissing, nothing refunded', async () => {
    const wallet = await holder('8');
    const mug = await item({ price: '8', stock: 5 });
    const quoted = await quote(mug.id, wallet);
    // All NOVA sent away and the trustline removed, in a transaction another account sources
    // (the holder's sequence number stays: only the trustline is missing).
    const account = await horizon.loadAccount(stellar.distribution.publicKey());
    const nova = new Asset(stellar.sandbox.asset.code, stellar.sandbox.asset.issuer);
    const drop = new TransactionBuilder(account, { fee: '100', networkPassphrase: stellar.sandbox.networkPassphrase })
      .addOperation(
        Operation.payment({
          source: wallet.publicKey(),
          destination: stellar.distribution.publicKey(),
          asset: nova,
          amount: '8',
        }),
      )
      .addOperation(Operation.changeTrust({ source: wallet.publicKey(), asset: nova, limit: '0' }))
      .setTimeout(60)
      .build();
    drop.sign(stellar.distribution, wallet);
    await horizon.submitTransaction(drop);
    const accepted = await redeem(quoted, wallet);
    const failed = await reaches(accepted.id, 'failed');
    assert.equal(failed.failure?.type, 'HolderTrustlineMissing', JSON.stringify(failed.failure));
    assert.deepEqual([failed.stock, failed.onChain, failed.refundTxHash], ['released', 'cancelled', null]);
    assert.deepEqual(await landed(redemptionRefundMemo(accepted.id)), { count: 0, successful: 0 });
  });

  it('the holder’s sequence number moved on (another transaction of theirs) -> failed SequenceMismatch at once, not at the time bound', async () => {
    const wallet = await holder('20');
    const mug = await item({ price: '5', stock: 5 });
    const quoted = await quote(mug.id, wallet);
    await spend(wallet, '1');
    const accepted = await redeem(quoted, wallet);
    const failed = await reaches(accepted.id, 'failed', 60_000);
    assert.equal(failed.failure?.type, 'SequenceMismatch', JSON.stringify(failed.failure));
    assert.ok(Date.now() < Date.parse(quoted.expiresAt), 'settled before the envelope’s own time bound');
    assert.equal(failed.stock, 'released');
    assert.equal(failed.onChain, 'cancelled');
    assert.equal(await novaOf(wallet.publicKey()), toStroops('19'));
  });

  /** The quoted transaction rebuilt with one part changed, signed by the holder. */
  function tampered(
    quoted: QuoteView,
    wallet: Keypair,
    change: Partial<{
      amount: string;
      destination: string;
      asset: Asset;
      memo: Memo;
      sequence: bigint;
      maxTime: number;
      fee: string;
      extra: xdr.Operation;
    }>,
  ): string {
    const original = TransactionBuilder.fromXDR(quoted.transactionXdr, quoted.networkPassphrase) as Transaction;
    const payment = original.operations[0] as Operation.Payment;
    const sequence = change.sequence ?? BigInt(original.sequence);
    const builder = new TransactionBuilder(new Account(wallet.publicKey(), (sequence - 1n).toString()), {
      fee: change.fee ?? original.fee,
      networkPassphrase: quoted.networkPassphrase,
      timebounds: { minTime: 0, maxTime: change.maxTime ?? Number(original.timeBounds!.maxTime) },
      memo: change.memo ?? original.memo,
    }).addOperation(
      Operation.payment({
        destination: change.destination ?? payment.destination,
        asset: change.asset ?? payment.asset,
        amount: change.amount ?? payment.amount,
      }),
    );
    if (change.extra) builder.addOperation(change.extra);
    const transaction = builder.build();
    transaction.sign(wallet);
    return transaction.toXDR();
  }

  it('refuses every envelope that is not exactly the quoted one signed by the holder, with nothing reserved', async () => {
    const wallet = await holder('50');
    const stranger = (await createWallets(stellar, 1))[0]!;
    const tea = await item({ price: '5', stock: 2 });
    const quoted = await quote(tea.id, wallet);
    const nova = new Asset(stellar.sandbox.asset.code, stellar.sandbox.asset.issuer);
    const maxTime = Date.parse(quoted.expiresAt) / 1000;
    const cases: [string, string, RegExp][] = [
      [
        'amount',
        tampered(quoted, wallet, { amount: '0.5' }),
        /another amount \(0\.5000000\) than the quote \(5\.0000000\)/,
      ],
      ['destination', tampered(quoted, wallet, { destination: stranger.publicKey() }), /another destination/],
      ['asset', tampered(quoted, wallet, { asset: new Asset('FAKE', stranger.publicKey()) }), /another asset/],
      ['memo', tampered(quoted, wallet, { memo: Memo.text('something else') }), /another memo/],
      [
        'sequence',
        tampered(quoted, wallet, {
          sequence:
            BigInt(
              (TransactionBuilder.fromXDR(quoted.transactionXdr, quoted.networkPassphrase) as Transaction).sequence,
            ) + 1n,
        }),
        /another sequence number/,
      ],
      ['time bounds', tampered(quoted, wallet, { maxTime: maxTime + 3600 }), /another time bounds/],
      ['fee', tampered(quoted, wallet, { fee: '20000' }), /another fee/],
      [
        'extra operation',
        tampered(quoted, wallet, {
          extra: Operation.payment({ destination: stranger.publicKey(), asset: nova, amount: '1' }),
        }),
        /has 2 operations; the quote has 1/,
      ],
    ];
    for (const [what, signedTransactionXdr, message] of cases) {
      const refused = await expectStatus(submit({ quoteId: quoted.id, signedTransactionXdr }), 409);
      assert.equal(reasonOf(refused.error), 'EnvelopeMismatch', what);
      assert.match(refused.error!.message, message, what);
    }
    const unsigned = await expectStatus(
      submit({ quoteId: quoted.id, signedTransactionXdr: quoted.transactionXdr }),
      409,
    );
    assert.equal(reasonOf(unsigned.error), 'NotSignedByHolder');
    const byStranger = await expectStatus(
      submit({ quoteId: quoted.id, signedTransactionXdr: sign(quoted.transactionXdr, stranger) }),
      409,
    );
    assert.equal(reasonOf(byStranger.error), 'NotSignedByHolder');
    const garbage = await expectStatus(submit({ quoteId: quoted.id, signedTransactionXdr: 'AAAA not xdr' }), 400);
    assert.equal(fieldsOf(garbage.error)[0], 'signedTransactionXdr');
    const unknown = await expectStatus(
      submit({ quoteId: randomUUID(), signedTransactionXdr: quoted.transactionXdr }),
      404,
    );
    assert.equal(fieldsOf(unknown.error)[0], 'quoteId');

    // Nothing was reserved or recorded, and the quote is still good.
    assert.equal((await itemNow(tea.id)).reserved, 0);
    assert.equal(await db.redemption.count({ where: { quoteId: quoted.id } }), 0);
    const accepted = await redeem(quoted, wallet);
    await reaches(accepted.id, 'fulfilled');
  });

  it('the same quote redeemed twice (one after the other, and at once) -> one redemption, one payment', async () => {
    const wallet = await holder('50');
    const tea = await item({ price: '5', stock: null });
    const quoted = await quote(tea.id, wallet);
    const signedTransactionXdr = sign(quoted.transactionXdr, wallet);
    const answers = await Promise.all([1, 2, 3].map(() => submit({ quoteId: quoted.id, signedTransactionXdr })));
    assert.deepEqual(answers.map((a) => a.response.status).sort(), [202, 409, 409]);
    for (const answer of answers.filter((a) => a.response.status === 409)) {
      assert.equal(reasonOf(answer.error), 'QuoteAlreadyUsed');
    }
    const later = await expectStatus(submit({ quoteId: quoted.id, signedTransactionXdr }), 409);
    assert.equal(reasonOf(later.error), 'QuoteAlreadyUsed');
    const accepted = answers.find((a) => a.response.status === 202)!.data!;
    await reaches(accepted.id, 'fulfilled');
    assert.equal(await db.redemption.count({ where: { quoteId: quoted.id } }), 1);
    assert.deepEqual(await landed(redemptionQuoteMemo(quoted.id)), { count: 1, successful: 1 });
    assert.equal((await itemNow(tea.id)).reserved, 0);
  });

  it('an expired quote is refused with nothing reserved', async () => {
    const wallet = await holder('50');
    const tea = await item({ price: '5', stock: 1 });
    const quoted = await quote(tea.id, wallet);
    await db.redemptionQuote.update({ where: { id: quoted.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const refused = await expectStatus(
      submit({ quoteId: quoted.id, signedTransactionXdr: sign(quoted.transactionXdr, wallet) }),
      409,
    );
    assert.equal(reasonOf(refused.error), 'QuoteExpired');
    assert.equal((await itemNow(tea.id)).reserved, 0);
  });

  it('two holders racing for the last unit: one is paid, the other gets 409 OutOfStock and pays nothing', async () => {
    const [alice, bob] = [await holder('50'), await holder('50')];
    const last = await item({ price: '7', stock: 1 });
    const quotes = [await quote(last.id, alice), await quote(last.id, bob)];
    const answers = await Promise.all(
      [alice, bob].map((wallet, i) =>
        submit({ quoteId: quotes[i]!.id, signedTransactionXdr: sign(quotes[i]!.transactionXdr, wallet) }),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.response.status).sort(),
      [202, 409],
      JSON.stringify(answers.map((a) => a.data ?? a.error)),
    );
    const loser = answers.findIndex((a) => a.response.status === 409);
    assert.equal(reasonOf(answers[loser]!.error), 'OutOfStock');
    const winner = answers[1 - loser]!.data!;
    await reaches(winner.id, 'fulfilled');
    assert.deepEqual(await landed(redemptionQuoteMemo(quotes[loser]!.id)), { count: 0, successful: 0 });
    assert.equal(await novaOf([alice, bob][loser]!.publicKey()), toStroops('50'));
    assert.deepEqual(await itemNow(last.id), { ...(await itemNow(last.id)), stock: 0, reserved: 0, available: 0 });
    // Sold out now: a quote is refused too.
    const sold = await expectStatus(quoteOf({ itemId: last.id, walletAddress: alice.publicKey() }), 409);
    assert.equal(reasonOf(sold.error), 'OutOfStock');
  });

  for (const kind of ['respond504ButApply', 'drop'] as const) {
    it(`the holder’s submission meets a ${kind} fault -> exactly one payment`, async () => {
      const wallet = await holder('50');
      const tea = await item({ price: '3', stock: null });
      const quoted = await quote(tea.id, wallet);
      const fault = stellar.sandbox.faults.add({ kind, count: 1, memo: redemptionQuoteMemo(quoted.id) });
      try {
        const accepted = await redeem(quoted, wallet);
        const done = await reaches(accepted.id, 'fulfilled', 90_000);
        assert.equal(done.paymentTxHash, quoted.txHash);
        // A fault with a count leaves the list once it has fired: the race with the fault happened.
        assert.ok(!stellar.sandbox.faults.list().some((f) => f.id === fault.id), 'the fault fired');
        const journaled = await db.journalTransaction.findUniqueOrThrow({
          where: { hash: quoted.txHash },
          include: { attempts: true },
        });
        assert.equal(journaled.source, 'external');
        assert.ok(journaled.attempts.length >= 2, 'the envelope was looked up or resubmitted after the fault');
        assert.deepEqual(await landed(redemptionQuoteMemo(quoted.id)), { count: 1, successful: 1 });
        assert.equal(await novaOf(wallet.publicKey()), toStroops('47'));
      } finally {
        stellar.sandbox.faults.clear();
      }
    });
  }

  it('quotes are refused when the item or the wallet cannot redeem, naming the reason', async () => {
    const rich = await holder('10');
    const [noTrust] = await createWallets(stellar, 1, { trustline: false });
    const tea = await item({ price: '20', stock: 5 });
    const closed = await item({ price: '1', stock: 5 });
    await expectStatus(
      as(merchant.key).PATCH('/v1/catalog/items/{id}', {
        params: { ...idempotencyKey(), path: { id: closed.id } },
        body: { active: false },
      }),
      200,
    );
    const reason = async (itemId: string, walletAddress: string) =>
      reasonOf((await expectStatus(quoteOf({ itemId, walletAddress }), 409)).error);
    assert.equal(await reason(tea.id, rich.publicKey()), 'InsufficientBalance');
    assert.equal(await reason(tea.id, noTrust!.publicKey()), 'TrustlineMissing');
    assert.equal(await reason(tea.id, Keypair.random().publicKey()), 'AccountNotFound');
    assert.equal(await reason(closed.id, rich.publicKey()), 'ItemInactive');
    await expectStatus(quoteOf({ itemId: randomUUID(), walletAddress: rich.publicKey() }), 404);
    const bad = await expectStatus(quoteOf({ itemId: tea.id, walletAddress: 'GNOPE' }), 400);
    assert.equal(fieldsOf(bad.error)[0], 'walletAddress');
    const platform = await expectStatus(
      quoteOf({ itemId: tea.id, walletAddress: stellar.distribution.publicKey() }),
      400,
    );
    assert.equal(fieldsOf(platform.error)[0], 'walletAddress');
    // The quotes resource is not a redemption id: GET there (read as the redemption "quotes",
    // GET /v1/redemptions/quotes on the wire) is 405, not "id must be a UUID".
    const notRead = await expectStatus(redemptionView('quotes'), 405);
    assert.equal(notRead.response.headers.get('allow'), 'POST');
  });

  it('other merchants see none of it', async () => {
    const other = await expectStatus(as(TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: 'Another shop' } }), 201);
    const key = other.data!.apiKey.key;
    const mine = await db.redemption.findFirstOrThrow({ where: { merchantId: merchant.id } });
    await expectStatus(redemptionView(mine.id, key), 404);
    await expectStatus(fulfil(mine.id, key), 404);
    const list = await expectStatus(as(key).GET('/v1/redemptions'), 200);
    assert.deepEqual(list.data!.data, []);
    const wallet = (await createWallets(stellar, 1))[0]!;
    const refused = await quoteOf({ itemId: mine.itemId, walletAddress: wallet.publicKey() }, key);
    assert.equal(refused.response.status, 404);
  });
});
