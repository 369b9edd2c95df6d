import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import {
  Address,
  Contract,
  Keypair,
  nativeToScVal,
  rpc,
  scValToNative,
  SorobanDataBuilder,
  TransactionBuilder,
  xdr,
  type Transaction,
} from '@stellar/stellar-sdk';
import { control, friendbotAccount, startTestSandbox, type TestSandbox } from './support';

describe('Soroban RPC through rpc.Server', () => {
  let t: TestSandbox;
  let merchant: Keypair;
  let campaign: Contract;
  let registerHash: string;
  let registerLedger: number;

  beforeAll(async () => {
    t = await startTestSandbox();
    merchant = await friendbotAccount(t);
    const campaignId = t.sandbox.contracts.campaign;
    assert.ok(campaignId);
    campaign = new Contract(campaignId);
  });
  afterAll(async () => {
    await t.stop();
  });

  async function invocation(method: string, ...args: xdr.ScVal[]): Promise<Transaction> {
    const source = await t.rpc.getAccount(merchant.publicKey());
    return new TransactionBuilder(source, { fee: '100', networkPassphrase: t.sandbox.networkPassphrase })
      .addOperation(campaign.call(method, ...args))
      .setTimeout(60)
      .build();
  }

  const str = (value: string) => nativeToScVal(value, { type: 'string' });
  const i128 = (value: bigint) => nativeToScVal(value, { type: 'i128' });
  const u64 = (value: bigint) => nativeToScVal(value, { type: 'u64' });

  async function prepareSignSend(transaction: Transaction): Promise<rpc.Api.GetSuccessfulTransactionResponse> {
    const prepared = await t.rpc.prepareTransaction(transaction);
    prepared.sign(merchant);
    const sent = await t.rpc.sendTransaction(prepared);
    assert.equal(sent.status, 'PENDING');
    const final = await t.rpc.pollTransaction(sent.hash, { attempts: 100, sleepStrategy: () => 50 });
    assert.equal(final.status, rpc.Api.GetTransactionStatus.SUCCESS);
    return final as rpc.Api.GetSuccessfulTransactionResponse;
  }

  it('answers getHealth, getNetwork, getLatestLedger and getAccount', async () => {
    const health = await t.rpc.getHealth();
    assert.equal(health.status, 'healthy');
    assert.ok(health.latestLedger >= 3);
    const network = await t.rpc.getNetwork();
    assert.equal(network.passphrase, t.sandbox.networkPassphrase);
    assert.ok(Number(network.protocolVersion) >= 22);
    const latest = await t.rpc.getLatestLedger();
    assert.ok(latest.sequence >= health.latestLedger);
    assert.equal(latest.headerXdr.ledgerSeq(), latest.sequence);
    assert.equal(latest.metadataXdr.switch(), 0);
    const account = await t.rpc.getAccount(merchant.publicKey());
    const horizonAccount = await t.horizon.loadAccount(merchant.publicKey());
    assert.equal(account.sequenceNumber(), horizonAccount.sequence);
    await assert.rejects(t.rpc.getAccount(Keypair.random().publicKey()), /Account not found/);
  });

  it('serves the deployed contract instances as ledger entries', async () => {
    const key = xdr.LedgerKey.contractData(
      new xdr.LedgerKeyContractData({
        contract: campaign.address().toScAddress(),
        key: xdr.ScVal.scvLedgerKeyContractInstance(),
        durability: xdr.ContractDataDurability.persistent(),
      }),
    );
    const { entries } = await t.rpc.getLedgerEntries(key);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.val.contractData().val().switch().name, 'scvContractInstance');
    const contracts = await control<{ contracts: Record<string, { contractId: string }> }>(
      t,
      'GET',
      '/sandbox/contracts',
    );
    assert.equal(contracts.body.contracts.campaign?.contractId, campaign.contractId());
  });

  it('simulates, prepares, signs, sends and polls campaign.register to SUCCESS', async () => {
    const transaction = await invocation(
      'register',
      str('campaign-rpc-1'),
      new Address(merchant.publicKey()).toScVal(),
      i128(5_000_000_000n),
      u64(1_800_000_000n),
      u64(1_900_000_000n),
    );
    const simulation = await t.rpc.simulateTransaction(transaction);
    assert.ok(rpc.Api.isSimulationSuccess(simulation), JSON.stringify(simulation));
    assert.equal(simulation.result?.retval.switch().name, 'scvVoid');
    assert.ok(BigInt(simulation.minResourceFee) > 0n);
    const footprint = simulation.transactionData.build().resources().footprint();
    assert.ok(footprint.readOnly().some((key) => key.switch().name === 'contractData'));

    const final = await prepareSignSend(transaction);
    registerHash = final.txHash;
    registerLedger = final.ledger;
    assert.equal(final.returnValue?.switch().name, 'scvVoid');
    assert.equal(final.resultXdr.result().switch().name, 'txSuccess');
    assert.equal(final.envelopeXdr.v1().tx().ext().switch(), 1);
    // Horizon sees the same transaction.
    const record = await t.horizon.transactions().transaction(registerHash).call();
    assert.equal(record.successful, true);
    const invocations = await control<{ count: number }>(
      t,
      'GET',
      '/sandbox/invocations?contract=campaign&function=register',
    );
    assert.equal(invocations.body.count, 1);
  });

  it('emits one event per invocation, found by contract id and topic, with cursor paging', async () => {
    await prepareSignSend(await invocation('pause', str('campaign-rpc-1')));
    await prepareSignSend(await invocation('resume', str('campaign-rpc-1')));

    const registered = await t.rpc.getEvents({
      startLedger: registerLedger,
      filters: [
        {
          type: 'contract',
          contractIds: [campaign.contractId()],
          topics: [[xdr.ScVal.scvSymbol('register').toXDR('base64'), '*']],
        },
      ],
      limit: 10,
    });
    assert.equal(registered.events.length, 1);
    const [event] = registered.events;
    assert.ok(event);
    assert.equal(event.txHash, registerHash);
    assert.equal(event.ledger, registerLedger);
    assert.equal(event.contractId?.contractId(), campaign.contractId());
    assert.equal(scValToNative(event.topic[0] as xdr.ScVal), 'register');
    assert.equal(scValToNative(event.topic[1] as xdr.ScVal), 'campaign-rpc-1');
    const args = scValToNative(event.value) as unknown[];
    assert.equal(args[0], 'campaign-rpc-1');
    assert.equal(args[1], merchant.publicKey());
    assert.equal(args[2], 5_000_000_000n);

    // Page through every campaign event one at a time with the cursor.
    const seen: string[] = [];
    let page = await t.rpc.getEvents({
      startLedger: registerLedger,
      filters: [{ contractIds: [campaign.contractId()] }],
      limit: 1,
    });
    while (page.events.length > 0) {
      seen.push(...page.events.map((candidate) => scValToNative(candidate.topic[0] as xdr.ScVal) as string));
      page = await t.rpc.getEvents({
        cursor: page.cursor,
        filters: [{ contractIds: [campaign.contractId()] }],
        limit: 1,
      });
    }
    assert.deepEqual(seen, ['register', 'pause', 'resume']);
  });

  it('refuses a wrong argument type and an unknown function in simulation', async () => {
    const wrongType = await invocation('pause', u64(7n));
    const simulation = await t.rpc.simulateTransaction(wrongType);
    assert.ok(rpc.Api.isSimulationError(simulation));
    assert.match(simulation.error, /UnexpectedType/);
    await assert.rejects(t.rpc.prepareTransaction(wrongType), /UnexpectedType/);

    const unknown = await t.rpc.simulateTransaction(await invocation('withdraw_everything', str('x')));
    assert.ok(rpc.Api.isSimulationError(unknown));
    assert.match(unknown.error, /non-existent contract function/);
  });

  it('accepts a send of an ill-typed call (PENDING) that then fails on chain (FAILED)', async () => {
    // Borrow resources from a valid simulation: the network only checks types when the call runs.
    const valid = await t.rpc.simulateTransaction(await invocation('pause', str('campaign-rpc-1')));
    assert.ok(rpc.Api.isSimulationSuccess(valid));
    const source = await t.rpc.getAccount(merchant.publicKey());
    const sorobanData = new SorobanDataBuilder(valid.transactionData.build().toXDR()).build();
    const transaction = new TransactionBuilder(source, {
      fee: (100n + BigInt(valid.minResourceFee)).toString(),
      networkPassphrase: t.sandbox.networkPassphrase,
    })
      .addOperation(campaign.call('pause', u64(7n)))
      .setSorobanData(sorobanData)
      .setTimeout(60)
      .build();
    transaction.sign(merchant);
    const sent = await t.rpc.sendTransaction(transaction);
    assert.equal(sent.status, 'PENDING');
    const final = await t.rpc.pollTransaction(sent.hash, { attempts: 100, sleepStrategy: () => 50 });
    assert.equal(final.status, rpc.Api.GetTransactionStatus.FAILED);
    const failed = final as rpc.Api.GetFailedTransactionResponse;
    const operation = failed.resultXdr.result().results()[0];
    assert.equal(operation?.tr().invokeHostFunctionResult().switch().name, 'invokeHostFunctionTrapped');
  });

  it('answers NOT_FOUND for an unknown hash and ERROR with the result for a bad sequence', async () => {
    const missing = await t.rpc.getTransaction('0'.repeat(64));
    assert.equal(missing.status, rpc.Api.GetTransactionStatus.NOT_FOUND);

    const transaction = await invocation('resume', str('campaign-rpc-1'));
    const prepared = await t.rpc.prepareTransaction(transaction);
    prepared.sign(merchant);
    assert.equal((await t.rpc.sendTransaction(prepared)).status, 'PENDING');
    const replay = await t.rpc.sendTransaction(prepared);
    assert.equal(replay.status, 'DUPLICATE');
    await t.rpc.pollTransaction(prepared.hash().toString('hex'), { attempts: 100, sleepStrategy: () => 50 });

    const stale = await t.rpc.prepareTransaction(
      new TransactionBuilder(await t.rpc.getAccount(merchant.publicKey()), {
        fee: '100',
        networkPassphrase: t.sandbox.networkPassphrase,
      })
        .addOperation(campaign.call('resume', str('campaign-rpc-1')))
        .setTimeout(60)
        .build(),
    );
    stale.sign(merchant);
    // Spend the sequence number first, then resend the now-stale envelope.
    const spent = await t.rpc.prepareTransaction(await invocation('pause', str('campaign-rpc-1')));
    spent.sign(merchant);
    await t.rpc.sendTransaction(spent);
    await t.rpc.pollTransaction(spent.hash().toString('hex'), { attempts: 100, sleepStrategy: () => 50 });
    const refused = await t.rpc.sendTransaction(stale);
    assert.equal(refused.status, 'ERROR');
    assert.equal(refused.errorResult?.result().switch().name, 'txBadSeq');
  });
});
