/**
 * The sandbox running the real contracts: a real nova-contract-host (../contract-host, built by
 * `npm run setup`) behind the sandbox, driven through rpc.Server as a client would.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import {
  Account,
  Address,
  Contract,
  type Keypair,
  nativeToScVal,
  rpc,
  scValToNative,
  SorobanDataBuilder,
  TransactionBuilder,
  xdr,
  type Transaction,
} from '@stellar/stellar-sdk';
import {
  CONTRACT_INTERFACES,
  CONTRACT_NAMES,
  contractDeployer,
  DEFAULT_NETWORK_PASSPHRASE,
  startSandbox,
  type ContractArgType,
} from '../src/index';
import { outcomeOf, parseHostError } from '../src/native-contract-runtime';
import { friendbotAccount, makeDataDir, startTestSandbox, type TestSandbox } from './support';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Where setup builds the host (scripts/lib/contract-host.js), or NOVA_CONTRACT_HOST_BIN. */
function hostBinary(): string | undefined {
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(repoRoot, process.env.CARGO_TARGET_DIR)
    : path.join(repoRoot, 'target');
  const binary = process.env.NOVA_CONTRACT_HOST_BIN || path.join(target, 'host-release', 'nova-contract-host');
  return existsSync(binary) ? binary : undefined;
}

interface RunningHost {
  url: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// Last resort if the test process dies without running its after hooks.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts the host on a free port; resolves once it printed where it listens. */
async function startHost(binary: string, args: string[]): Promise<RunningHost> {
  const child = spawn(binary, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const port = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error(`nova-contract-host did not start: ${stderr}`)), 15_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nova-contract-host exited with ${String(code)}: ${stderr}`));
      });
    });
    return { url: `http://127.0.0.1:${port}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const CONTRACT_ERROR = /Error\(Contract, #(\d+)\)/;
/** Campaign contract error codes (contracts/README.md). */
const CAMPAIGN_EXISTS = 3;
const CAMPAIGN_NOT_FOUND = 4;

const str = (value: string): xdr.ScVal => nativeToScVal(value, { type: 'string' });
const i128 = (value: bigint): xdr.ScVal => nativeToScVal(value, { type: 'i128' });
const u64 = (value: bigint): xdr.ScVal => nativeToScVal(value, { type: 'u64' });
const address = (account: string): xdr.ScVal => new Address(account).toScVal();

/** The `Error(...)` ScVal in a diagnostic event's topics, if any. */
function diagnosticError(event: xdr.DiagnosticEvent): xdr.ScError | undefined {
  const topics = event.event().body().v0().topics();
  return topics.find((topic) => topic.switch().name === 'scvError')?.error();
}

const binary = hostBinary();

describe('the real contracts on nova-contract-host', () => {
  if (!binary) {
    // A skipped test (not a skipped suite) so that the suite's summary counts it.
    /* skipped: no nova-contract-host binary: run npm run setup */ it.skip('runs the contracts on the host', () =>
      undefined);
    return;
  }
  const hostPath = binary;
  const passphrase = DEFAULT_NETWORK_PASSPHRASE;
  const hostArgs = (statePath: string): string[] => [
    '--state',
    statePath,
    '--deployer',
    contractDeployer(passphrase),
    '--network-passphrase',
    passphrase,
  ];
  const cleanups: Array<() => Promise<void>> = [];
  let dataDir: string;
  let statePath: string;
  let host: RunningHost;
  let t: TestSandbox;
  let campaign: Contract;
  let merchant: Keypair;
  let startLedger: number;
  const campaignId = 'campaign-native-1';
  const budget = 25_000_000_000n;
  const startsAt = 1_800_000_000n;
  const endsAt = 1_900_000_000n;

  const startBoth = async (): Promise<void> => {
    host = await startHost(hostPath, hostArgs(statePath));
    const stopHost = host.stop;
    cleanups.push(stopHost);
    t = await startTestSandbox({ dataDir, contractHost: { url: host.url } });
    const sandbox = t;
    cleanups.push(() => sandbox.stop({ keepDataDir: true }));
  };
  const stopAll = async (): Promise<void> => {
    // Last started first: the sandbox, then its host; every one even if another fails.
    const errors: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  };

  beforeAll(async () => {
    dataDir = await makeDataDir();
    statePath = path.join(dataDir, 'contracts-state.json');
    await startBoth();
    startLedger = t.sandbox.latestLedgerSequence();
    merchant = await friendbotAccount(t);
    const id = t.sandbox.contracts.campaign;
    assert.ok(id);
    campaign = new Contract(id);
  });
  afterAll(async () => {
    await stopAll();
    const { rm } = await import('node:fs/promises');
    await rm(dataDir, { recursive: true, force: true });
  });

  async function call(source: Keypair | Account, method: string, ...args: xdr.ScVal[]): Promise<Transaction> {
    const account = source instanceof Account ? source : await t.rpc.getAccount(source.publicKey());
    return new TransactionBuilder(account, { fee: '100', networkPassphrase: t.sandbox.networkPassphrase })
      .addOperation(campaign.call(method, ...args))
      .setTimeout(60)
      .build();
  }

  async function sendAndPoll(transaction: Transaction, signer: Keypair): Promise<rpc.Api.GetTransactionResponse> {
    transaction.sign(signer);
    const sent = await t.rpc.sendTransaction(transaction);
    assert.equal(sent.status, 'PENDING', JSON.stringify(sent));
    return t.rpc.pollTransaction(sent.hash, { attempts: 200, sleepStrategy: () => 50 });
  }

  /** Sends a call with resources borrowed from another simulation, so the network, not simulation, judges it. */
  async function sendUnsimulated(
    signer: Keypair,
    method: string,
    args: xdr.ScVal[],
    resources: rpc.Api.SimulateTransactionSuccessResponse,
  ): Promise<rpc.Api.GetTransactionResponse> {
    const transaction = new TransactionBuilder(await t.rpc.getAccount(signer.publicKey()), {
      fee: (100n + BigInt(resources.minResourceFee)).toString(),
      networkPassphrase: t.sandbox.networkPassphrase,
    })
      .addOperation(campaign.call(method, ...args))
      .setSorobanData(new SorobanDataBuilder(resources.transactionData.build().toXDR()).build())
      .setTimeout(60)
      .build();
    return sendAndPoll(transaction, signer);
  }

  async function readCampaign(id: string): Promise<rpc.Api.SimulateTransactionResponse> {
    // A read needs no authorization: any account may be the source.
    return t.rpc.simulateTransaction(await call(merchant, 'get', str(id)));
  }

  const registerArgs = (id: string): xdr.ScVal[] => [
    str(id),
    address(merchant.publicKey()),
    i128(budget),
    u64(startsAt),
    u64(endsAt),
  ];

  it('runs in native mode and says so once', async () => {
    assert.equal(t.sandbox.contractRuntime, 'native');
    const said = t.logs.filter((record) => record.contractRuntime !== undefined);
    assert.equal(said.length, 1);
    assert.equal(said[0]?.contractRuntime, 'native');
    assert.equal(said[0]?.contractHost, host.url);
    const contracts = (await (await fetch(`${t.sandbox.url}/sandbox/contracts`)).json()) as { runtime: string };
    assert.equal(contracts.runtime, 'native');
  });

  it('serves each contract with exactly the interface the sandbox declares', async () => {
    const expectedType: Record<ContractArgType, string> = {
      Address: 'Address',
      String: 'String',
      i128: 'I128',
      u64: 'U64',
      Symbol: 'Symbol',
      bool: 'Bool',
      'BytesN<32>': 'BytesN<32>',
    };
    const sample: Record<ContractArgType, xdr.ScVal> = {
      Address: address(merchant.publicKey()),
      String: str('x'),
      i128: i128(1n),
      u64: u64(1n),
      Symbol: xdr.ScVal.scvSymbol('x'),
      bool: xdr.ScVal.scvBool(true),
      'BytesN<32>': xdr.ScVal.scvBytes(Buffer.alloc(32)),
    };
    const refusal = async (contract: string, fn: string, args: xdr.ScVal[]): Promise<string> => {
      const response = await fetch(`${host.url}/simulate`, {
        method: 'POST',
        body: JSON.stringify({ contract, function: fn, args: args.map((arg) => arg.toXDR('base64')) }),
      });
      assert.equal(response.status, 400);
      return ((await response.json()) as { error: { message: string } }).error.message;
    };
    for (const name of CONTRACT_NAMES) {
      const declared = CONTRACT_INTERFACES[name];
      const listed = /expected one of (.*)$/.exec(await refusal(name, 'no_such_function', []))?.[1]?.split(', ');
      assert.deepEqual([...(listed ?? [])].sort(), Object.keys(declared).sort(), `${name}: functions`);
      for (const [fn, specs] of Object.entries(declared)) {
        const tooMany = [...specs.map(() => xdr.ScVal.scvVoid()), xdr.ScVal.scvVoid()];
        assert.match(
          await refusal(name, fn, tooMany),
          new RegExp(`takes ${specs.length} argument\\(s\\), got ${specs.length + 1}$`),
          `${name}.${fn}: arity`,
        );
        // Each argument in turn is the wrong type (Void), those before it are right: the host names its type.
        for (const [index, spec] of specs.entries()) {
          const args = specs.map((other, at) => (at < index ? sample[other.type] : xdr.ScVal.scvVoid()));
          const message = await refusal(name, fn, args);
          assert.ok(
            message.includes(`\`args[${index}]\` (${spec.name}) of ${name}.${fn} must be ${expectedType[spec.type]},`),
            `${name}.${fn} argument ${index}: ${message}`,
          );
        }
      }
    }
  });

  it('initializes the campaign contract with the platform account as admin', async () => {
    const transaction = await t.rpc.prepareTransaction(
      await call(t.distribution, 'initialize', address(t.distribution.publicKey())),
    );
    const final = await sendAndPoll(transaction, t.distribution);
    assert.equal(final.status, rpc.Api.GetTransactionStatus.SUCCESS);
    const admin = await t.rpc.simulateTransaction(await call(merchant, 'admin'));
    assert.ok(rpc.Api.isSimulationSuccess(admin), JSON.stringify(admin));
    assert.equal(scValToNative(admin.result?.retval as xdr.ScVal), t.distribution.publicKey());
  });

  it('registers a campaign and reads it back through simulateTransaction, without a ledger write', async () => {
    const transaction = await t.rpc.prepareTransaction(
      await call(t.distribution, 'register', ...registerArgs(campaignId)),
    );
    const final = await sendAndPoll(transaction, t.distribution);
    assert.equal(final.status, rpc.Api.GetTransactionStatus.SUCCESS);

    const stateBefore = await readFile(statePath, 'utf8');
    const ledgerBefore = (await t.rpc.getLatestLedger()).sequence;
    const read = await readCampaign(campaignId);
    assert.ok(rpc.Api.isSimulationSuccess(read), JSON.stringify(read));
    const stored = scValToNative(read.result?.retval as xdr.ScVal) as Record<string, unknown>;
    assert.deepEqual(stored, {
      id: campaignId,
      merchant: merchant.publicKey(),
      budget,
      starts_at: startsAt,
      ends_at: endsAt,
      status: ['Active'],
    });
    // Reading changed nothing: the host's state file, and no transaction was sent for it.
    assert.equal(await readFile(statePath, 'utf8'), stateBefore);
    const invocations = (await (await fetch(`${t.sandbox.url}/sandbox/invocations?function=get`)).json()) as {
      count: number;
    };
    assert.equal(invocations.count, 0);
    assert.ok((await t.rpc.getLatestLedger()).sequence >= ledgerBefore);

    const missing = await readCampaign('no-such-campaign');
    assert.ok(rpc.Api.isSimulationError(missing));
    assert.equal(CONTRACT_ERROR.exec(missing.error)?.[1], String(CAMPAIGN_NOT_FOUND));
  });

  it("refuses a second register of the same id with the contract's numbered error", async () => {
    const again = await t.rpc.simulateTransaction(await call(t.distribution, 'register', ...registerArgs(campaignId)));
    assert.ok(rpc.Api.isSimulationError(again));
    // What the gateway matches (activities/src/stellar/gateway.ts).
    assert.equal(CONTRACT_ERROR.exec(again.error)?.[1], String(CAMPAIGN_EXISTS));
    const diagnostic = again.events.map(diagnosticError).find((error) => error !== undefined);
    assert.equal(diagnostic?.switch().name, 'sceContract');
    assert.equal(diagnostic?.contractCode(), CAMPAIGN_EXISTS);
    await assert.rejects(
      t.rpc.prepareTransaction(await call(t.distribution, 'register', ...registerArgs(campaignId))),
      CONTRACT_ERROR,
    );
  });

  it('fails on chain (FAILED, Error(Contract, #3) in the diagnostic events) when a register loses the race', async () => {
    // Both simulate fine (the id is new), then both land: the second finds the campaign registered.
    const raceId = 'campaign-native-race';
    const source = await t.rpc.getAccount(t.distribution.publicKey());
    const first = await t.rpc.prepareTransaction(await call(source, 'register', ...registerArgs(raceId)));
    const second = await t.rpc.prepareTransaction(await call(source, 'register', ...registerArgs(raceId)));
    first.sign(t.distribution);
    second.sign(t.distribution);
    assert.equal((await t.rpc.sendTransaction(first)).status, 'PENDING');
    assert.equal((await t.rpc.sendTransaction(second)).status, 'PENDING');
    const poll = { attempts: 200, sleepStrategy: () => 50 };
    const won = await t.rpc.pollTransaction(first.hash().toString('hex'), poll);
    const lost = await t.rpc.pollTransaction(second.hash().toString('hex'), poll);
    assert.equal(won.status, rpc.Api.GetTransactionStatus.SUCCESS);
    assert.equal(lost.status, rpc.Api.GetTransactionStatus.FAILED);
    const failed = lost as rpc.Api.GetFailedTransactionResponse;
    const operation = failed.resultXdr.result().results()[0];
    assert.equal(operation?.tr().invokeHostFunctionResult().switch().name, 'invokeHostFunctionTrapped');
    const error = (failed.diagnosticEventsXdr ?? []).map(diagnosticError).find((found) => found !== undefined);
    assert.equal(error?.switch().name, 'sceContract');
    assert.equal(error?.contractCode(), CAMPAIGN_EXISTS);
    assert.deepEqual(failed.events.contractEventsXdr, [[]], 'a failed call publishes no event');
  });

  it('refuses a register whose source is not the admin, in simulation and on chain', async () => {
    const outsiderId = 'campaign-native-outsider';
    const simulated = await t.rpc.simulateTransaction(await call(merchant, 'register', ...registerArgs(outsiderId)));
    assert.ok(rpc.Api.isSimulationError(simulated));
    assert.match(simulated.error, /Error\(Auth, InvalidAction\)/);
    assert.ok(simulated.error.includes(t.distribution.publicKey()), simulated.error);
    assert.doesNotMatch(simulated.error, CONTRACT_ERROR);

    const resources = await t.rpc.simulateTransaction(await call(merchant, 'get', str(campaignId)));
    assert.ok(rpc.Api.isSimulationSuccess(resources));
    const final = await sendUnsimulated(merchant, 'register', registerArgs(outsiderId), resources);
    assert.equal(final.status, rpc.Api.GetTransactionStatus.FAILED);
    const error = ((final as rpc.Api.GetFailedTransactionResponse).diagnosticEventsXdr ?? [])
      .map(diagnosticError)
      .find((found) => found !== undefined);
    assert.equal(error?.switch().name, 'sceAuth');
    assert.equal(error?.code().name, 'scecInvalidAction');

    const read = await readCampaign(outsiderId);
    assert.ok(rpc.Api.isSimulationError(read));
    assert.equal(CONTRACT_ERROR.exec(read.error)?.[1], String(CAMPAIGN_NOT_FOUND), 'nothing was registered');
  });

  it("returns the contract's own events through getEvents", async () => {
    const page = await t.rpc.getEvents({
      startLedger,
      filters: [{ type: 'contract', contractIds: [campaign.contractId()] }],
      limit: 100,
    });
    const names = page.events.map((event) => scValToNative(event.topic[0] as xdr.ScVal) as string);
    assert.deepEqual(names, ['initialized', 'campaign_registered', 'campaign_registered']);

    const registered = await t.rpc.getEvents({
      startLedger,
      filters: [
        {
          type: 'contract',
          contractIds: [campaign.contractId()],
          topics: [[xdr.ScVal.scvSymbol('campaign_registered').toXDR('base64'), str(campaignId).toXDR('base64')]],
        },
      ],
      limit: 10,
    });
    assert.equal(registered.events.length, 1);
    const [event] = registered.events;
    assert.ok(event);
    assert.equal(event.contractId?.contractId(), campaign.contractId());
    assert.deepEqual(scValToNative(event.value), {
      merchant: merchant.publicKey(),
      budget,
      starts_at: startsAt,
      ends_at: endsAt,
    });
    const initialized = page.events[0];
    assert.deepEqual(scValToNative(initialized?.value as xdr.ScVal), { admin: t.distribution.publicKey() });
  });

  it("keeps the contracts' state across a restart of the sandbox and the host on the same data dir", async () => {
    const ledgerBefore = t.sandbox.latestLedgerSequence();
    await stopAll();
    await startBoth();
    assert.equal(t.sandbox.contractRuntime, 'native');
    assert.ok(t.sandbox.latestLedgerSequence() >= ledgerBefore);
    const read = await readCampaign(campaignId);
    assert.ok(rpc.Api.isSimulationSuccess(read), JSON.stringify(read));
    const stored = scValToNative(read.result?.retval as xdr.ScVal) as Record<string, unknown>;
    assert.equal(stored.budget, budget);
    assert.equal(stored.starts_at, startsAt);
    assert.equal(stored.ends_at, endsAt);
    const again = await t.rpc.simulateTransaction(await call(t.distribution, 'register', ...registerArgs(campaignId)));
    assert.ok(rpc.Api.isSimulationError(again));
    assert.equal(CONTRACT_ERROR.exec(again.error)?.[1], String(CAMPAIGN_EXISTS));
  });

  it('fails a call the host does not answer (Error(Context, InternalError)); the ledgers go on', async () => {
    const resources = await readCampaign(campaignId);
    assert.ok(rpc.Api.isSimulationSuccess(resources));
    await host.stop();

    const read = await readCampaign(campaignId);
    assert.ok(rpc.Api.isSimulationError(read));
    assert.match(read.error, /^HostError: Error\(Context, InternalError\)/);
    assert.match(read.error, /did not answer \/simulate for campaign\.get/);

    const ledgerBefore = t.sandbox.latestLedgerSequence();
    const final = await sendUnsimulated(t.distribution, 'pause', [str(campaignId)], resources);
    assert.equal(final.status, rpc.Api.GetTransactionStatus.FAILED);
    const error = ((final as rpc.Api.GetFailedTransactionResponse).diagnosticEventsXdr ?? [])
      .map(diagnosticError)
      .find((found) => found !== undefined);
    assert.equal(error?.switch().name, 'sceContext');
    assert.ok(t.sandbox.latestLedgerSequence() > ledgerBefore);
    assert.ok(t.logs.some((record) => record.level === 'error' && record.msg === 'contract host call failed'));
  });

  it('refuses to start against a host that serves the contracts at other ids', async () => {
    const otherDir = await makeDataDir();
    // No --deployer: the host serves its own fixed ids, not this network's.
    const stray = await startHost(hostPath, []);
    try {
      await assert.rejects(
        startSandbox({ port: 0, dataDir: otherDir, contractHost: { url: stray.url } }),
        (error: Error) => {
          assert.match(error.message, /serves campaign at C[A-Z0-9]{55}, but this sandbox deployed it at/);
          assert.ok(error.message.includes(`--deployer ${contractDeployer(passphrase)}`), error.message);
          return true;
        },
      );
    } finally {
      await stray.stop();
      const { rm } = await import('node:fs/promises');
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});

describe("mapping nova-contract-host's answers", () => {
  const contractId = 'CBINQWUJC6J3VHLG2CCD5E5TYZWNBLGC52HLUE6JBHE5TKHBGLTDXRI6';
  const failureOf = (status: number, body: unknown) => {
    const outcome = outcomeOf({ status, body }, { contractId }, 'campaign.register');
    assert.equal(outcome.ok, false);
    return outcome.ok ? undefined : outcome.failure;
  };

  it('reads the host error printed at the end of a message', () => {
    assert.deepEqual(parseHostError('Unauthorized function call for address [GAAQ] (Error(Auth, InvalidAction))'), {
      type: 'Auth',
      code: 'InvalidAction',
      detail: 'Unauthorized function call for address [GAAQ]',
    });
    assert.deepEqual(parseHostError('Error(Budget, ExceededLimit)'), {
      type: 'Budget',
      code: 'ExceededLimit',
      detail: '',
    });
    assert.deepEqual(parseHostError('escalating (Error(Contract, #7))'), {
      type: 'Contract',
      code: 7,
      detail: 'escalating',
    });
    assert.equal(parseHostError('Error(Nonsense, InvalidAction)'), undefined);
    assert.equal(parseHostError('no error here'), undefined);
  });

  it('maps each kind of answer to the failure a network reports', () => {
    assert.deepEqual(failureOf(200, { ok: false, error: { kind: 'contract', code: 3 } }), {
      type: 'Contract',
      code: 3,
      message: "campaign.register failed with the contract's error #3",
    });
    assert.deepEqual(
      failureOf(200, { ok: false, error: { kind: 'auth', message: 'no signature (Error(Auth, InvalidAction))' } }),
      {
        type: 'Auth',
        code: 'InvalidAction',
        message: 'no signature',
      },
    );
    assert.deepEqual(failureOf(200, { ok: false, error: { kind: 'auth', message: 'unparsed' } }), {
      type: 'Auth',
      code: 'InvalidAction',
      message: 'unparsed',
    });
    assert.deepEqual(failureOf(200, { ok: false, error: { kind: 'host', message: 'Error(Budget, ExceededLimit)' } }), {
      type: 'Budget',
      code: 'ExceededLimit',
      message: 'Error(Budget, ExceededLimit)',
    });
    const refused = failureOf(400, { ok: false, error: { kind: 'request', message: 'takes 5 argument(s), got 1' } });
    assert.equal(refused?.type, 'Value');
    assert.equal(refused?.code, 'InvalidInput');
    assert.match(refused?.message ?? '', /refused the call: takes 5/);
    const unwritten = failureOf(500, { ok: false, error: { kind: 'host', message: 'cannot write state' } });
    assert.equal(unwritten?.type, 'Context');
    assert.match(unwritten?.message ?? '', /answered 500: cannot write state/);
    assert.equal(failureOf(200, 'not json')?.code, 'InternalError');
  });

  it('decodes a success with its events, attributing an event without contract to the called one', () => {
    const outcome = outcomeOf(
      {
        status: 200,
        body: {
          ok: true,
          result: xdr.ScVal.scvVoid().toXDR('base64'),
          events: [{ contractId: null, topics: [str('t').toXDR('base64')], data: u64(5n).toXDR('base64') }],
        },
      },
      { contractId },
      'campaign.register',
    );
    assert.ok(outcome.ok);
    assert.equal(outcome.returnValue.switch().name, 'scvVoid');
    assert.equal(outcome.events[0]?.contractId, contractId);
    assert.equal(scValToNative(outcome.events[0]?.data as xdr.ScVal), 5n);
  });
});
