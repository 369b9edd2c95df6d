import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import { createSelfCheckActivities } from '@nova/activities';
import { required } from '../support/environment';

// Activities run against the real PostgreSQL the test runner started.
describe('self-check activities', () => {
  let db: PrismaClient;
  const fixedNow = new Date('2026-11-21T12:00:00.000Z');

  beforeAll(() => {
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 2 });
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  it('marks the record completed with the worker identity and the clock time', async () => {
    const id = randomUUID();
    await db.selfCheck.create({ data: { id, workflowId: `self-check/${id}` } });
    const activities = createSelfCheckActivities({ db, clock: { now: () => fixedNow }, workerIdentity: 'worker-a' });

    const outcome = await new MockActivityEnvironment().run(activities.completeSelfCheck, { selfCheckId: id });

    assert.deepEqual(outcome, {
      selfCheckId: id,
      status: 'completed',
      workerIdentity: 'worker-a',
      completedAt: fixedNow.toISOString(),
    });
    const row = await db.selfCheck.findUniqueOrThrow({ where: { id } });
    assert.equal(row.status, 'completed');
    assert.equal(row.workerIdentity, 'worker-a');
    assert.equal(row.completedAt?.toISOString(), fixedNow.toISOString());
  });

  it('is idempotent when retried', async () => {
    const id = randomUUID();
    await db.selfCheck.create({ data: { id, workflowId: `self-check/${id}` } });
    const activities = createSelfCheckActivities({ db, clock: { now: () => fixedNow }, workerIdentity: 'worker-b' });
    const env = new MockActivityEnvironment();
    const first = await env.run(activities.completeSelfCheck, { selfCheckId: id });
    const second = await env.run(activities.completeSelfCheck, { selfCheckId: id });
    assert.deepEqual(second, first);
    assert.equal(await db.selfCheck.count({ where: { id } }), 1);
  });

  it('fails without retry when the record does not exist', async () => {
    const activities = createSelfCheckActivities({ db, clock: { now: () => fixedNow }, workerIdentity: 'worker-c' });
    await assert.rejects(
      new MockActivityEnvironment().run(activities.completeSelfCheck, { selfCheckId: randomUUID() }),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(error.type, 'SelfCheckMissing');
        assert.equal(error.nonRetryable, true);
        return true;
      },
    );
  });
});
