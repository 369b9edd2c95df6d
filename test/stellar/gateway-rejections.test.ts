import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Account, Contract, Keypair, SorobanDataBuilder, TransactionBuilder, xdr } from '@stellar/stellar-sdk';
import { toStroops } from '@nova/domain';
import { TransactionRejectedError, type TransactionLookup } from '@nova/activities';
import { createWallets, startStellarFixture, type StellarFixture } from '../support/stellar';

// Horizon's codes, and the failure types decided from them, as the gateway reports them on
// both paths: the answer to a submission, and a lookup of the transaction by hash later (a
// retry after a timeout or a crash sees only the latter).
describe('Stellar rejections on the submit and the lookup path', () => {
  let dataDir: string;
  let fixture: StellarFixture;
  let channel: Keypair;
  let trusting: Keypair;
  let bare: Keypair;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'nova-rejections-'));
    fixture = await startStellarFixture({ dataDir });
    channel = [...fixture.channelSigners.values()][0]!;
    trusting = (await createWallets(fixture, 1))[0]!;
    bare = (await createWallets(fixture, 1, { trustline: false }))[0]!;
  });
  afterAll(async () => {
    await fixture?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function payment(options: { channel?: Keypair; sequence?: bigint; destination: string; memo: string }) {
    const source = options.channel ?? channel;
    const sequence = options.sequence ?? (await fixture.gateway.sequenceOf(source.publicKey()));
    return fixture.gateway.buildPayment({
      channel: source,
      channelSequence: sequence,
      from: fixture.distribution,
      destination: options.destination,
      amount: toStroops('1'),
      memo: options.memo,
      feePerOperation: 100,
      maxTime: new Date(Date.now() + 60_000),
    });
  }

  const feeBumped = (envelopeXdr: string) => fixture.gateway.feeBump(envelopeXdr, fixture.distribution, 200);

  async function rejection(promise: Promise<unknown>): Promise<TransactionRejectedError> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof TransactionRejectedError, `expected a rejection, got ${String(error)}`);
      return error;
    }
    assert.fail('expected the transaction to be refused');
  }

  /** What an activity decides from a lookup that found the transaction failed. */
  function rejectionFromLookup(found: TransactionLookup): TransactionRejectedError {
    assert.ok(found.found && !found.successful, `expected a failed transaction, got ${JSON.stringify(found)}`);
    return new TransactionRejectedError('found failed', found.resultCodes, found.ledger);
  }

  describe('submit path', () => {
    it('a channel account that does not exist: ChannelAccountMissing (tx_no_source_account)', async () => {
      const signed = await payment({
        channel: Keypair.random(),
        sequence: 1n,
        destination: trusting.publicKey(),
        memo: 'rj-ghost',
      });
      const error = await rejection(fixture.gateway.submit(signed.envelopeXdr, signed.hash));
      assert.deepEqual(error.resultCodes, { transaction: 'tx_no_source_account', operations: [] });
      assert.equal(error.type, 'ChannelAccountMissing');
      assert.equal(error.retryable, false);
    });

    it('fee-bumped, the inner refusal decides (tx_fee_bump_inner_failed > tx_no_source_account)', async () => {
      const signed = await payment({
        channel: Keypair.random(),
        sequence: 1n,
        destination: trusting.publicKey(),
        memo: 'rj-ghost-fb',
      });
      const error = await rejection(fixture.gateway.submit(feeBumped(signed.envelopeXdr), signed.hash));
      assert.deepEqual(error.resultCodes, { transaction: 'tx_no_source_account', operations: [] });
      assert.equal(error.type, 'ChannelAccountMissing');
      assert.match(error.message, /tx_fee_bump_inner_failed > tx_no_source_account/);
    });

    it('fee-bumped with a stale sequence number: retryable (inner tx_bad_seq)', async () => {
      const sequence = await fixture.gateway.sequenceOf(channel.publicKey());
      const signed = await payment({
        sequence: sequence - 1n,
        destination: trusting.publicKey(),
        memo: 'rj-badseq-fb',
      });
      const error = await rejection(fixture.gateway.submit(feeBumped(signed.envelopeXdr), signed.hash));
      assert.deepEqual(error.resultCodes, { transaction: 'tx_bad_seq', operations: [] });
      assert.equal(error.retryable, true);
    });

    it('a contract call from an account that does not exist: ChannelAccountMissing (RPC ERROR)', async () => {
      const ghost = Keypair.random();
      const call = new TransactionBuilder(new Account(ghost.publicKey(), '0'), {
        fee: '2000',
        networkPassphrase: fixture.sandbox.networkPassphrase,
      })
        .addOperation(new Contract(fixture.sandbox.contracts.campaign!).call('admin'))
        .setSorobanData(new SorobanDataBuilder().setResourceFee(1000).build())
        .setTimeout(60)
        .build();
      call.sign(ghost);
      const envelope = {
        hash: call.hash().toString('hex'),
        envelopeXdr: call.toEnvelope().toXDR('base64'),
        maxTime: new Date(Number(call.timeBounds!.maxTime) * 1000),
      };
      const error = await rejection(
        fixture.gateway.submitContractTransaction(envelope, fixture.sandbox.contracts.campaign!),
      );
      assert.deepEqual(error.resultCodes, { transaction: 'tx_no_source_account', operations: [] });
      assert.equal(error.type, 'ChannelAccountMissing');
    });
  });

  describe('lookup path', () => {
    it('a payment to a wallet without trustline: found failed with op_no_trust, TrustlineMissing', async () => {
      const signed = await payment({ destination: bare.publicKey(), memo: 'rj-notrust' });
      const submitted = await rejection(fixture.gateway.submit(signed.envelopeXdr, signed.hash));
      assert.equal(submitted.type, 'TrustlineMissing');
      const found = await fixture.gateway.lookup(signed.hash);
      assert.ok(found.found && !found.successful && found.ledger > 0, JSON.stringify(found));
      assert.deepEqual(found.resultCodes, { transaction: 'tx_failed', operations: ['op_no_trust'] });
      const decided = rejectionFromLookup(found);
      assert.equal(decided.type, 'TrustlineMissing');
      assert.equal(decided.retryable, false);
    });

    it('fee-bumped, found by its inner hash: the inner codes decide (tx_failed, op_no_trust)', async () => {
      const signed = await payment({ destination: bare.publicKey(), memo: 'rj-notrust-fb' });
      const submitted = await rejection(fixture.gateway.submit(feeBumped(signed.envelopeXdr), signed.hash));
      assert.deepEqual(submitted.resultCodes, { transaction: 'tx_failed', operations: ['op_no_trust'] });
      assert.equal(submitted.type, 'TrustlineMissing');
      const found = await fixture.gateway.lookup(signed.hash);
      assert.ok(found.found && !found.successful);
      assert.deepEqual(found.resultCodes, { transaction: 'tx_failed', operations: ['op_no_trust'] });
      assert.equal(rejectionFromLookup(found).type, 'TrustlineMissing');
    });

    // Core includes a fee bump whose inner source account is gone by the time it applies (merged
    // earlier in the same ledger): the fee source pays, the inner transaction fails with
    // txNO_ACCOUNT. The sandbox has no account merge, so this test writes that ledger state:
    // one such transaction beside a real fee-bumped payment, and the sandbox serves it after a restart.
    it('a landed fee bump whose channel account was gone: ChannelAccountMissing (inner tx_no_source_account)', async () => {
      const landed = await payment({ destination: trusting.publicKey(), memo: 'rj-landed-fb' });
      await fixture.gateway.submit(feeBumped(landed.envelopeXdr), landed.hash);
      const ghost = Keypair.random();
      const refused = await payment({
        channel: ghost,
        sequence: 1n,
        destination: trusting.publicKey(),
        memo: 'rj-gone',
      });
      const bumpXdr = feeBumped(refused.envelopeXdr);
      const bumpHash = TransactionBuilder.fromXDR(bumpXdr, fixture.sandbox.networkPassphrase).hash();
      await fixture.stop(); // saves the ledger in dataDir

      const stateFile = join(dataDir, 'ledger-state.json');
      const state = JSON.parse(await readFile(stateFile, 'utf8')) as {
        transactions: Array<Record<string, unknown> & { innerHash?: string; ledger: number; applicationOrder: number }>;
      };
      const template = state.transactions.find((record) => record.innerHash === landed.hash);
      assert.ok(template, 'the landed fee bump is in the saved ledger');
      const innerFailed = new xdr.TransactionResult({
        feeCharged: new xdr.Int64(200n),
        result: xdr.TransactionResultResult.txFeeBumpInnerFailed(
          new xdr.InnerTransactionResultPair({
            transactionHash: Buffer.from(refused.hash, 'hex'),
            result: new xdr.InnerTransactionResult({
              feeCharged: new xdr.Int64(0n),
              result: xdr.InnerTransactionResultResult.txNoAccount(),
              ext: new xdr.InnerTransactionResultExt(0),
            }),
          }),
        ),
        ext: new xdr.TransactionResultExt(0),
      });
      const noChanges = new xdr.TransactionMeta(
        3,
        new xdr.TransactionMetaV3({
          ext: new xdr.ExtensionPoint(0),
          txChangesBefore: [],
          operations: [],
          txChangesAfter: [],
          sorobanMeta: null,
        }),
      );
      const sameLedger = state.transactions.filter((record) => record.ledger === template.ledger);
      state.transactions.push({
        ...template,
        hash: bumpHash.toString('hex'),
        innerHash: refused.hash,
        applicationOrder: Math.max(...sameLedger.map((record) => record.applicationOrder)) + 1,
        successful: false,
        sourceAccount: ghost.publicKey(),
        sourceAccountSequence: '1',
        memo: 'rj-gone',
        envelopeXdr: bumpXdr,
        resultXdr: innerFailed.toXDR('base64'),
        resultMetaXdr: noChanges.toXDR('base64'),
        participants: [ghost.publicKey(), fixture.distribution.publicKey(), trusting.publicKey()],
      });
      await writeFile(stateFile, JSON.stringify(state));
      fixture = await startStellarFixture({ dataDir });

      const found = await fixture.gateway.lookup(refused.hash);
      assert.deepEqual(found, {
        found: true,
        successful: false,
        ledger: template.ledger,
        resultCodes: { transaction: 'tx_no_source_account', operations: [] },
      });
      const decided = rejectionFromLookup(found);
      assert.equal(decided.type, 'ChannelAccountMissing');
      assert.equal(decided.retryable, false);
    });
  });
});
