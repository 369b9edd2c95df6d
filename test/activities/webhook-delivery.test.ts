import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { webhookDeliveryWorkflowId, WEBHOOK_ENDPOINT_DISABLE_AFTER_SECONDS } from '@nova/domain';
import { parseWebhookAllowlist } from '@nova/domain/webhook-addresses';
import {
  createWebhookDeliveryActivities,
  domainMetrics,
  WebhookSender,
  type WebhookAttemptInput,
  type WebhookAttemptVerdict,
} from '@nova/activities';
import { required } from '../support/environment';
import { WebhookReceiver } from '../support/webhook-receiver';

// The attempt activity on a real PostgreSQL database, sending to a real receiver on loopback:
// what it records, the endpoint's health, its concurrency limit and what it never sends twice.
describe('webhook delivery attempt activity', () => {
  let db: PrismaClient;
  const receiver = new WebhookReceiver();
  let merchantId: string;
  let kicks = 0;
  /** A counter's value for exactly these labels (0 before its first increment). */
  async function counter(name: string, labels: Record<string, string>): Promise<number> {
    const metric = await domainMetrics.getSingleMetric(name)?.get();
    const same = (other: Record<string, unknown>) =>
      Object.keys(other).length === Object.keys(labels).length &&
      Object.entries(labels).every(([key, value]) => other[key] === value);
    return metric?.values.find((v) => same(v.labels))?.value ?? 0;
  }
  const attempts = (outcome: string) => counter('nova_webhook_attempts_total', { outcome });
  const ended = (status: string, failureType = '') =>
    counter('nova_webhook_deliveries_total', { status, failure_type: failureType });

  const environment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

  function activities(endpointConcurrency = 4) {
    return createWebhookDeliveryActivities({
      db,
      clock: { now: () => new Date() },
      webhooks: {
        sender: new WebhookSender({ allowlist: parseWebhookAllowlist('127.0.0.1'), timeoutMs: 5_000 }),
        relay: { kick: () => (kicks += 1) },
        endpointConcurrency,
        attemptTimeoutSeconds: 5,
      },
    });
  }

  async function delivery(path: string, endpoint: Record<string, unknown> = {}) {
    const endpointRow = await db.webhookEndpoint.create({
      data: {
        id: randomUUID(),
        merchantId,
        url: receiver.url(path),
        events: ['*'],
        secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
        ...endpoint,
      },
    });
    const event = await db.outboxEvent.create({
      data: {
        merchantId,
        type: 'webhook.test',
        aggregateId: endpointRow.id,
        dedupeKey: `test/${randomUUID()}`,
        endpointId: endpointRow.id,
        payload: { hello: 'world' },
        relayedAt: new Date(),
      },
    });
    const row = await db.webhookDelivery.create({
      data: {
        id: randomUUID(),
        eventId: event.id,
        endpointId: endpointRow.id,
        merchantId,
        eventType: 'webhook.test',
        workflowId: webhookDeliveryWorkflowId(event.id, endpointRow.id),
      },
    });
    return { endpoint: endpointRow, event, delivery: row };
  }

  const attempt = (
    input: Partial<WebhookAttemptInput> & { deliveryId: string },
    endpointConcurrency?: number,
  ): Promise<WebhookAttemptVerdict> =>
    environment().run(activities(endpointConcurrency).attemptWebhookDelivery, {
      run: 1,
      attempt: 1,
      plannedRetrySeconds: 5,
      ...input,
    });

  beforeAll(async () => {
    await receiver.start();
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 4 });
    merchantId = randomUUID();
    await db.merchant.create({ data: { id: merchantId, name: 'Hooked' } });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await receiver.stop();
  });

  it('records a delivered attempt and clears the endpoint’s failure streak', async () => {
    const { delivery: row, endpoint } = await delivery('/ok', { failingSince: new Date(Date.now() - 3_600_000) });
    const [delivered, succeeded] = [await attempts('delivered'), await ended('succeeded')];
    const verdict = await attempt({ deliveryId: row.id });
    assert.deepEqual(verdict, { kind: 'delivered', status: 200 });
    assert.equal(await attempts('delivered'), delivered + 1, 'the attempt is counted');
    assert.equal(await ended('succeeded'), succeeded + 1, 'the delivery ended, counted');
    const settled = await db.webhookDelivery.findUniqueOrThrow({
      where: { id: row.id },
      include: { attemptLog: true },
    });
    assert.equal(settled.status, 'succeeded');
    assert.equal(settled.attempts, 1);
    assert.equal(settled.attemptLog[0]!.responseStatus, 200);
    const after = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    assert.equal(after.failingSince, null);
    assert.ok(after.lastSuccessAt);
    assert.equal(await db.webhookEndpointLease.count({ where: { endpointId: endpoint.id } }), 0, 'lease released');
  });

  it('never sends an attempt it has recorded again (the activity retried after its record)', async () => {
    receiver.answer('/once', { status: 500 });
    const { delivery: row } = await delivery('/once');
    const answered = await attempts('status');
    const first = await attempt({ deliveryId: row.id, plannedRetrySeconds: 300 });
    assert.equal(first.kind, 'retry');
    const again = await attempt({ deliveryId: row.id, plannedRetrySeconds: 300 });
    assert.equal(await attempts('status'), answered + 1, 'one attempt sent, one counted');
    assert.equal(again.kind, 'retry');
    assert.ok(again.kind === 'retry' && again.waitSeconds > 290 && again.waitSeconds <= 300, JSON.stringify(again));
    assert.equal(receiver.on('/once').length, 1);
    assert.equal((await db.webhookDelivery.findUniqueOrThrow({ where: { id: row.id } })).attempts, 1);

    receiver.answer('/once-ok', { status: 204 });
    const { delivery: done } = await delivery('/once-ok');
    assert.deepEqual(await attempt({ deliveryId: done.id }), { kind: 'delivered', status: 204 });
    const succeeded = await ended('succeeded');
    assert.deepEqual(
      await attempt({ deliveryId: done.id }),
      { kind: 'delivered', status: 204 },
      'the recorded answer, not sent again',
    );
    assert.equal(receiver.on('/once-ok').length, 1);
    assert.equal(await ended('succeeded'), succeeded, 'the recorded answer is not counted again');
  });

  it('fails RetriesExhausted on the last attempt, with the last error', async () => {
    receiver.answer('/last', { status: 502 });
    const { delivery: row } = await delivery('/last');
    const exhausted = await ended('failed', 'RetriesExhausted');
    const verdict = await attempt({ deliveryId: row.id, attempt: 10, plannedRetrySeconds: undefined });
    assert.deepEqual(verdict, { kind: 'failed', failureType: 'RetriesExhausted' });
    assert.equal(await ended('failed', 'RetriesExhausted'), exhausted + 1);
    const settled = await db.webhookDelivery.findUniqueOrThrow({ where: { id: row.id } });
    assert.equal(settled.status, 'failed');
    assert.match(settled.failureReason ?? '', /502/);
  });

  it('disables an endpoint that has failed every attempt for 5 days, and records endpoint.disabled', async () => {
    receiver.answer('/dead', { status: 500 });
    const since = new Date(Date.now() - (WEBHOOK_ENDPOINT_DISABLE_AFTER_SECONDS + 60) * 1000);
    const { delivery: row, endpoint } = await delivery('/dead', { failingSince: since });
    const kicked = kicks;
    const disabledBefore = await counter('nova_webhook_endpoints_disabled_total', { reason: 'failing' });
    const verdict = await attempt({ deliveryId: row.id });
    assert.equal(verdict.kind, 'retry');
    assert.equal(
      await counter('nova_webhook_endpoints_disabled_total', { reason: 'failing' }),
      disabledBefore + 1,
      'the disabling is counted',
    );
    const endpointDisabled = await ended('failed', 'EndpointDisabled');
    const disabled = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    assert.equal(disabled.enabled, false);
    assert.equal(disabled.disabledReason, 'every attempt failed for 5 days');
    const event = await db.outboxEvent.findFirstOrThrow({
      where: { type: 'endpoint.disabled', aggregateId: endpoint.id },
    });
    assert.equal((event.payload as { id: string; enabled: boolean }).enabled, false);
    assert.equal(kicks, kicked + 1, 'the relay is kicked for the new event');
    // Its next attempt sends nothing: the delivery fails EndpointDisabled.
    const next = await attempt({ deliveryId: row.id, attempt: 2 });
    assert.deepEqual(next, { kind: 'failed', failureType: 'EndpointDisabled' });
    assert.equal(await ended('failed', 'EndpointDisabled'), endpointDisabled + 1);
    assert.equal(receiver.on('/dead').length, 1);
  });

  it('an endpoint failing for less than 5 days stays enabled', async () => {
    receiver.answer('/sick', { status: 500 });
    const since = new Date(Date.now() - (WEBHOOK_ENDPOINT_DISABLE_AFTER_SECONDS - 3_600) * 1000);
    const { delivery: row, endpoint } = await delivery('/sick', { failingSince: since });
    await attempt({ deliveryId: row.id });
    const still = await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    assert.equal(still.enabled, true);
    assert.deepEqual(still.failingSince, since, 'the streak keeps its start');
  });

  it('holds an endpoint to its concurrency limit across workers; a lapsed lease frees its slot', async () => {
    const { delivery: row, endpoint } = await delivery('/limited');
    // Another worker's attempt in flight.
    await db.webhookEndpointLease.create({
      data: { endpointId: endpoint.id, deliveryId: randomUUID(), expiresAt: new Date(Date.now() + 60_000) },
    });
    assert.deepEqual(await attempt({ deliveryId: row.id }, 1), { kind: 'busy' });
    assert.equal(receiver.on('/limited').length, 0, 'nothing sent while busy');
    assert.equal((await attempt({ deliveryId: row.id }, 2)).kind, 'delivered', 'a limit of 2 has room');

    const other = await delivery('/limited-2');
    await db.webhookEndpointLease.create({
      data: { endpointId: other.endpoint.id, deliveryId: randomUUID(), expiresAt: new Date(Date.now() - 1_000) },
    });
    assert.equal(
      (await attempt({ deliveryId: other.delivery.id }, 1)).kind,
      'delivered',
      'a dead worker’s lease lapsed',
    );
  });

  it('signs with both secrets while a rotation overlaps, and with one after it', async () => {
    const previous = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;
    const overlapping = await delivery('/rotating', {
      previousSecret: previous,
      previousSecretExpiresAt: new Date(Date.now() + 3_600_000),
    });
    await attempt({ deliveryId: overlapping.delivery.id });
    assert.equal(String(receiver.on('/rotating')[0]!.headers['webhook-signature']).split(' ').length, 2);
    const expired = await delivery('/rotated', {
      previousSecret: previous,
      previousSecretExpiresAt: new Date(Date.now() - 1_000),
    });
    await attempt({ deliveryId: expired.delivery.id });
    assert.equal(String(receiver.on('/rotated')[0]!.headers['webhook-signature']).split(' ').length, 1);
  });

  it('sends nothing for a run a redelivery has replaced', async () => {
    const { delivery: row } = await delivery('/stale');
    await db.webhookDelivery.update({ where: { id: row.id }, data: { run: 2 } });
    assert.deepEqual(await attempt({ deliveryId: row.id, run: 1 }), { kind: 'closed' });
    assert.equal(receiver.on('/stale').length, 0);
  });
});
