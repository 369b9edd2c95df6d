import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Asset, Horizon, Keypair, Operation } from '@stellar/stellar-sdk';
import { startSandbox } from '../src/index';
import {
  assetBalance,
  buildTransaction,
  control,
  friendbotAccount,
  makeDataDir,
  nativeBalance,
  startTestSandbox,
  type TestSandbox,
} from './support';

const MAIN = path.resolve(__dirname, '../dist/src/main.js');

describe('genesis and persistence', () => {
  let dataDir: string;
  let first: TestSandbox;
  let holder: Keypair;
  let paymentHash: string;
  let before1: {
    distribution: Horizon.AccountResponse;
    holder: Horizon.AccountResponse;
    ledger: number;
    transactions: number;
  };

  beforeAll(async () => {
    dataDir = await makeDataDir();
    first = await startTestSandbox({ dataDir, channelAccounts: 3 });
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates and funds the issuer, distribution and channel accounts, with the NOVA issuance', async () => {
    const { accounts } = first.sandbox;
    assert.equal(accounts.channels.length, 3);
    const distribution = await first.horizon.loadAccount(accounts.distribution);
    assert.equal(assetBalance(distribution, first.nova), '1000000000.0000000');
    const issuer = await first.horizon.loadAccount(accounts.issuer);
    assert.equal(assetBalance(issuer, first.nova), undefined);
    for (const channel of accounts.channels) {
      const account = await first.horizon.loadAccount(channel);
      assert.equal(nativeBalance(account), '10000.0000000');
    }
  });

  it('writes keys.json (mode 0600) and contracts.json, and never logs a secret seed', async () => {
    const keysFile = path.join(dataDir, 'keys.json');
    assert.equal((await stat(keysFile)).mode & 0o777, 0o600);
    const keys = JSON.parse(await readFile(keysFile, 'utf8')) as {
      issuer: { publicKey: string; secretKey: string };
      distribution: { publicKey: string; secretKey: string };
      channels: Array<{ publicKey: string; secretKey: string }>;
    };
    assert.equal(Keypair.fromSecret(keys.issuer.secretKey).publicKey(), first.sandbox.accounts.issuer);
    assert.deepEqual(
      keys.channels.map((channel) => channel.publicKey),
      first.sandbox.accounts.channels,
    );
    const contracts = JSON.parse(await readFile(path.join(dataDir, 'contracts.json'), 'utf8')) as Record<
      string,
      { contractId: string }
    >;
    assert.deepEqual(
      Object.fromEntries(Object.entries(contracts).map(([name, entry]) => [name, entry.contractId])),
      first.sandbox.contracts,
    );
    assert.deepEqual(Object.keys(first.sandbox.contracts).sort(), ['campaign', 'redemption', 'vesting']);
    const logged = JSON.stringify(first.logs);
    for (const secret of [
      keys.issuer.secretKey,
      keys.distribution.secretKey,
      ...keys.channels.map((c) => c.secretKey),
    ]) {
      assert.equal(logged.includes(secret), false);
    }
  });

  it('keeps balances, sequence numbers, trustlines and history across a restart, without a second genesis', async () => {
    holder = await friendbotAccount(first);
    const trust = await buildTransaction(first, holder.publicKey(), [Operation.changeTrust({ asset: first.nova })]);
    trust.sign(holder);
    await first.horizon.submitTransaction(trust);
    const pay = await buildTransaction(
      first,
      first.sandbox.accounts.distribution,
      [Operation.payment({ destination: holder.publicKey(), asset: first.nova, amount: '42' })],
      { memo: 'persisted' },
    );
    pay.sign(first.distribution);
    paymentHash = (await first.horizon.submitTransaction(pay)).hash;
    const status = await control<{ transactions: number }>(first, 'GET', '/sandbox/status');
    before1 = {
      distribution: await first.horizon.loadAccount(first.sandbox.accounts.distribution),
      holder: await first.horizon.loadAccount(holder.publicKey()),
      ledger: first.sandbox.latestLedgerSequence(),
      transactions: status.body.transactions,
    };
    const firstContracts = first.sandbox.contracts;
    const firstAccounts = first.sandbox.accounts;
    await first.stop({ keepDataDir: true });

    const second = await startTestSandbox({ dataDir, channelAccounts: 3 });
    try {
      assert.deepEqual(second.sandbox.accounts, firstAccounts);
      assert.deepEqual(second.sandbox.contracts, firstContracts);
      assert.ok(second.sandbox.latestLedgerSequence() >= before1.ledger);
      const distribution = await second.horizon.loadAccount(second.sandbox.accounts.distribution);
      assert.equal(distribution.sequence, before1.distribution.sequence);
      assert.deepEqual(distribution.balances, before1.distribution.balances);
      const restoredHolder = await second.horizon.loadAccount(holder.publicKey());
      assert.equal(restoredHolder.sequence, before1.holder.sequence);
      assert.equal(assetBalance(restoredHolder, second.nova), '42.0000000');
      const record = await second.horizon.transactions().transaction(paymentHash).call();
      assert.equal(record.memo, 'persisted');
      const status = await control<{ transactions: number }>(second, 'GET', '/sandbox/status');
      assert.equal(status.body.transactions, before1.transactions, 'a restart must not replay genesis');
      const payments = await second.horizon.payments().forAccount(holder.publicKey()).call();
      assert.equal(payments.records.length, 2);

      // The restored sequence numbers are the live ones: the next transaction builds on them.
      const next = await buildTransaction(second, holder.publicKey(), [
        Operation.payment({ destination: second.sandbox.accounts.issuer, asset: Asset.native(), amount: '1' }),
      ]);
      next.sign(holder);
      assert.equal((await second.horizon.submitTransaction(next)).successful, true);
    } finally {
      await second.stop({ keepDataDir: true });
    }
  });

  it('refuses a data dir that holds another network’s ledger', async () => {
    await assert.rejects(
      startSandbox({ dataDir, port: 0, networkPassphrase: 'Some Other Network ; 2030' }),
      /holds the ledger of network/,
    );
  });
});

describe('command line', () => {
  it('prints one line when listening, serves Horizon, and persists and exits 0 on SIGTERM', async () => {
    const dataDir = await makeDataDir();
    try {
      const child = spawn(process.execPath, [MAIN], {
        env: {
          ...process.env,
          SANDBOX_PORT: '0',
          SANDBOX_DATA_DIR: dataDir,
          SANDBOX_LEDGER_INTERVAL_MS: '100',
          SANDBOX_CHANNEL_ACCOUNTS: '2',
          SANDBOX_FAULTS: JSON.stringify([{ kind: 'tryAgainLater', memo: 'never-used' }]),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', () => {
          const match = /^stellar-sandbox listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
          if (match?.[1]) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited early (${String(code)}): ${stderr}`)));
      });
      const horizon = new Horizon.Server(url, { allowHttp: true });
      const root = await horizon.root();
      assert.equal(root.network_passphrase, 'Nova Sandbox Network ; 2026');
      const faults = (await (await fetch(`${url}/sandbox/faults`)).json()) as { faults: Array<{ kind: string }> };
      assert.deepEqual(
        faults.faults.map((fault) => fault.kind),
        ['tryAgainLater'],
      );

      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
      assert.equal(stdout.split('\n').filter((line) => line.length > 0).length, 1);
      for (const line of stderr.split('\n').filter((candidate) => candidate.length > 0)) {
        assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
      }
      assert.ok((await stat(path.join(dataDir, 'ledger-state.json'))).size > 0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('exits non-zero naming the variable when the configuration is invalid', async () => {
    for (const [variable, value] of [
      ['SANDBOX_PORT', 'eighty'],
      ['SANDBOX_LEDGER_INTERVAL_MS', '0'],
      ['SANDBOX_FAULTS', '{"kind":"meteor"}'],
    ] as const) {
      const child = spawn(process.execPath, [MAIN], {
        env: { ...process.env, SANDBOX_DATA_DIR: path.join(__dirname, 'never-created'), [variable]: value },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.notEqual(code, 0);
      assert.match(stderr, new RegExp(variable));
    }
  });
});
