import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Keypair } from '@stellar/stellar-sdk';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  campaignWorkflowId,
  issuanceWorkflowId,
  reconciliationWorkflowId,
  redemptionWorkflowId,
  vestingWorkflowId,
} from '@nova/domain';
import { vestingMemoStem } from '@nova/domain/memos';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { createReconcilerActivities, WebhookRelay, type ReconcileBatch } from '@nova/activities';
import { WorkflowHandoffs } from '@nova/workflows/client';
import { searchAttributes } from '@nova/workflows/definitions';
import { required, uniqueTaskQueue } from '../support/environment';
import { createTestDatabase, type TestDatabase } from '../support/database';

// The reconciler's steps on a real PostgreSQL database of their own and the real Temporal dev
// server. No worker polls the task queue: what a step starts or signals is only recorded by
// Temporal, which is what the assertions read.
describe('reconciler activities', () => {
  let database: TestDatabase;
  let db: PrismaClient;
  let temporal: Client;
  const taskQueue = uniqueTaskQueue('activity-reconciler');
  const contractId = 'CBINQWUJC6J3VHLG2CCD5E5TYZWNBLGC52HLUE6JBHE5TKHBGLTDXRI6';
  const started: string[] = [];
  let merchantId: string;
  let campaignId: string;
  const environment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const hourAgo = () => new Date(Date.now() - 3_600_000);

  function activities(options: { campaignSync: boolean } = { campaignSync: true }) {
    const handoffs = new WorkflowHandoffs(temporal, {
      taskQueue,
      webhookTaskQueue: `${taskQueue}-webhooks`,
      paymentBudgetSeconds: 60,
      fulfilmentDeadlineSeconds: 3_600,
      vestingRetry: { retryDelaysSeconds: [5, 50], stalledRetrySeconds: 500 },
      assetCode: 'NOVA',
      campaignContractId: contractId,
    });
    return createReconcilerActivities({
      db,
      handoffs,
      relay: new WebhookRelay(db, handoffs),
      ...(options.campaignSync ? { campaignContractId: contractId } : {}),
    });
  }

  async function issuance(data: { attempts?: number; status?: string; startRecordedAt?: Date } = {}) {
    const id = randomUUID();
    await db.issuance.create({
      data: {
        id,
        merchantId,
        campaignId,
        walletAddress: Keypair.random().publicKey(),
        amountStroops: 10_000_000n,
        idempotencyKey: randomUUID(),
        idempotencyClaimId: randomUUID(),
        requestId: `req-${id.slice(0, 8)}`,
        workflowId: issuanceWorkflowId(id),
        attempts: data.attempts ?? 0,
        status: data.status ?? 'pending',
        workflowStart: { create: { createdAt: data.startRecordedAt ?? hourAgo() } },
      },
    });
    started.push(issuanceWorkflowId(id));
    return id;
  }

  const owed = async (id: string) => (await db.issuanceWorkflowStart.count({ where: { issuanceId: id } })) === 1;
  const exists = (workflowId: string) =>
    temporal.workflow
      .getHandle(workflowId)
      .describe()
      .then(
        () => true,
        (error: unknown) => {
          if (error instanceof WorkflowNotFoundError) return false;
          throw error;
        },
      );

  beforeAll(async () => {
    database = await createTestDatabase('activity_reconciler');
    db = createPrismaClient({ databaseUrl: database.url, poolSize: 2 });
    temporal = new Client({ connection: await Connection.connect({ address: required('TEMPORAL_ADDRESS') }) });
    merchantId = randomUUID();
    campaignId = randomUUID();
    await db.merchant.create({ data: { id: merchantId, name: 'Reconciled' } });
    await db.campaign.create({
      data: {
        id: campaignId,
        merchantId,
        name: 'c',
        budgetStroops: 1_000_000_000n,
        startsAt: new Date('2026-01-01T00:00:00Z'),
        endsAt: new Date('2030-01-01T00:00:00Z'),
      },
    });
  });
  afterAll(async () => {
    for (const workflowId of started) {
      await temporal?.workflow
        .getHandle(workflowId)
        .terminate('end of test')
        .catch(() => undefined);
    }
    await temporal?.connection.close();
    await db?.$disconnect();
    await database?.drop();
  });

  /** A redemption accepted an hour ago whose workflow start did not go through (handed_off_at null). */
  async function redemptionLeftBehind(): Promise<string> {
    const item = await db.catalogItem.create({
      data: {
        id: randomUUID(),
        merchantId,
        name: 'i',
        priceStroops: 50_000_000n,
        stock: 3,
        reserved: 1,
        fulfilment: 'manual',
      },
    });
    const quote = await db.redemptionQuote.create({
      data: {
        id: randomUUID(),
        merchantId,
        itemId: item.id,
        walletAddress: Keypair.random().publicKey(),
        priceStroops: item.priceStroops,
        destination: Keypair.random().publicKey(),
        sequence: 2n ** 40n + 1n,
        memo: 'nvq:test',
        txHash: randomUUID().replace(/-/g, '').repeat(2),
        envelopeXdr: 'AAAA',
        expiresAt: new Date(Date.now() + 300_000),
      },
    });
    const id = randomUUID();
    await db.redemption.create({
      data: {
        id,
        merchantId,
        quoteId: quote.id,
        itemId: item.id,
        walletAddress: quote.walletAddress,
        priceStroops: quote.priceStroops,
        fulfilment: 'manual',
        signedEnvelopeXdr: 'AAAA-signed',
        workflowId: redemptionWorkflowId(id),
        createdAt: hourAgo(),
      },
    });
    started.push(redemptionWorkflowId(id));
    return id;
  }

  it('starts a redemption whose start was lost, with its input from the row; marks it handed off; a second pass has nothing to do', async () => {
    const id = await redemptionLeftBehind();
    const step = activities().reconcileRedemptionStarts;
    const first = (await environment().run(step, { afterSeconds: 60, batchSize: 10 })) as ReconcileBatch;
    assert.deepEqual(first, { seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 });
    const row = await db.redemption.findUniqueOrThrow({ where: { id } });
    assert.ok(row.handedOffAt, 'marked handed off');
    const handle = temporal.workflow.getHandle(redemptionWorkflowId(id));
    const description = await handle.describe();
    assert.equal(description.type, 'redemptionWorkflow');
    assert.equal(description.searchAttributes[searchAttributes.redemptionStatus.name]?.[0], 'pending');
    const history = await handle.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payload = JSON.parse(Buffer.from(started!.input!.payloads![0]!.data!).toString()) as Record<string, unknown>;
    assert.deepEqual(
      [payload.priceStroops, payload.fulfilment, payload.signedEnvelopeXdr, payload.fulfilmentDeadlineSeconds],
      ['50000000', 'manual', 'AAAA-signed', 3_600],
    );
    const second = (await environment().run(step, { afterSeconds: 60, batchSize: 10 })) as ReconcileBatch;
    assert.deepEqual(second, { seen: 0, redriven: 0, alreadyTaken: 0, failed: 0 });

    // A start Temporal already has (the API's went through, its mark did not): taken, marked, no second run.
    await db.redemption.update({ where: { id }, data: { handedOffAt: null } });
    const again = (await environment().run(step, { afterSeconds: 60, batchSize: 10 })) as ReconcileBatch;
    assert.deepEqual(again, { seen: 1, redriven: 0, alreadyTaken: 1, failed: 0 });
    assert.ok((await db.redemption.findUniqueOrThrow({ where: { id } })).handedOffAt);
  });

  it('starts a vesting schedule whose start was lost, with its terms from the row; marks it handed off; a repeat is taken', async () => {
    const id = randomUUID();
    const beneficiary = Keypair.random().publicKey();
    await db.vestingSchedule.create({
      data: {
        id,
        merchantId,
        campaignId,
        beneficiary,
        totalStroops: 120_000_000n,
        startAt: new Date('2027-01-01T00:00:00Z'),
        cliffAt: new Date('2028-01-01T00:00:00Z'),
        endAt: new Date('2031-01-01T00:00:00Z'),
        interval: 'P1M',
        revocable: true,
        workflowId: vestingWorkflowId(id),
        createdAt: hourAgo(),
      },
    });
    started.push(vestingWorkflowId(id));
    const step = activities().reconcileVestingStarts;
    const first = (await environment().run(step, { afterSeconds: 60, batchSize: 10 })) as ReconcileBatch;
    assert.deepEqual(first, { seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 });
    assert.ok((await db.vestingSchedule.findUniqueOrThrow({ where: { id } })).handedOffAt, 'marked handed off');
    const handle = temporal.workflow.getHandle(vestingWorkflowId(id));
    const description = await handle.describe();
    assert.equal(description.type, 'vestingWorkflow');
    assert.equal(description.searchAttributes[searchAttributes.vestingStatus.name]?.[0], 'active');
    const history = await handle.fetchHistory();
    const startedEvent = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payload = JSON.parse(Buffer.from(startedEvent!.input!.payloads![0]!.data!).toString()) as Record<
      string,
      unknown
    >;
    assert.deepEqual(
      [payload.beneficiary, payload.totalStroops, payload.cliffAt, payload.interval, payload.memoStem],
      [beneficiary, '120000000', '2028-01-01T00:00:00.000Z', 'P1M', vestingMemoStem(id)],
    );
    assert.deepEqual([payload.retryDelaysSeconds, payload.stalledRetrySeconds], [[5, 50], 500]);

    await db.vestingSchedule.update({ where: { id }, data: { handedOffAt: null } });
    const again = (await environment().run(step, { afterSeconds: 60, batchSize: 10 })) as ReconcileBatch;
    assert.deepEqual(again, { seen: 1, redriven: 0, alreadyTaken: 1, failed: 0 }, 'no second keeper');
  });

  it("starts an admin's reconciliation whose start was lost, with its window; marks it handed off; a duplicate is taken", async () => {
    const id = randomUUID();
    await db.reconciliation.create({
      data: {
        id,
        trigger: 'admin',
        windowFrom: new Date('2026-11-30T00:00:00.000Z'),
        windowTo: new Date('2026-12-01T00:00:00.000Z'),
        workflowId: reconciliationWorkflowId(id),
        idempotencyKey: `reconcile-${id}`,
        requestId: `req-${id.slice(0, 8)}`,
        createdAt: hourAgo(),
      },
    });
    started.push(reconciliationWorkflowId(id));
    const step = activities().reconcileReconciliationStarts;
    const first = (await environment().run(step, { afterSeconds: 60, batchSize: 10 })) as ReconcileBatch;
    assert.deepEqual(first, { seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 });
    assert.ok((await db.reconciliation.findUniqueOrThrow({ where: { id } })).handedOffAt, 'marked handed off');
    const handle = temporal.workflow.getHandle(reconciliationWorkflowId(id));
    assert.equal((await handle.describe()).type, 'chainReconciliationWorkflow');
    const history = await handle.fetchHistory();
    const startEvent = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payload = JSON.parse(Buffer.from(startEvent!.input!.payloads![0]!.data!).toString()) as Record<
      string,
      unknown
    >;
    assert.deepEqual(payload, {
      trigger: 'admin',
      reconciliationId: id,
      from: '2026-11-30T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
    });
    assert.deepEqual((await environment().run(step, { afterSeconds: 60, batchSize: 10 })) as ReconcileBatch, {
      seen: 0,
      redriven: 0,
      alreadyTaken: 0,
      failed: 0,
    });
    // The API's start went through but its mark did not: taken, marked, no second run.
    await db.reconciliation.update({ where: { id }, data: { handedOffAt: null } });
    const again = (await environment().run(step, { afterSeconds: 60, batchSize: 10 })) as ReconcileBatch;
    assert.deepEqual(again, { seen: 1, redriven: 0, alreadyTaken: 1, failed: 0 });
    assert.ok((await db.reconciliation.findUniqueOrThrow({ where: { id } })).handedOffAt);
  });

  it('starts the first run of an issuance left behind, as the API would have; a repeat is refused and clears the row', async () => {
    const id = await issuance();
    const step = activities().reconcileIssuanceStarts;
    const first = (await environment().run(step, { afterSeconds: 60, batchSize: 10 })) as ReconcileBatch;
    assert.deepEqual(first, { seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 });
    assert.equal(await owed(id), false);
    const description = await temporal.workflow.getHandle(issuanceWorkflowId(id)).describe();
    assert.equal(description.type, 'issuanceWorkflow');
    assert.equal(description.taskQueue, taskQueue);
    assert.equal(description.typedSearchAttributes.get(searchAttributes.requestId), `req-${id.slice(0, 8)}`);
    assert.equal(description.typedSearchAttributes.get(searchAttributes.issuanceStatus), 'pending');

    // The row again (an API that cleared nothing): Temporal refuses the duplicate, the row goes.
    await db.issuanceWorkflowStart.create({ data: { issuanceId: id, createdAt: hourAgo() } });
    const again = (await environment().run(step, { afterSeconds: 60, batchSize: 10 })) as ReconcileBatch;
    assert.deepEqual(again, { seen: 1, redriven: 0, alreadyTaken: 1, failed: 0 });
    assert.equal(await owed(id), false);
    assert.equal((await temporal.workflow.count(`WorkflowId = '${issuanceWorkflowId(id)}'`)).count, 1);
  });

  it('leaves young rows to the API, and only clears the rows of issuances whose run has begun', async () => {
    const young = await issuance({ startRecordedAt: new Date() });
    const begun = await issuance({ attempts: 1 });
    const failed = await issuance({ attempts: 1, status: 'failed' });
    const batch = (await environment().run(activities().reconcileIssuanceStarts, {
      afterSeconds: 60,
      batchSize: 10,
    })) as ReconcileBatch;
    assert.deepEqual(batch, { seen: 2, redriven: 0, alreadyTaken: 2, failed: 0 });
    assert.deepEqual([await owed(young), await owed(begun), await owed(failed)], [true, false, false]);
    for (const id of [young, begun, failed]) assert.equal(await exists(issuanceWorkflowId(id)), false);
    await db.issuanceWorkflowStart.delete({ where: { issuanceId: young } });
  });

  it('takes the oldest first, a batch at a time, from the cursor it returns', async () => {
    const ids = [
      await issuance({ startRecordedAt: new Date(Date.now() - 3_000_000) }),
      await issuance({ startRecordedAt: new Date(Date.now() - 2_000_000) }),
      await issuance({ startRecordedAt: new Date(Date.now() - 1_000_000) }),
    ];
    const step = activities().reconcileIssuanceStarts;
    const first = (await environment().run(step, { afterSeconds: 60, batchSize: 2 })) as ReconcileBatch;
    assert.equal(first.redriven, 2);
    assert.ok(first.next, 'a full batch points at the next one');
    assert.deepEqual([await owed(ids[0]!), await owed(ids[1]!), await owed(ids[2]!)], [false, false, true]);
    const second = (await environment().run(step, {
      afterSeconds: 60,
      batchSize: 2,
      cursor: first.next,
    })) as ReconcileBatch;
    assert.deepEqual(second, { seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 });
    assert.equal(await owed(ids[2]!), false);
  });

  it('signals a campaign change nobody told its workflow about; nothing while campaign sync is off', async () => {
    await db.$transaction([
      db.campaignChainChange.create({
        data: {
          campaignId,
          seq: 1,
          kind: 'register',
          budgetStroops: 1_000_000_000n,
          startsAt: new Date('2026-01-01T00:00:00Z'),
          endsAt: new Date('2030-01-01T00:00:00Z'),
          createdAt: hourAgo(),
        },
      }),
      db.campaign.update({ where: { id: campaignId }, data: { chainChangeSeq: 1, onChainStatus: 'pending' } }),
    ]);
    started.push(campaignWorkflowId(campaignId));
    const off = (await environment().run(activities({ campaignSync: false }).reconcileCampaignChanges, {
      afterSeconds: 60,
      batchSize: 10,
    })) as ReconcileBatch;
    assert.deepEqual(off, { seen: 0, redriven: 0, alreadyTaken: 0, failed: 0 });
    assert.equal(await exists(campaignWorkflowId(campaignId)), false);

    const on = (await environment().run(activities().reconcileCampaignChanges, {
      afterSeconds: 60,
      batchSize: 10,
    })) as ReconcileBatch;
    assert.deepEqual(on, { seen: 1, redriven: 1, alreadyTaken: 0, failed: 0 });
    const handle = temporal.workflow.getHandle(campaignWorkflowId(campaignId));
    const description = await handle.describe();
    assert.deepEqual(
      [description.type, description.taskQueue, description.status.name],
      ['campaignWorkflow', taskQueue, 'RUNNING'],
    );
    const history = await handle.fetchHistory();
    const signals = (history.events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes);
    assert.deepEqual(
      signals.map((event) => event.workflowExecutionSignaledEventAttributes?.signalName),
      ['campaignChange'],
    );
  });
});
