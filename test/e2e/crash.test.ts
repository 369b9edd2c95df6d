// Calls the API (in this process; the worker and the Temporal server are the processes killed)
// through the typed client (@nova/client).
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { TransactionBuilder, type Keypair, type Transaction } from '@stellar/stellar-sdk';
import { redemptionKeys, toStroops, vestingKeys, vestingReleaseMemo } from '@nova/domain';
import { issuanceMemo, redemptionQuoteMemo, redemptionRefundMemo, vestingMemoStem } from '@nova/domain/memos';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import type { NovaClient, Schemas } from '@nova/client';
import { platformSearchAttributes } from '@nova/workflows/definitions';
import { eventually, required, TEST_ADMIN_KEY, testApiConfig, uniqueTaskQueue } from '../support/environment';
import { devServerArgs, freePort } from '../support/launcher';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { spawnCollecting, waitForOutput, withTimeout, type Spawned } from '../support/processes';
import {
  createWallets,
  landedWithMemo,
  sandboxStellarConfig,
  startStellarFixture,
  type StellarFixture,
} from '../support/stellar';
import { WebhookReceiver } from '../support/webhook-receiver';
import { apiClient, expectStatus, idempotencyKey, listenForClients, runningCampaign } from '../support/api-client';

const root = resolve(__dirname, '..', '..');

// Crashes in the middle of a payment: the worker process killed right after submitting, and
// the Temporal server restarted mid-flight. Each time: one payment, issuance confirmed.
describe('crash recovery end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nova-crash-'));
  chmodSync(dir, 0o755);
  const taskQueue = uniqueTaskQueue('e2e-crash');
  let stellar: StellarFixture;
  // The worker process keeps its reconciler schedule on this file's Temporal server; it
  // re-drives what its database holds: this file's own.
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestExpressApplication;
  let temporalServer: Spawned | undefined;
  let workerProcess: Spawned | undefined;
  let temporalPort = 0;
  let uiPort = 0;
  let merchantKey = '';
  let campaignId = '';
  const receiver = new WebhookReceiver();
  let baseUrl = '';
  /** The merchant's calls (through the typed client); the admin's with `key`. */
  const as = (key = merchantKey): NovaClient => apiClient(baseUrl, key);

  async function startTemporal() {
    // As START runs it: a SQLite file, so a restart keeps the workflows.
    const args = devServerArgs({
      port: temporalPort,
      uiPort,
      dbFile: join(dir, 'temporal.db'),
      namespace: 'default',
      searchAttributes: platformSearchAttributes,
    });
    temporalServer = spawnCollecting(required('TEMPORAL_CLI_PATH'), args, process.env);
    await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${uiPort}/`).catch(() => undefined);
        return response?.ok ? true : undefined;
      },
      { what: 'Temporal dev server', timeoutMs: 60_000 },
    );
  }

  function startWorker() {
    workerProcess = spawnCollecting(process.execPath, [join(root, 'apps/worker/dist/main.js')], {
      PATH: process.env.PATH,
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      TEMPORAL_TASK_QUEUE: taskQueue,
      HORIZON_URL: stellar.sandbox.url,
      SOROBAN_RPC_URL: stellar.sandbox.rpcUrl,
      NETWORK_PASSPHRASE: stellar.sandbox.networkPassphrase,
      STELLAR_KEYS_FILE: join(stellar.sandbox.dataDir, 'keys.json'),
      STELLAR_CONTRACTS_FILE: join(stellar.sandbox.dataDir, 'contracts.json'),
      CHANNEL_POOL_SIZE: '8',
      LOG_LEVEL: 'info',
      WORKER_SHUTDOWN_GRACE_SECONDS: '2',
      // No metrics server: test files run two at a time, and another one's worker may hold 9464.
      WORKER_METRICS_PORT: '0',
      // The webhook receiver of the delivery crash listens on loopback.
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    });
    return workerProcess;
  }

  function issue(body: Schemas['CreateIssuanceRequest']) {
    return as().POST('/v1/rewards/issuances', { params: idempotencyKey(), body });
  }

  const issuance = (id: string) => as().GET('/v1/rewards/issuances/{id}', { params: { path: { id } } });

  async function issueAndWaitForSubmission(): Promise<string> {
    const [wallet] = await createWallets(stellar, 1);
    // Inclusion is delayed by a few ledgers, so the submission is in flight when the crash comes.
    stellar.sandbox.faults.add({
      kind: 'delayInclusion',
      count: 1,
      ledgers: 12,
      sourceAccount: stellar.distribution.publicKey(),
    });
    const accepted = await expectStatus(issue({ campaignId, walletAddress: wallet!.publicKey(), amount: '3' }), 202);
    const id = accepted.data!.id;
    await eventually(
      async () =>
        (await db.journalItem.count({
          where: { businessKey: `issuance/${id}`, transaction: { status: 'submitted' } },
        })) > 0
          ? true
          : undefined,
      { what: 'the payment to be submitted', timeoutMs: 60_000 },
    );
    return id;
  }

  async function confirmedOnce(id: string) {
    const view = await eventually(
      async () => {
        const current = (await expectStatus(issuance(id), 200)).data!;
        return current.status === 'confirmed' || current.status === 'failed' ? current : undefined;
      },
      { what: `issuance ${id} settled`, timeoutMs: 120_000 },
    );
    assert.equal(view.status, 'confirmed', JSON.stringify(view.failure));
    const landed = await landedWithMemo(stellar, issuanceMemo(id));
    assert.equal(landed.successful, 1, 'exactly one payment on the ledger');
  }

  /** A holder with NOVA from an issuance, and a paid-for redemption of a new item (its quote too). */
  async function redemptionOf(fulfilment: 'automatic' | 'manual', before?: (quoteId: string) => void) {
    const [wallet] = await createWallets(stellar, 1);
    const issued = await expectStatus(issue({ campaignId, walletAddress: wallet!.publicKey(), amount: '9' }), 202);
    await eventually(
      async () => {
        const { data: view } = await issuance(issued.data!.id);
        return view?.status === 'confirmed' ? true : undefined;
      },
      { what: 'the holder’s NOVA', timeoutMs: 60_000 },
    );
    const item = await expectStatus(
      as().POST('/v1/catalog/items', {
        params: idempotencyKey(),
        body: { name: 'Crash kit', price: '4', stock: 1, fulfilment, active: true },
      }),
      201,
    );
    const quote = await expectStatus(
      as().POST('/v1/redemptions/quotes', {
        params: idempotencyKey(),
        body: { itemId: item.data!.id, walletAddress: wallet!.publicKey() },
      }),
      201,
    );
    const quoted = quote.data!;
    const signed = TransactionBuilder.fromXDR(quoted.transactionXdr, quoted.networkPassphrase) as Transaction;
    signed.sign(wallet as Keypair);
    before?.(quoted.id);
    const accepted = await expectStatus(
      as().POST('/v1/redemptions', {
        params: idempotencyKey(),
        body: { quoteId: quoted.id, signedTransactionXdr: signed.toXDR() },
      }),
      202,
    );
    return { id: accepted.data!.id, quoteId: quoted.id, itemId: item.data!.id };
  }

  async function redemptionStatus(id: string, status: string, timeoutMs = 120_000) {
    return await eventually(
      async () => {
        const view = (await expectStatus(as().GET('/v1/redemptions/{id}', { params: { path: { id } } }), 200)).data!;
        assert.ok(
          view.status === status || !['fulfilled', 'refunded', 'failed'].includes(view.status),
          JSON.stringify(view),
        );
        return view.status === status ? view : undefined;
      },
      { what: `redemption ${id} ${status}`, timeoutMs },
    );
  }

  async function submitted(businessKey: string) {
    await eventually(
      async () =>
        (await db.journalItem.count({ where: { businessKey, transaction: { status: 'submitted' } } })) > 0
          ? true
          : undefined,
      { what: `${businessKey} submitted`, timeoutMs: 60_000 },
    );
  }

  async function killAndRestartWorker() {
    workerProcess!.child.kill('SIGKILL');
    await withTimeout(workerProcess!.exited, 10_000, 'worker death');
    const next = startWorker();
    await waitForOutput(next, /"msg":"worker started"/, 60_000);
  }

  beforeAll(async () => {
    await receiver.start();
    temporalPort = await freePort();
    uiPort = await freePort();
    await startTemporal();
    stellar = await startStellarFixture({ ledgerIntervalMs: 250, submitTimeoutMs: 30_000 });
    database = await createTestDatabase('e2e_crash');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 2 });
    const network = sandboxStellarConfig(stellar).network;
    const config = testApiConfig({
      taskQueue,
      databaseUrl: database.url,
      stellar: {
        ...network,
        redemptionContractId: stellar.sandbox.contracts.redemption!,
        vestingContractId: stellar.sandbox.contracts.vesting!,
      },
    });
    app = await createApp({ ...config, temporal: { ...config.temporal, address: `127.0.0.1:${temporalPort}` } });
    baseUrl = await listenForClients(app);
    const merchant = await expectStatus(as(TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: 'Crashy' } }), 201);
    merchantKey = merchant.data!.apiKey.key;
    campaignId = (await runningCampaign(as(), { name: 'c', budget: '100' })).id;
    const worker = startWorker();
    await waitForOutput(worker, /"msg":"worker started"/, 60_000);
  });

  afterAll(async () => {
    await app?.close();
    for (const spawned of [workerProcess, temporalServer]) {
      if (spawned && spawned.child.exitCode === null) {
        spawned.child.kill('SIGKILL');
        await spawned.exited;
      }
    }
    await db?.$disconnect();
    await database?.drop();
    await stellar?.stop();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the worker is killed right after submitting: a new worker finishes it, one payment', async () => {
    const id = await issueAndWaitForSubmission();
    workerProcess!.child.kill('SIGKILL');
    await withTimeout(workerProcess!.exited, 10_000, 'worker death');
    const next = startWorker();
    await waitForOutput(next, /"msg":"worker started"/, 60_000);
    await confirmedOnce(id);
    // The new worker looked the persisted envelope up before anything else: found it paid, or
    // (the kill came before the dead worker's request reached the network, which happens under
    // load) not found within its bound and resubmitted it. Either way: no second envelope.
    const envelopes = await db.journalTransaction.findMany({
      where: { items: { some: { businessKey: `issuance/${id}` } } },
      include: { attempts: { orderBy: { id: 'asc' } } },
    });
    assert.equal(envelopes.length, 1);
    const afterCrash = envelopes[0]!.attempts.filter((a) => a.action === 'lookup');
    assert.ok(afterCrash.length > 0, 'the new worker looked the envelope up');
    assert.ok(
      afterCrash.some((a) => a.outcome === 'found-successful') ||
        envelopes[0]!.attempts.filter((a) => a.action === 'submit').length >= 1,
      'found paid, or the same envelope submitted again',
    );
  });

  it('the worker is killed mid-delivery: a new worker delivers the event, none is lost', async () => {
    receiver.answer('/crash', { hang: true }, { status: 200 });
    const endpoint = await expectStatus(
      as().POST('/v1/webhooks/endpoints', {
        params: idempotencyKey(),
        body: { url: receiver.url('/crash'), events: ['*'] },
      }),
      201,
    );
    const sent = await expectStatus(
      as().POST('/v1/webhooks/endpoints/{id}/test', {
        params: { ...idempotencyKey(), path: { id: endpoint.data!.id } },
      }),
      202,
    );
    await eventually(async () => (receiver.on('/crash').length === 1 ? true : undefined), {
      what: 'the first attempt to be in flight',
      timeoutMs: 30_000,
    });
    workerProcess!.child.kill('SIGKILL');
    await withTimeout(workerProcess!.exited, 10_000, 'worker death');
    const next = startWorker();
    await waitForOutput(next, /"msg":"worker started"/, 60_000);
    const delivered = await eventually(
      async () => {
        const view = (
          await expectStatus(
            as().GET('/v1/webhooks/deliveries/{id}', { params: { path: { id: sent.data!.deliveryId } } }),
            200,
          )
        ).data!;
        return view.status === 'succeeded' ? view : undefined;
      },
      { what: 'the delivery after the crash', timeoutMs: 90_000 },
    );
    // The killed attempt never got an answer to record; the new worker's attempt is attempt 1.
    assert.deepEqual(
      delivered.attempts.map((a) => [a.number, a.responseStatus]),
      [[1, 200]],
    );
    const requests = receiver.on('/crash');
    assert.equal(requests.length, 2, 'sent again after the crash');
    assert.equal(requests[0]!.headers['webhook-id'], requests[1]!.headers['webhook-id'], 'the same event');
  });

  it('the worker is killed between payment and fulfilment: the new worker fulfils it, one payment', async () => {
    const redemption = await redemptionOf('manual');
    await redemptionStatus(redemption.id, 'paid');
    await killAndRestartWorker();
    await eventually(
      async () => {
        const fulfilled = await as().POST('/v1/redemptions/{id}/fulfil', {
          params: { ...idempotencyKey(), path: { id: redemption.id } },
        });
        return fulfilled.response.status === 202 ? true : undefined;
      },
      { what: 'the fulfilment taken by the new worker', timeoutMs: 120_000 },
    );
    const done = await redemptionStatus(redemption.id, 'fulfilled');
    assert.equal(done.stock, 'consumed');
    assert.equal((await landedWithMemo(stellar, redemptionQuoteMemo(redemption.quoteId))).successful, 1);
    assert.equal(
      await db.journalTransaction.count({
        where: { items: { some: { businessKey: redemptionKeys.payment(redemption.id) } } },
      }),
      1,
    );
  });

  it('the worker is killed while the payment waits for inclusion: the new worker looks the same envelope up, one payment', async () => {
    const redemption = await redemptionOf('automatic', (quoteId) =>
      stellar.sandbox.faults.add({ kind: 'delayInclusion', count: 1, ledgers: 12, memo: redemptionQuoteMemo(quoteId) }),
    );
    await submitted(redemptionKeys.payment(redemption.id));
    await killAndRestartWorker();
    await redemptionStatus(redemption.id, 'fulfilled');
    assert.equal((await landedWithMemo(stellar, redemptionQuoteMemo(redemption.quoteId))).successful, 1);
    const [envelope] = await db.journalTransaction.findMany({
      where: { items: { some: { businessKey: redemptionKeys.payment(redemption.id) } } },
      include: { attempts: true },
    });
    assert.ok(
      envelope!.attempts.some((a) => a.action === 'lookup'),
      'the new worker looked the envelope up',
    );
  });

  it('the worker is killed during the refund: one payment, one refund', async () => {
    const redemption = await redemptionOf('manual');
    await redemptionStatus(redemption.id, 'paid');
    // The refund's inclusion is delayed, so the kill lands while it is in flight.
    stellar.sandbox.faults.add({
      kind: 'delayInclusion',
      count: 1,
      ledgers: 12,
      memo: redemptionRefundMemo(redemption.id),
    });
    await eventually(
      async () => {
        const rejected = await as().POST('/v1/redemptions/{id}/reject', {
          params: { ...idempotencyKey(), path: { id: redemption.id } },
          body: { reason: 'crash test' },
        });
        return rejected.response.status === 202 ? true : undefined;
      },
      { what: 'the rejection taken', timeoutMs: 30_000 },
    );
    await submitted(redemptionKeys.refund(redemption.id));
    await killAndRestartWorker();
    const done = await redemptionStatus(redemption.id, 'refunded');
    assert.equal(done.stock, 'released');
    assert.equal((await landedWithMemo(stellar, redemptionQuoteMemo(redemption.quoteId))).successful, 1);
    const refunds = await landedWithMemo(stellar, redemptionRefundMemo(redemption.id));
    assert.deepEqual([refunds.count, refunds.successful], [1, 1], 'exactly one refund');
  });

  /** A schedule of seconds for a new wallet: releases at +3, +6, +9, +12 s from its start (1.5 NOVA each). */
  async function vestingSchedule() {
    const [wallet] = await createWallets(stellar, 1);
    const startAt = new Date((Math.floor(Date.now() / 1000) + 2) * 1000);
    const created = await expectStatus(
      as().POST('/v1/vesting-schedules', {
        params: idempotencyKey(),
        body: {
          campaignId,
          beneficiary: wallet!.publicKey(),
          totalAmount: '6',
          startAt: startAt.toISOString(),
          cliffAt: new Date(startAt.getTime() + 3_000).toISOString(),
          endAt: new Date(startAt.getTime() + 12_000).toISOString(),
          interval: 'PT3S',
          revocable: false,
        },
      }),
      202,
    );
    return { id: created.data!.id, wallet: wallet!.publicKey() };
  }

  async function vestingView(id: string) {
    return (await expectStatus(as().GET('/v1/vesting-schedules/{id}', { params: { path: { id } } }), 200)).data!;
  }

  /** Completed, the beneficiary holding the total to the stroop, and one landed payment per payment's key. */
  async function vestedOnce(schedule: { id: string; wallet: string }) {
    const done = await eventually(
      async () => {
        const view = await vestingView(schedule.id);
        return view.status === 'completed' ? view : undefined;
      },
      { what: `vesting schedule ${schedule.id} completed`, timeoutMs: 120_000 },
    );
    assert.equal(done.releasedAmount, '6.0000000');
    const account = await fetch(`${stellar.sandbox.url}/accounts/${schedule.wallet}`).then(
      (r) => r.json() as Promise<{ balances: { asset_code?: string; balance: string }[] }>,
    );
    const nova = account.balances.find((b) => b.asset_code === stellar.sandbox.asset.code);
    assert.equal(toStroops(nova!.balance), toStroops('6'), 'the ledger: the total, nothing doubled or lost');
    // Releases paid together (due at once while no worker ran) share the payment keyed by the newest of them.
    const newestOf = new Map<string, number>();
    for (const release of done.releases) {
      assert.equal(release.status, 'paid');
      newestOf.set(release.txHash!, Math.max(newestOf.get(release.txHash!) ?? 0, release.number));
    }
    for (const release of done.releases) {
      const payments = await db.journalItem.count({
        where: { businessKey: vestingKeys.release(schedule.id, release.number), transaction: { status: 'landed' } },
      });
      const keyed = newestOf.get(release.txHash!) === release.number;
      assert.equal(
        payments,
        keyed ? 1 : 0,
        `release ${release.number}: ${keyed ? 'one payment' : 'paid with a later one'}`,
      );
    }
    return done;
  }

  it('the worker is killed between vesting releases: the new worker pays the rest, each once', async () => {
    const schedule = await vestingSchedule();
    await eventually(async () => ((await vestingView(schedule.id)).releases[0]?.status === 'paid' ? true : undefined), {
      what: 'the first release paid',
      timeoutMs: 60_000,
    });
    await killAndRestartWorker();
    await vestedOnce(schedule);
  });

  it('the worker is killed during a vesting release: the new worker looks the payment up, paid once', async () => {
    const schedule = await vestingSchedule();
    // The second release's inclusion is delayed, so the kill lands while it is in flight.
    stellar.sandbox.faults.add({
      kind: 'delayInclusion',
      count: 1,
      ledgers: 12,
      memo: vestingReleaseMemo(vestingMemoStem(schedule.id), 2),
    });
    await submitted(vestingKeys.release(schedule.id, 2));
    await killAndRestartWorker();
    await vestedOnce(schedule);
    const [payment] = await db.journalTransaction.findMany({
      where: { items: { some: { businessKey: vestingKeys.release(schedule.id, 2) } } },
      include: { attempts: true },
    });
    assert.ok(
      payment!.attempts.some((a) => a.action === 'lookup'),
      'the new worker looked the payment up before anything else',
    );
  });

  it('the Temporal server restarts mid-flight: the workflow resumes from its history, one payment', async () => {
    const id = await issueAndWaitForSubmission();
    temporalServer!.child.kill('SIGTERM');
    await withTimeout(temporalServer!.exited, 30_000, 'Temporal server stop');
    await startTemporal();
    await confirmedOnce(id);
  });
});
