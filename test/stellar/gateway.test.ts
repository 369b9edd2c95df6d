import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { Keypair, nativeToScVal, scValToNative, xdr } from '@stellar/stellar-sdk';
import { fromStroops, toStroops } from '@nova/domain';
import {
  SimulationFailedError,
  StellarGateway,
  StellarUnavailableError,
  SubmissionIndeterminateError,
  TransactionRejectedError,
} from '@nova/activities';
import { createWallets, landedWithMemo, startStellarFixture, type StellarFixture } from '../support/stellar';

// The gateway against the sandbox network, over HTTP with the real SDK.
describe('Stellar gateway', () => {
  let fixture: StellarFixture;
  let channel: Keypair;
  let wallets: Keypair[];

  beforeAll(async () => {
    fixture = await startStellarFixture();
    channel = [...fixture.channelSigners.values()][0]!;
    wallets = await createWallets(fixture, 4);
  });
  afterAll(async () => {
    fixture.sandbox.faults.clear();
    await fixture?.stop();
  });

  async function payment(options: {
    destination: string;
    amount?: bigint;
    memo: string;
    fee?: number;
    maxTime?: Date;
    sequence?: bigint;
  }) {
    const sequence = options.sequence ?? (await fixture.gateway.sequenceOf(channel.publicKey()));
    return fixture.gateway.buildPayment({
      channel,
      channelSequence: sequence,
      from: fixture.distribution,
      destination: options.destination,
      amount: options.amount ?? toStroops('1.5'),
      memo: options.memo,
      feePerOperation: options.fee ?? 100,
      maxTime: options.maxTime ?? new Date(Date.now() + 30_000),
    });
  }

  async function rejection(promise: Promise<unknown>): Promise<TransactionRejectedError> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof TransactionRejectedError, `expected a rejection, got ${String(error)}`);
      return error;
    }
    assert.fail('expected the submission to be refused');
  }

  describe('trustline check', () => {
    it('is ok for a wallet with an authorized trustline and headroom', async () => {
      const check = await fixture.gateway.checkTrustline(wallets[0]!.publicKey(), toStroops('10'));
      assert.equal(check.status, 'ok');
    });
    it('reports a missing account', async () => {
      assert.deepEqual(await fixture.gateway.checkTrustline(Keypair.random().publicKey(), 1n), {
        status: 'account-missing',
      });
    });
    it('reports a missing trustline', async () => {
      const [bare] = await createWallets(fixture, 1, { trustline: false });
      assert.deepEqual(await fixture.gateway.checkTrustline(bare!.publicKey(), 1n), { status: 'trustline-missing' });
    });
    it('reports the headroom when the limit would be exceeded', async () => {
      const [limited] = await createWallets(fixture, 1, { limit: '5' });
      const check = await fixture.gateway.checkTrustline(limited!.publicKey(), toStroops('6'));
      assert.deepEqual(check, { status: 'limit-exceeded', headroom: toStroops('5') });
    });
  });

  describe('reads', () => {
    it('reads sequence numbers, the latest ledger and the recommended fee', async () => {
      const sequence = await fixture.gateway.sequenceOf(channel.publicKey());
      assert.ok(sequence > 0n);
      const ledger = await fixture.gateway.latestLedger();
      assert.ok(ledger.sequence > 1);
      assert.ok(Math.abs(ledger.closedAt.getTime() - Date.now()) < 60_000);
      assert.ok((await fixture.gateway.recommendedFee()) >= 100);
    });
  });

  describe('payments', () => {
    it('pays, and finds the transaction by hash afterwards', async () => {
      const signed = await payment({ destination: wallets[0]!.publicKey(), memo: 'gw-pay-1' });
      const { ledger } = await fixture.gateway.submit(signed.envelopeXdr, signed.hash);
      assert.ok(ledger > 0);
      assert.deepEqual(await fixture.gateway.lookup(signed.hash), { found: true, successful: true, ledger });
      const received = await fixture.gateway.paymentsTo(wallets[0]!.publicKey());
      assert.ok(received.some((p) => p.hash === signed.hash && p.amount === fromStroops(toStroops('1.5'))));
      const landed = await landedWithMemo(fixture, 'gw-pay-1');
      assert.equal(landed.count, 1);
      assert.equal(landed.successful, 1);
    });

    it('does not find an unknown hash', async () => {
      assert.deepEqual(await fixture.gateway.lookup('ab'.repeat(32)), { found: false });
    });

    it('a wallet without trustline: final TrustlineMissing (op_no_trust)', async () => {
      const [bare] = await createWallets(fixture, 1, { trustline: false });
      const signed = await payment({ destination: bare!.publicKey(), memo: 'gw-notrust' });
      const error = await rejection(fixture.gateway.submit(signed.envelopeXdr, signed.hash));
      assert.equal(error.retryable, false);
      assert.equal(error.type, 'TrustlineMissing');
      assert.deepEqual(error.resultCodes, { transaction: 'tx_failed', operations: ['op_no_trust'] });
      const found = await fixture.gateway.lookup(signed.hash);
      assert.ok(found.found && !found.successful);
      assert.deepEqual(found.resultCodes.operations, ['op_no_trust']);
    });

    it('a missing destination: final AccountNotFound (op_no_destination)', async () => {
      const signed = await payment({ destination: Keypair.random().publicKey(), memo: 'gw-nodest' });
      const error = await rejection(fixture.gateway.submit(signed.envelopeXdr, signed.hash));
      assert.equal(error.type, 'AccountNotFound');
      assert.equal(error.retryable, false);
    });

    it('over the trustline limit: final TrustlineLimitExceeded (op_line_full)', async () => {
      const [limited] = await createWallets(fixture, 1, { limit: '1' });
      const signed = await payment({ destination: limited!.publicKey(), amount: toStroops('2'), memo: 'gw-full' });
      const error = await rejection(fixture.gateway.submit(signed.envelopeXdr, signed.hash));
      assert.equal(error.type, 'TrustlineLimitExceeded');
    });

    it('a stale sequence number: retryable (tx_bad_seq)', async () => {
      const sequence = await fixture.gateway.sequenceOf(channel.publicKey());
      const signed = await payment({
        destination: wallets[1]!.publicKey(),
        memo: 'gw-badseq',
        sequence: sequence - 1n,
      });
      const error = await rejection(fixture.gateway.submit(signed.envelopeXdr, signed.hash));
      assert.equal(error.resultCodes.transaction, 'tx_bad_seq');
      assert.equal(error.retryable, true);
    });

    it('an expired upper time bound: retryable (tx_too_late), a new envelope is needed', async () => {
      const signed = await payment({
        destination: wallets[1]!.publicKey(),
        memo: 'gw-late',
        maxTime: new Date(Date.now() - 10_000),
      });
      const error = await rejection(fixture.gateway.submit(signed.envelopeXdr, signed.hash));
      assert.equal(error.resultCodes.transaction, 'tx_too_late');
      assert.equal(error.retryable, true);
    });

    it('a fee too low is refused (tx_insufficient_fee) and lands once fee-bumped', async () => {
      const signed = await payment({ destination: wallets[1]!.publicKey(), memo: 'gw-fee', fee: 10 });
      const error = await rejection(fixture.gateway.submit(signed.envelopeXdr, signed.hash));
      assert.equal(error.resultCodes.transaction, 'tx_insufficient_fee');
      assert.equal(error.retryable, true);
      const bumped = fixture.gateway.feeBump(signed.envelopeXdr, fixture.distribution, 200);
      await fixture.gateway.submit(bumped, signed.hash);
      const found = await fixture.gateway.lookup(signed.hash);
      assert.ok(found.found && found.successful, 'found by the inner hash');
    });

    it('a bad signature: final TransactionBadAuth', async () => {
      const sequence = await fixture.gateway.sequenceOf(channel.publicKey());
      const signed = fixture.gateway.buildPayment({
        channel,
        channelSequence: sequence,
        from: Keypair.random(), // signs for an account it does not control
        destination: wallets[1]!.publicKey(),
        amount: 1n,
        memo: 'gw-badauth',
        feePerOperation: 100,
        maxTime: new Date(Date.now() + 30_000),
      });
      const error = await rejection(fixture.gateway.submit(signed.envelopeXdr, signed.hash));
      assert.equal(error.retryable, false);
    });
  });

  describe('faults', () => {
    it('429: retryable StellarUnavailable with Retry-After', async () => {
      fixture.sandbox.faults.add({ kind: 'rateLimit', count: 1, retryAfterSeconds: 3, memo: 'gw-429' });
      const signed = await payment({ destination: wallets[2]!.publicKey(), memo: 'gw-429' });
      await assert.rejects(fixture.gateway.submit(signed.envelopeXdr, signed.hash), (error: unknown) => {
        assert.ok(error instanceof StellarUnavailableError);
        assert.equal(error.retryable, true);
        assert.equal(error.retryAfterSeconds, 3);
        return true;
      });
      assert.deepEqual(await fixture.gateway.lookup(signed.hash), { found: false });
    });

    it('504 but applied: SubmissionIndeterminate, and the hash is then found', async () => {
      fixture.sandbox.faults.add({ kind: 'respond504ButApply', count: 1, memo: 'gw-504' });
      const signed = await payment({ destination: wallets[2]!.publicKey(), memo: 'gw-504' });
      await assert.rejects(fixture.gateway.submit(signed.envelopeXdr, signed.hash), (error: unknown) => {
        assert.ok(error instanceof SubmissionIndeterminateError);
        assert.equal(error.hash, signed.hash);
        return true;
      });
      const found = await fixture.gateway.lookup(signed.hash);
      assert.ok(found.found && found.successful);
    });

    it('a node that stops responding: reads fail as retryable, submissions as indeterminate', async () => {
      const signed = await payment({ destination: wallets[3]!.publicKey(), memo: 'gw-hang' });
      const impatient = new StellarGateway(fixture.gateway.network, { submitTimeoutMs: 1_000, readTimeoutMs: 1_000 });
      const fault = fixture.sandbox.faults.add({ kind: 'stopResponding' });
      try {
        await assert.rejects(impatient.latestLedger(), StellarUnavailableError);
        await assert.rejects(impatient.submit(signed.envelopeXdr, signed.hash), (error: unknown) => {
          assert.ok(error instanceof SubmissionIndeterminateError);
          return true;
        });
      } finally {
        fixture.sandbox.faults.clear(fault.id);
      }
      assert.ok((await fixture.gateway.latestLedger()).sequence > 0, 'answers again once cleared');
    });
  });

  describe('Soroban', () => {
    const admin = () => fixture.distribution;

    it('invokes a contract function and reads its events with a cursor', async () => {
      const campaign = fixture.sandbox.contracts.campaign!;
      const start = await fixture.gateway.latestLedger();
      const result = await fixture.gateway.invokeContract({
        contractId: campaign,
        method: 'register',
        args: [
          nativeToScVal('cmp-1', { type: 'string' }),
          nativeToScVal(admin().publicKey(), { type: 'address' }),
          nativeToScVal(1_000_000_000n, { type: 'i128' }),
          nativeToScVal(1_800_000_000n, { type: 'u64' }),
          nativeToScVal(1_900_000_000n, { type: 'u64' }),
        ],
        source: admin(),
      });
      assert.match(result.hash, /^[0-9a-f]{64}$/);
      assert.ok(result.ledger >= start.sequence);

      const first = await fixture.gateway.contractEvents({
        contractIds: [campaign],
        startLedger: start.sequence,
        limit: 10,
      });
      const registered = first.events.find((e) =>
        e.topics.some((t) => t.switch() === xdr.ScValType.scvSymbol() && scValToNative(t) === 'register'),
      );
      assert.ok(registered, 'the register event is there');
      assert.ok(first.cursor);
      const next = await fixture.gateway.contractEvents({ contractIds: [campaign], cursor: first.cursor, limit: 10 });
      assert.ok(
        next.events.every((e) => e.id !== registered.id),
        'the cursor pages past seen events',
      );
    });

    it('a call the contract interface refuses is an error, not a success', async () => {
      await assert.rejects(
        fixture.gateway.invokeContract({
          contractId: fixture.sandbox.contracts.campaign!,
          method: 'register',
          args: [nativeToScVal(42, { type: 'u32' })],
          source: admin(),
        }),
        (error: unknown) => {
          assert.ok(error instanceof SimulationFailedError, `got ${String(error)}`);
          assert.equal(error.retryable, false);
          return true;
        },
      );
    });
  });
});
