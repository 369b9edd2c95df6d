import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Asset, Horizon, Keypair, Operation, TransactionBuilder } from '@stellar/stellar-sdk';
import {
  readSandboxKeys,
  startSandbox,
  type Sandbox,
  type SandboxKeys,
  type SandboxOptions,
} from '@nova/stellar-sandbox';
import { StellarGateway } from '@nova/activities';
import type { StellarNetworkConfig, StellarSigners } from '@nova/config';

export interface StellarFixture {
  sandbox: Sandbox;
  keys: SandboxKeys;
  gateway: StellarGateway;
  distribution: Keypair;
  channelSigners: Map<string, Keypair>;
  stop(): Promise<void>;
}

/**
 * A sandbox network of the test's own (loopback, port 0, temp data folder) and a gateway to it.
 * Given a `dataDir`, it starts on the ledger saved there and leaves the folder in place.
 */
export async function startStellarFixture(
  options: Partial<SandboxOptions> & { submitTimeoutMs?: number; gatewaySubmitTimeoutMs?: number } = {},
): Promise<StellarFixture> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'nova-stellar-')));
  const sandbox = await startSandbox({
    port: 0,
    host: '127.0.0.1',
    ledgerIntervalMs: 250,
    channelAccounts: 8,
    submitTimeoutMs: 3_000,
    ...options,
    dataDir,
  });
  const keys = await readSandboxKeys(dataDir);
  const gateway = new StellarGateway(
    {
      horizonUrl: sandbox.url,
      sorobanRpcUrl: sandbox.rpcUrl,
      networkPassphrase: sandbox.networkPassphrase,
      assetCode: sandbox.asset.code,
      assetIssuer: sandbox.asset.issuer,
    },
    { submitTimeoutMs: options.gatewaySubmitTimeoutMs ?? 8_000, readTimeoutMs: 2_000, pollIntervalMs: 100 },
  );
  return {
    sandbox,
    keys,
    gateway,
    distribution: Keypair.fromSecret(keys.distribution.secretKey),
    channelSigners: new Map(keys.channels.map((c) => [c.publicKey, Keypair.fromSecret(c.secretKey)])),
    async stop() {
      await sandbox.close();
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Creates `count` wallets: the distribution account funds each with XLM, then each wallet
 * adds a trustline to NOVA (op source = the wallet, which signs), in batched transactions.
 */
export async function createWallets(
  fixture: StellarFixture,
  count: number,
  options: { trustline?: boolean; limit?: string } = {},
): Promise<Keypair[]> {
  const wallets = Array.from({ length: count }, () => Keypair.random());
  const horizon = new Horizon.Server(fixture.sandbox.url, { allowHttp: true });
  const asset = new Asset(fixture.sandbox.asset.code, fixture.sandbox.asset.issuer);
  const submit = async (build: (builder: TransactionBuilder) => void, signers: Keypair[]) => {
    const source = await horizon.loadAccount(fixture.distribution.publicKey());
    const builder = new TransactionBuilder(source, {
      fee: '100',
      networkPassphrase: fixture.sandbox.networkPassphrase,
    }).setTimeout(60);
    build(builder);
    const transaction = builder.build();
    transaction.sign(fixture.distribution, ...signers);
    await horizon.submitTransaction(transaction);
  };
  for (let start = 0; start < wallets.length; start += 80) {
    const batch = wallets.slice(start, start + 80);
    await submit((builder) => {
      for (const wallet of batch)
        builder.addOperation(Operation.createAccount({ destination: wallet.publicKey(), startingBalance: '20' }));
    }, []);
    if (options.trustline === false) continue;
    // A transaction carries at most 20 signatures: the distribution account's and 19 wallets'.
    for (let at = 0; at < batch.length; at += 19) {
      const signers = batch.slice(at, at + 19);
      await submit((builder) => {
        for (const wallet of signers) {
          builder.addOperation(
            Operation.changeTrust({
              asset,
              source: wallet.publicKey(),
              ...(options.limit ? { limit: options.limit } : {}),
            }),
          );
        }
      }, signers);
    }
  }
  return wallets;
}

/** Landed transactions carrying `memo`, as the sandbox ledger counts them. */
export async function landedWithMemo(
  fixture: StellarFixture,
  memo: string,
): Promise<{ count: number; successful: number }> {
  const response = await fetch(`${fixture.sandbox.url}/sandbox/transactions?memo=${encodeURIComponent(memo)}`);
  return (await response.json()) as { count: number; successful: number };
}

/** The platform configuration that points at this sandbox. */
export function sandboxStellarConfig(fixture: StellarFixture): {
  network: StellarNetworkConfig;
  signers: StellarSigners;
} {
  return {
    network: {
      network: 'sandbox',
      horizonUrl: fixture.sandbox.url,
      sorobanRpcUrl: fixture.sandbox.rpcUrl,
      networkPassphrase: fixture.sandbox.networkPassphrase,
      assetCode: fixture.sandbox.asset.code,
      assetIssuer: fixture.sandbox.asset.issuer,
      distributionAccount: fixture.distribution.publicKey(),
      redemptionAccount: fixture.distribution.publicKey(),
      transactionTimeoutSeconds: 15,
      maxFeePerOperation: 10_000,
    },
    signers: { distribution: fixture.distribution, channels: [...fixture.channelSigners.values()] },
  };
}
