import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Contract,
  type FeeBumpTransaction,
  Keypair,
  nativeToScVal,
  rpc,
  scValToNative,
  type Transaction,
  TransactionBuilder,
  xdr,
} from '@stellar/stellar-sdk';
import {
  InterfaceOnlyContractRuntime,
  readSandboxKeys,
  startSandbox,
  type ContractCall,
  type ContractOutcome,
  type ContractRuntime,
  type Sandbox,
} from '@nova/stellar-sandbox';
import {
  ContractError,
  SimulationFailedError,
  StellarError,
  StellarGateway,
  StellarUnavailableError,
  SubmissionIndeterminateError,
  TransactionRejectedError,
  type ContractEvent,
} from '@nova/activities';
import { eventually } from '../support/environment';
import { createWallets, startStellarFixture, type StellarFixture } from '../support/stellar';

interface InvocationRecord {
  contractId: string;
  functionName: string;
  invoker: string;
  txHash: string;
  ledger: number;
}

type Send = (transaction: Transaction | FeeBumpTransaction) => Promise<rpc.Api.SendTransactionResponse>;

// The gateway's Soroban path against the sandbox's Stellar RPC, over HTTP with the real SDK:
// RPC faults, duplicate submissions, event paging and simulation refusals. Each test invokes
// from an account of its own, so the sandbox's invocation log tells exactly what it caused.
describe('Soroban calls under faults', () => {
  let fixture: StellarFixture;
  let sources: Keypair[];
  let campaign: string;
  let redemption: string;
  const run = randomUUID().slice(0, 6);

  beforeAll(async () => {
    fixture = await startStellarFixture();
    sources = await createWallets(fixture, 11, { trustline: false });
    campaign = fixture.sandbox.contracts.campaign!;
    redemption = fixture.sandbox.contracts.redemption!;
  });
  afterAll(async () => {
    fixture?.sandbox.faults.clear();
    await fixture?.stop();
  });

  /** A fresh gateway to the fixture's network, so a test may interpose on its RPC client alone. */
  function gateway(): StellarGateway {
    return new StellarGateway(fixture.gateway.network, {
      submitTimeoutMs: 8_000,
      readTimeoutMs: 2_000,
      pollIntervalMs: 100,
    });
  }

  const pause = (id: string) => ({
    contractId: campaign,
    method: 'pause',
    args: [nativeToScVal(id, { type: 'string' })],
  });

  /** Contract invocations the sandbox applied, by invoking account. */
  async function invocationsBy(invoker: Keypair): Promise<InvocationRecord[]> {
    const response = await fetch(`${fixture.sandbox.url}/sandbox/invocations`);
    const body = (await response.json()) as { invocations: InvocationRecord[] };
    return body.invocations.filter((invocation) => invocation.invoker === invoker.publicKey());
  }

  async function landed(server: rpc.Server, hash: string): Promise<rpc.Api.GetSuccessfulTransactionResponse> {
    return await eventually(
      async () => {
        const status = await server.getTransaction(hash);
        if (status.status === rpc.Api.GetTransactionStatus.FAILED) throw new Error(`${hash} failed`);
        return status.status === rpc.Api.GetTransactionStatus.SUCCESS ? status : undefined;
      },
      { what: `transaction ${hash} to land` },
    );
  }

  describe('TRY_AGAIN_LATER', () => {
    it('is a retryable StellarUnavailableError, nothing is queued, and a retry lands once', async () => {
      const source = sources[0]!;
      const sequenceBefore = await fixture.gateway.sequenceOf(source.publicKey());
      const fault = fixture.sandbox.faults.add({ kind: 'tryAgainLater', count: 1, sourceAccount: source.publicKey() });

      await assert.rejects(fixture.gateway.invokeContract({ ...pause(`tal-${run}`), source }), (error: unknown) => {
        assert.ok(error instanceof StellarUnavailableError, `got ${String(error)}`);
        assert.equal(error.retryable, true);
        assert.equal(error.type, 'StellarUnavailable');
        return true;
      });
      assert.equal(fixture.sandbox.faults.list().filter((f) => f.id === fault.id).length, 0, 'the fault fired');

      // What Temporal does with a retryable failure: run the same call again.
      const result = await fixture.gateway.invokeContract({ ...pause(`tal-${run}`), source });
      assert.match(result.hash, /^[0-9a-f]{64}$/);
      const invocations = await invocationsBy(source);
      assert.deepEqual(
        invocations.map((i) => ({ functionName: i.functionName, txHash: i.txHash, ledger: i.ledger })),
        [{ functionName: 'pause', txHash: result.hash, ledger: result.ledger }],
      );
      assert.equal(
        await fixture.gateway.sequenceOf(source.publicKey()),
        sequenceBefore + 1n,
        'the refused attempt consumed no sequence number: one transaction from this account was included',
      );
    });

    it('an outage that lasts: every attempt is retryable until it clears, then the call lands', async () => {
      const source = sources[1]!;
      const fault = fixture.sandbox.faults.add({ kind: 'tryAgainLater', sourceAccount: source.publicKey() });
      try {
        for (let attempt = 0; attempt < 3; attempt++) {
          await assert.rejects(
            fixture.gateway.invokeContract({ ...pause(`outage-${run}`), source }),
            (error: unknown) => error instanceof StellarError && error.retryable,
          );
        }
      } finally {
        fixture.sandbox.faults.clear(fault.id);
      }
      const result = await fixture.gateway.invokeContract({ ...pause(`outage-${run}`), source });
      assert.deepEqual(
        (await invocationsBy(source)).map((i) => i.txHash),
        [result.hash],
      );
    });
  });

  describe('DUPLICATE', () => {
    // invokeContract builds and signs its transaction inside one call, so its public API cannot
    // send the same signed transaction twice. The first two cases use rpc.Server directly; the
    // gateway cases interpose on the gateway's own RPC client so that a copy of the very
    // transaction it signed reaches the node first (as a retrying proxy would deliver it).

    it('rpc.Server: the same signed contract transaction sent twice is PENDING then DUPLICATE, and lands once', async () => {
      const source = sources[2]!;
      const server = new rpc.Server(fixture.sandbox.rpcUrl, { allowHttp: true });
      const account = await server.getAccount(source.publicKey());
      const built = new TransactionBuilder(account, {
        fee: '100',
        networkPassphrase: fixture.sandbox.networkPassphrase,
      })
        .addOperation(new Contract(campaign).call('pause', nativeToScVal(`dup-rpc-${run}`, { type: 'string' })))
        .setTimeout(30)
        .build();
      const prepared = await server.prepareTransaction(built);
      prepared.sign(source);
      const hash = prepared.hash().toString('hex');

      const first = await server.sendTransaction(prepared);
      const second = await server.sendTransaction(prepared);
      assert.equal(first.status, 'PENDING');
      assert.equal(second.status, 'DUPLICATE');
      assert.equal(second.hash, hash);

      const status = await landed(server, hash);
      const third = await server.sendTransaction(prepared);
      assert.equal(third.status, 'DUPLICATE', 'a copy of a landed transaction is a duplicate too');
      const invocations = await invocationsBy(source);
      assert.deepEqual(
        invocations.map((i) => [i.txHash, i.ledger]),
        [[hash, status.ledger]],
      );
    });

    for (const when of ['while the first copy is queued', 'after the first copy landed'] as const) {
      it(`gateway: a DUPLICATE answer ${when} is followed to the one landed transaction`, async () => {
        const source = when === 'while the first copy is queued' ? sources[3]! : sources[4]!;
        const interposed = gateway();
        const statuses: string[] = [];
        let firstHash: string | undefined;
        const send: Send = interposed.rpc.sendTransaction.bind(interposed.rpc);
        interposed.rpc.sendTransaction = async (transaction) => {
          const early = await send(transaction);
          statuses.push(early.status);
          firstHash = early.hash;
          if (when === 'after the first copy landed') await landed(interposed.rpc, early.hash);
          const own = await send(transaction);
          statuses.push(own.status);
          return own;
        };

        const result = await interposed.invokeContract({ ...pause(`dup-gw-${when}-${run}`), source });
        assert.deepEqual(statuses, ['PENDING', 'DUPLICATE']);
        assert.equal(result.hash, firstHash);
        const invocations = await invocationsBy(source);
        assert.deepEqual(
          invocations.map((i) => [i.txHash, i.ledger]),
          [[result.hash, result.ledger]],
          'the contract ran once',
        );
      });
    }
  });

  describe('other submission faults', () => {
    it('504 on sendTransaction (applied anyway): indeterminate with the hash, which is then found', async () => {
      const source = sources[5]!;
      fixture.sandbox.faults.add({ kind: 'respond504ButApply', count: 1, sourceAccount: source.publicKey() });
      let hash = '';
      await assert.rejects(fixture.gateway.invokeContract({ ...pause(`504-${run}`), source }), (error: unknown) => {
        assert.ok(error instanceof SubmissionIndeterminateError, `got ${String(error)}`);
        assert.equal(error.retryable, true);
        hash = error.hash;
        return true;
      });
      await eventually(
        async () => {
          const found = await fixture.gateway.lookup(hash);
          return found.found ? found : undefined;
        },
        { what: 'the indeterminate call to be found by its hash' },
      );
      assert.deepEqual(
        (await invocationsBy(source)).map((i) => i.txHash),
        [hash],
      );
    });

    it('a dropped call is reported (retryable) once a ledger closed past its upper bound; a retry lands once', async () => {
      const source = sources[6]!;
      fixture.sandbox.faults.add({ kind: 'drop', count: 1, sourceAccount: source.publicKey() });
      let droppedHash = '';
      await assert.rejects(
        fixture.gateway.invokeContract({ ...pause(`drop-${run}`), source, timeoutSeconds: 2 }),
        (error: unknown) => {
          assert.ok(error instanceof SubmissionIndeterminateError, `got ${String(error)}`);
          assert.equal(error.retryable, true);
          droppedHash = error.hash;
          return true;
        },
      );
      assert.deepEqual(await fixture.gateway.lookup(droppedHash), { found: false });
      const result = await fixture.gateway.invokeContract({ ...pause(`drop-${run}`), source, timeoutSeconds: 2 });
      assert.notEqual(result.hash, droppedHash);
      assert.deepEqual(
        (await invocationsBy(source)).map((i) => i.txHash),
        [result.hash],
      );
    });

    it('a call without an upper time bound (timeoutSeconds: 0) is refused before anything is sent', async () => {
      // Without an upper bound a lost call could never be declared lost (and an earlier version
      // reported every such call as "not found after its upper time bound" at its first poll).
      const source = sources[7]!;
      const sequenceBefore = await fixture.gateway.sequenceOf(source.publicKey());
      await assert.rejects(
        fixture.gateway.invokeContract({ ...pause(`nobound-${run}`), source, timeoutSeconds: 0 }),
        RangeError,
      );
      const result = await fixture.gateway.invokeContract({ ...pause(`nobound-${run}`), source });
      assert.deepEqual(
        (await invocationsBy(source)).map((i) => i.txHash),
        [result.hash],
      );
      assert.equal(
        await fixture.gateway.sequenceOf(source.publicKey()),
        sequenceBefore + 1n,
        'only the second call reached the network',
      );
    });
  });

  describe('contract events', () => {
    it('a cursor pages through events of several invocations: none seen twice, none missed, then tails new ones', async () => {
      const start = await fixture.gateway.latestLedger();
      const invokers = sources.slice(8, 10);
      // Several accounts at once, so that some events share a ledger and pages split ledgers.
      const invoke = async (source: Keypair, id: string) => {
        const result = await fixture.gateway.invokeContract({
          contractId: redemption,
          method: 'confirm',
          args: [nativeToScVal(id, { type: 'string' })],
          source,
        });
        return { id, hash: result.hash, ledger: result.ledger };
      };
      const byInvoker = await Promise.all(
        invokers.map(async (source, s) => {
          const done = [];
          for (let i = 0; i < 4; i++) done.push(await invoke(source, `evt-${run}-${s}-${i}`));
          return done;
        }),
      );
      const expected = byInvoker.flat();

      const seen: ContractEvent[] = [];
      let page = await fixture.gateway.contractEvents({
        contractIds: [redemption],
        startLedger: start.sequence,
        limit: 3,
      });
      let pages = 1;
      seen.push(...page.events);
      while (page.events.length > 0) {
        assert.ok(page.cursor, 'every page carries a cursor');
        page = await fixture.gateway.contractEvents({ contractIds: [redemption], cursor: page.cursor, limit: 3 });
        pages += 1;
        seen.push(...page.events);
        assert.ok(pages < 50, 'paging ends');
      }
      assert.ok(pages >= Math.ceil(expected.length / 3), `${pages} pages of at most 3`);
      console.info(`${seen.length} events in ${new Set(seen.map((e) => e.ledger)).size} ledgers, ${pages} pages`);

      const ids = seen.map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, 'no event seen twice');
      assert.deepEqual(ids, [...ids].sort(), 'events come in id order');
      assert.ok(seen.every((e) => e.contractId === redemption));
      const described = seen.map((e) => ({ id: topicString(e, 1), ledger: e.ledger, fn: topicString(e, 0) }));
      assert.deepEqual(
        described.sort((a, b) => a.id.localeCompare(b.id)),
        expected.map((x) => ({ id: x.id, ledger: x.ledger, fn: 'confirm' })).sort((a, b) => a.id.localeCompare(b.id)),
        'exactly one event per invocation, in the ledger it landed in',
      );

      // Tailing: the last cursor finds exactly what happened after it.
      const later = [await invoke(invokers[0]!, `evt-${run}-late-0`), await invoke(invokers[1]!, `evt-${run}-late-1`)];
      const tail = await fixture.gateway.contractEvents({ contractIds: [redemption], cursor: page.cursor, limit: 3 });
      assert.deepEqual(
        tail.events.map((e) => topicString(e, 1)),
        later.map((x) => x.id),
      );
      assert.ok(tail.events.every((e) => !ids.includes(e.id)));
      const end = await fixture.gateway.contractEvents({ contractIds: [redemption], cursor: tail.cursor, limit: 3 });
      assert.deepEqual(end.events, []);
    });

    it('only the requested contracts’ events are returned', async () => {
      // Events of ledgers after this one: the call below lands in one of them.
      const start = await fixture.gateway.latestLedger();
      const result = await fixture.gateway.invokeContract({ ...pause(`filter-${run}`), source: sources[10]! });
      const { events } = await fixture.gateway.contractEvents({
        contractIds: [campaign],
        startLedger: start.sequence + 1,
        limit: 200,
      });
      assert.deepEqual(
        events.map((e) => [e.contractId, e.ledger, topicString(e, 1)]),
        [[campaign, result.ledger, `filter-${run}`]],
      );
      const others = await fixture.gateway.contractEvents({
        contractIds: [fixture.sandbox.contracts.vesting!, redemption],
        startLedger: start.sequence + 1,
      });
      assert.deepEqual(others.events, []);
    });
  });

  describe('simulation', () => {
    it('an unknown contract function: SimulationFailedError (final), and nothing is sent', async () => {
      const source = sources[0]!;
      const sequenceBefore = await fixture.gateway.sequenceOf(source.publicKey());
      const invocationsBefore = (await invocationsBy(source)).length;
      await assert.rejects(
        fixture.gateway.invokeContract({
          contractId: campaign,
          method: 'no_such_function',
          args: [nativeToScVal('x', { type: 'string' })],
          source,
        }),
        (error: unknown) => {
          assert.ok(error instanceof SimulationFailedError, `got ${String(error)}`);
          assert.equal(error.retryable, false);
          assert.equal(error.type, 'SimulationFailed');
          assert.match(error.message, /no_such_function/);
          return true;
        },
      );
      assert.equal(await fixture.gateway.sequenceOf(source.publicKey()), sequenceBefore);
      assert.equal((await invocationsBy(source)).length, invocationsBefore);
    });
  });
});

function topicString(event: ContractEvent, index: number): string {
  const topic = event.topics[index];
  assert.ok(topic, `event ${event.id} has topic ${index}`);
  assert.ok(
    topic.switch() === xdr.ScValType.scvString() || topic.switch() === xdr.ScValType.scvSymbol(),
    `topic ${index} is a string or symbol`,
  );
  return String(scValToNative(topic));
}

/**
 * Simulation accepts every well-formed call; application refuses `pause` of ids that start with
 * "race-" as the contract would after its state changed between simulation and inclusion
 * (`Error(Contract, #3)`), and of ids that start with "budget-" with a host error.
 */
class StateChangedRuntime implements ContractRuntime {
  readonly mode = 'interface-only, refusing some calls at application';
  private readonly inner: InterfaceOnlyContractRuntime;
  constructor(readonly deployments: ContractRuntime['deployments']) {
    this.inner = new InterfaceOnlyContractRuntime(deployments);
  }
  simulate(call: ContractCall): Promise<ContractOutcome> {
    return this.inner.simulate(call);
  }
  invoke(call: ContractCall): Promise<ContractOutcome> {
    const id = call.args[0]?.switch() === xdr.ScValType.scvString() ? String(scValToNative(call.args[0])) : '';
    if (call.functionName === 'pause' && id.startsWith('race-')) {
      return Promise.resolve({ ok: false, failure: { type: 'Contract', code: 3, message: 'campaign is not active' } });
    }
    if (call.functionName === 'pause' && id.startsWith('budget-')) {
      return Promise.resolve({
        ok: false,
        failure: { type: 'Budget', code: 'ExceededLimit', message: 'cpu instructions exceeded' },
      });
    }
    return this.inner.invoke(call);
  }
}

// Calls that pass simulation and fail when the ledger applies them: the gateway reads the
// contract's error from the transaction's diagnostic events.
describe('Soroban calls that fail in the ledger', () => {
  let sandbox: Sandbox;
  let dataDir: string;
  let gateway: StellarGateway;
  let source: Keypair;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'nova-soroban-apply-'));
    sandbox = await startSandbox(
      { port: 0, host: '127.0.0.1', ledgerIntervalMs: 250, dataDir },
      { contractRuntime: ({ deployments }) => new StateChangedRuntime(deployments) },
    );
    const keys = await readSandboxKeys(dataDir);
    source = Keypair.fromSecret(keys.distribution.secretKey);
    gateway = new StellarGateway(
      {
        horizonUrl: sandbox.url,
        sorobanRpcUrl: sandbox.rpcUrl,
        networkPassphrase: sandbox.networkPassphrase,
        assetCode: sandbox.asset.code,
        assetIssuer: sandbox.asset.issuer,
      },
      { readTimeoutMs: 2_000, pollIntervalMs: 100 },
    );
  });
  afterAll(async () => {
    await sandbox?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const pauseOn = (id: string) => ({
    contractId: sandbox.contracts.campaign!,
    method: 'pause',
    args: [nativeToScVal(id, { type: 'string' })],
    source,
  });

  it('the contract’s numbered error: ContractError with its code (final); the failed call still used a sequence number', async () => {
    const sequenceBefore = await gateway.sequenceOf(source.publicKey());
    await assert.rejects(gateway.invokeContract(pauseOn('race-1')), (error: unknown) => {
      assert.ok(error instanceof ContractError, `got ${String(error)}`);
      assert.equal(error.code, 3);
      assert.equal(error.contractId, sandbox.contracts.campaign);
      assert.equal(error.retryable, false);
      assert.equal(error.type, 'ContractError');
      return true;
    });
    assert.equal(await gateway.sequenceOf(source.publicKey()), sequenceBefore + 1n, 'included, as a failed call');
    const ok = await gateway.invokeContract(pauseOn('fine-1'));
    assert.ok(ok.ledger > 0, 'the account can go on calling');
  });

  it('a host error (not the contract’s): a final TransactionRejectedError, not a ContractError', async () => {
    await assert.rejects(gateway.invokeContract(pauseOn('budget-1')), (error: unknown) => {
      assert.ok(error instanceof TransactionRejectedError, `got ${String(error)}`);
      assert.ok(!(error instanceof ContractError));
      assert.equal(error.retryable, false);
      assert.equal(error.resultCodes.transaction, 'tx_failed');
      assert.ok(error.ledger !== undefined && error.ledger > 0, 'it names the ledger that included it');
      return true;
    });
  });
});
