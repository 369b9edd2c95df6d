import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { nativeToScVal } from '@stellar/stellar-sdk';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import {
  PrismaChannelPool,
  StellarError,
  StellarGateway,
  SubmissionIndeterminateError,
  systemClock,
  type ContractCallRequest,
  type ContractCallSource,
  type JournalConfirmation,
  type SignedEnvelope,
} from '@nova/activities';
import { eventually, required } from '../support/environment';
import { durably, journalOver, SimulatedCrash } from '../support/journal';
import { startStellarFixture, type StellarFixture } from '../support/stellar';

interface InvocationRecord {
  functionName: string;
  invoker: string;
  txHash: string;
}

// The contract-call protocol (persist, then submit; look up before calling again) against the
// sandbox's Soroban RPC under faults, with the real PostgreSQL store: whatever the network does,
// each business key's call runs on the contract once.
describe('contract calls at most once per business key, under faults', () => {
  let fixture: StellarFixture;
  let db: PrismaClient;
  let submitter: ContractCallSource;
  let sourceLock: PrismaChannelPool;
  let campaign: string;
  const run = randomUUID().slice(0, 8);

  beforeAll(async () => {
    fixture = await startStellarFixture({ ledgerIntervalMs: 250, submitTimeoutMs: 2_000 });
    campaign = fixture.sandbox.contracts.campaign!;
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 5 });
    sourceLock = new PrismaChannelPool(db, systemClock, [fixture.distribution.publicKey()]);
    await sourceLock.register();
    submitter = contractCallsOver(fixture.gateway);
  });
  afterAll(async () => {
    fixture?.sandbox.faults.clear();
    await db?.channelAccount.deleteMany({ where: { publicKey: fixture.distribution.publicKey() } });
    await db?.$disconnect();
    await fixture?.stop();
  });

  /** The journal's contract-call source on the real PostgreSQL store, as one worker process has it. */
  function contractCallsOver(gateway: StellarGateway): ContractCallSource {
    return journalOver(fixture, db, {
      channels: sourceLock,
      sourceLock,
      gateway,
      transactionTimeoutSeconds: 3,
      leaseMarginSeconds: 2,
    }).contractCalls;
  }

  const pause = (name: string): ContractCallRequest => ({
    businessKey: `test/${run}/${name}`,
    contractId: campaign,
    method: 'pause',
    args: [nativeToScVal(`${run}-${name}`, { type: 'string' })],
  });

  /** The contract invocations the sandbox applied, with this argument. */
  async function appliedFor(request: ContractCallRequest): Promise<InvocationRecord[]> {
    const response = await fetch(`${fixture.sandbox.url}/sandbox/invocations`);
    const body = (await response.json()) as { invocations: (InvocationRecord & { args?: unknown })[] };
    const calls = await db.journalItem.findMany({
      where: { businessKey: request.businessKey },
      include: { transaction: true },
    });
    const hashes = new Set(calls.map((call) => call.transaction.hash));
    return body.invocations.filter((invocation) => hashes.has(invocation.txHash));
  }

  async function statuses(request: ContractCallRequest): Promise<string[]> {
    const calls = await db.journalItem.findMany({
      where: { businessKey: request.businessKey },
      orderBy: { attempt: 'asc' },
      include: { transaction: true },
    });
    return calls.map((call) => `${call.attempt}:${call.transaction.status}`);
  }

  async function pendingHash(request: ContractCallRequest): Promise<string | undefined> {
    const [pending] = await db.journalItem.findMany({
      where: { businessKey: request.businessKey },
      include: { transaction: true },
    });
    return pending?.transaction.hash;
  }

  it('lands once and is persisted before it was sent; calling again calls nothing', async () => {
    const request = pause('plain');
    const first = await submitter.invoke(request);
    assert.equal(first.alreadyLanded, false);
    assert.deepEqual(await statuses(request), ['1:landed']);
    const again = await submitter.invoke(request);
    assert.deepEqual(again, { ...first, alreadyLanded: true });
    assert.equal((await appliedFor(request)).length, 1);
  });

  it('504 on send (applied anyway): the retry finds the landed call by its hash, and calls nothing again', async () => {
    const request = pause('504');
    fixture.sandbox.faults.add({
      kind: 'respond504ButApply',
      count: 1,
      sourceAccount: fixture.distribution.publicKey(),
    });
    await assert.rejects(submitter.invoke(request), (error: unknown) => {
      assert.ok(error instanceof SubmissionIndeterminateError, String(error));
      return true;
    });
    assert.deepEqual(await statuses(request), ['1:submitted'], 'the outcome is unknown: still pending');
    const pending = await pendingHash(request);
    await eventually(async () => ((await fixture.gateway.contractTransaction(pending!)).found ? true : undefined), {
      what: 'the 504ed call to land',
    });
    // What Temporal does with a retryable failure: the same activity again.
    const retried = await submitter.invoke(request);
    assert.equal(retried.hash, pending);
    assert.equal(retried.alreadyLanded, true);
    assert.deepEqual(await statuses(request), ['1:landed']);
    const applied = await appliedFor(request);
    assert.deepEqual(
      applied.map((invocation) => invocation.txHash),
      [retried.hash],
    );
  });

  it('TRY_AGAIN_LATER after it was persisted: the retry resubmits the SAME envelope', async () => {
    const request = pause('try-again');
    fixture.sandbox.faults.add({ kind: 'tryAgainLater', count: 1, sourceAccount: fixture.distribution.publicKey() });
    await assert.rejects(
      submitter.invoke(request),
      (error: unknown) => error instanceof StellarError && error.retryable,
    );
    const pending = await pendingHash(request);
    const retried = await submitter.invoke(request);
    assert.equal(retried.hash, pending, 'the persisted envelope, not a new one');
    assert.deepEqual(await statuses(request), ['1:landed']);
    assert.equal((await appliedFor(request)).length, 1);
  });

  it('dropped: once a ledger closed past its upper bound, it is expired and a new envelope lands once', async () => {
    const request = pause('dropped');
    fixture.sandbox.faults.add({ kind: 'drop', count: 1, sourceAccount: fixture.distribution.publicKey() });
    await assert.rejects(
      submitter.invoke(request),
      (error: unknown) => error instanceof StellarError && error.retryable,
    );
    const retried = await submitter.invoke(request);
    assert.equal(retried.attempt, 2);
    assert.deepEqual(await statuses(request), ['1:expired', '2:landed']);
    assert.deepEqual(
      (await appliedFor(request)).map((invocation) => invocation.txHash),
      [retried.hash],
    );
  });

  it('calls for different business keys at once take turns on the source account: all land, none clash', async () => {
    const requests = Array.from({ length: 4 }, (_, i) => pause(`parallel-${i}`));
    const results = await Promise.all(requests.map((request) => submitter.invoke(request)));
    assert.equal(new Set(results.map((result) => result.hash)).size, 4);
    for (const request of requests) assert.deepEqual(await statuses(request), ['1:landed']);
  });

  const invokeDurably = (make: () => ContractCallSource, request: ContractCallRequest): Promise<JournalConfirmation> =>
    durably(request.businessKey, () => make().invoke(request));

  it('429 with Retry-After: waits and calls once', async () => {
    const request = pause('429');
    fixture.sandbox.faults.add({ kind: 'rateLimit', count: 3, retryAfterSeconds: 1 });
    const result = await invokeDurably(() => submitter, request);
    assert.deepEqual(await statuses(request), ['1:landed']);
    assert.deepEqual(
      (await appliedFor(request)).map((invocation) => invocation.txHash),
      [result.hash],
    );
  });

  it('inclusion delayed by several ledgers: the same envelope lands once', async () => {
    const request = pause('delayed');
    fixture.sandbox.faults.add({
      kind: 'delayInclusion',
      count: 1,
      ledgers: 4,
      sourceAccount: fixture.distribution.publicKey(),
    });
    const result = await invokeDurably(() => submitter, request);
    assert.equal(result.attempt, 1);
    assert.deepEqual(await statuses(request), ['1:landed']);
    assert.equal((await appliedFor(request)).length, 1);
  });

  it('the process dies between sending and confirmation: a fresh one calls nothing twice', async () => {
    const request = pause('crash');
    const crashed: string[] = [];
    class CrashingGateway extends StellarGateway {
      override async submitContractTransaction(envelope: SignedEnvelope, contractId: string) {
        if (crashed.includes(envelope.hash)) return await super.submitContractTransaction(envelope, contractId);
        crashed.push(envelope.hash);
        void super.submitContractTransaction(envelope, contractId).catch(() => undefined); // it left the machine
        throw new SimulatedCrash(`crashed after sending ${envelope.hash}`);
      }
    }
    const crashing = new CrashingGateway(fixture.gateway.network, { submitTimeoutMs: 8_000 });
    // A new process per try, as after a crash: only what is persisted carries over.
    const result = await invokeDurably(() => contractCallsOver(crashing), request);
    assert.equal(crashed.length, 1, 'the one envelope was sent before the crash');
    assert.equal(result.hash, crashed[0], 'recovery reused the persisted envelope');
    assert.equal(result.attempt, 1);
    assert.deepEqual(await statuses(request), ['1:landed']);
    assert.equal((await appliedFor(request)).length, 1);
  });
});
