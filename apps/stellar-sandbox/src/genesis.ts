/**
 * First start (and every start, idempotently): the root account of ledger 1 funds the
 * issuer, the distribution account and the channel accounts with real createAccount
 * transactions, the distribution account trusts NOVA and receives the initial issuance,
 * and the platform's contracts are deployed at ids derived from the network and root.
 */
import { fromStroops, MAX_STROOPS, STROOPS_PER_UNIT } from '@nova/domain';
import {
  Account,
  Asset,
  Keypair,
  Operation,
  TimeoutInfinite,
  TransactionBuilder,
  type Transaction,
} from '@stellar/stellar-sdk';
import { CONTRACT_NAMES, deterministicContractId, interfaceWasmHash } from './contracts-interface';
import { networkIdOf } from './envelope';
import type { LedgerCloser } from './ledger-closer';
import { ledgerRecord, TOTAL_COINS } from './ledger-closer';
import { accountKey, type LedgerState } from './ledger-state';
import type { KeyPairRecord, SandboxKeys } from './persistence';
import { horizonResultCodes } from './result-codes';
import type { TransactionSubmitter } from './submission';
import { BASE_FEE } from './transaction-validator';

export const ASSET_CODE = 'NOVA';
export const INITIAL_ISSUANCE = 1_000_000_000n * STROOPS_PER_UNIT;
export const FRIENDBOT_STARTING_BALANCE = 10_000n * STROOPS_PER_UNIT;
const ISSUER_BALANCE = 10_000n * STROOPS_PER_UNIT;
const DISTRIBUTION_BALANCE = 1_000_000n * STROOPS_PER_UNIT;
const CHANNEL_BALANCE = 10_000n * STROOPS_PER_UNIT;

/** The network's root account: derived from the passphrase, as on any standalone Stellar network. */
export function rootKeypair(networkPassphrase: string): Keypair {
  return Keypair.master(networkPassphrase);
}

export function generateKeys(channelCount: number): SandboxKeys {
  return {
    issuer: keyPairRecord(Keypair.random()),
    distribution: keyPairRecord(Keypair.random()),
    channels: Array.from({ length: channelCount }, () => keyPairRecord(Keypair.random())),
  };
}

/** Adds channel keys until there are `channelCount`; never removes any (their accounts may hold funds). */
export function extendKeys(keys: SandboxKeys, channelCount: number): { keys: SandboxKeys; changed: boolean } {
  if (keys.channels.length >= channelCount) return { keys, changed: false };
  const extra = Array.from({ length: channelCount - keys.channels.length }, () => keyPairRecord(Keypair.random()));
  return { keys: { ...keys, channels: [...keys.channels, ...extra] }, changed: true };
}

function keyPairRecord(keypair: Keypair): KeyPairRecord {
  return { publicKey: keypair.publicKey(), secretKey: keypair.secret() };
}

/** Ledger 1: the root account holds every lumen. */
export function createGenesisLedger(state: LedgerState, maxOpsPerLedger: number, nowSeconds: number): void {
  const root = rootKeypair(state.networkPassphrase).publicKey();
  state.write(accountKey(root), {
    type: 'account',
    accountId: root,
    balance: TOTAL_COINS,
    seqNum: 0n,
    numSubEntries: 0,
    seqLedger: 0,
    seqTime: 0n,
    lastModifiedLedger: 1,
  });
  state.addLedger(
    ledgerRecord({
      sequence: 1,
      previousHash: '0'.repeat(64),
      closeTime: BigInt(nowSeconds),
      txSetHash: Buffer.alloc(32),
      txSetResultHash: Buffer.alloc(32),
      totalCoins: TOTAL_COINS,
      feePool: 0n,
      maxTxSetSize: maxOpsPerLedger,
      transactionHashes: [],
      successful: 0,
      failed: 0,
      operationCount: 0,
      txSetOperationCount: 0,
    }),
  );
}

/** A createAccount from the root account, signed, ready to submit (friendbot and genesis). */
export function fundingTransaction(
  networkPassphrase: string,
  /** The root account's current sequence (the builder uses the next one). */
  rootSequence: bigint,
  destinations: ReadonlyArray<{ accountId: string; startingBalance: bigint }>,
): Transaction {
  const root = rootKeypair(networkPassphrase);
  const builder = new TransactionBuilder(new Account(root.publicKey(), rootSequence.toString()), {
    fee: BASE_FEE.toString(),
    networkPassphrase,
  }).setTimeout(TimeoutInfinite);
  for (const destination of destinations) {
    builder.addOperation(
      Operation.createAccount({
        destination: destination.accountId,
        startingBalance: fromStroops(destination.startingBalance),
      }),
    );
  }
  const transaction = builder.build();
  transaction.sign(root);
  return transaction;
}

export interface GenesisDependencies {
  state: LedgerState;
  closer: LedgerCloser;
  submitter: TransactionSubmitter;
  keys: SandboxKeys;
}

/** Brings the ledger to the expected starting point; returns whether anything changed. */
export async function ensureGenesis({ state, closer, submitter, keys }: GenesisDependencies): Promise<boolean> {
  const passphrase = state.networkPassphrase;
  let changed = false;

  const wanted = [
    { accountId: keys.issuer.publicKey, startingBalance: ISSUER_BALANCE },
    { accountId: keys.distribution.publicKey, startingBalance: DISTRIBUTION_BALANCE },
    ...keys.channels.map((channel) => ({ accountId: channel.publicKey, startingBalance: CHANNEL_BALANCE })),
  ].filter((destination) => !state.account(destination.accountId));
  for (let start = 0; start < wanted.length; start += 100) {
    const root = rootKeypair(passphrase).publicKey();
    const transaction = fundingTransaction(passphrase, closer.currentSequence(root), wanted.slice(start, start + 100));
    await submitAndClose(submitter, closer, transaction.toEnvelope().toXDR('base64'), 'fund the sandbox accounts');
    changed = true;
  }

  const issuer = keys.issuer.publicKey;
  const distribution = keys.distribution.publicKey;
  if (!state.trustline(distribution, ASSET_CODE, issuer)) {
    const asset = new Asset(ASSET_CODE, issuer);
    const source = state.account(distribution);
    if (!source) throw new Error('genesis: the distribution account was not created');
    const transaction = new TransactionBuilder(new Account(distribution, source.seqNum.toString()), {
      fee: (BASE_FEE * 2n).toString(),
      networkPassphrase: passphrase,
    })
      .addOperation(Operation.changeTrust({ asset, limit: fromStroops(MAX_STROOPS) }))
      .addOperation(
        Operation.payment({
          source: issuer,
          destination: distribution,
          asset,
          amount: fromStroops(INITIAL_ISSUANCE),
        }),
      )
      .setTimeout(TimeoutInfinite)
      .build();
    transaction.sign(Keypair.fromSecret(keys.distribution.secretKey), Keypair.fromSecret(keys.issuer.secretKey));
    await submitAndClose(
      submitter,
      closer,
      transaction.toEnvelope().toXDR('base64'),
      'issue NOVA to the distribution account',
    );
    changed = true;
  }

  const root = rootKeypair(passphrase).publicKey();
  const networkId = networkIdOf(passphrase);
  for (const name of CONTRACT_NAMES) {
    if (state.contracts.some((deployment) => deployment.name === name)) continue;
    state.contracts.push({
      name,
      contractId: deterministicContractId(networkId, root, name),
      wasmHash: interfaceWasmHash(name),
      deployedAtLedger: state.latestLedger().sequence,
    });
    changed = true;
  }

  const accounts = { issuer, distribution, channels: keys.channels.map((channel) => channel.publicKey) };
  if (JSON.stringify(accounts) !== JSON.stringify(state.accounts)) {
    state.accounts = accounts;
    changed = true;
  }
  return changed;
}

async function submitAndClose(
  submitter: TransactionSubmitter,
  closer: LedgerCloser,
  envelopeXdr: string,
  purpose: string,
): Promise<void> {
  const decision = submitter.submit(envelopeXdr, { applyFaults: false });
  if (decision.kind === 'rejected') {
    throw new Error(`genesis: could not ${purpose}: ${JSON.stringify(horizonResultCodes(decision.result))}`);
  }
  if (decision.kind !== 'accepted' || !decision.pending)
    throw new Error(`genesis: could not ${purpose} (${decision.kind})`);
  let outcome: string | undefined;
  decision.pending.waiters.push((result) => {
    outcome = result.kind === 'applied' && result.record.successful ? 'ok' : JSON.stringify(result);
  });
  await closer.closeLedger();
  if (outcome !== 'ok') throw new Error(`genesis: could not ${purpose}: ${outcome ?? 'not included'}`);
}
