import type { PrismaClient } from '@nova/db';
import {
  ContractCallSource,
  PaymentBatchSource,
  PrismaJournalStore,
  StellarError,
  SignedEnvelopeSource,
  systemClock,
  TransactionJournal,
  type ChannelPool,
  type StellarGateway,
} from '@nova/activities';
import type { StellarFixture } from './stellar';

/**
 * The transaction journal on the real PostgreSQL store with its three envelope sources, wired
 * as the worker wires them (apps/worker/src/stellar.ts), over a sandbox fixture. `channels`
 * leases the payments' channel accounts; `sourceLock` the contract calls' source account.
 */
export function journalOver(
  fixture: StellarFixture,
  db: PrismaClient,
  options: {
    channels: ChannelPool;
    sourceLock?: ChannelPool;
    gateway?: StellarGateway;
    transactionTimeoutSeconds?: number;
    leaseMarginSeconds?: number;
    channelWaitMs?: number;
  },
) {
  const gateway = options.gateway ?? fixture.gateway;
  const transactionTimeoutSeconds = options.transactionTimeoutSeconds ?? 8;
  const leaseMarginSeconds = options.leaseMarginSeconds ?? 4;
  const journal = new TransactionJournal({
    gateway,
    store: new PrismaJournalStore(db),
    leases: options.channels,
    clock: systemClock,
    feeBumpSource: fixture.distribution,
    maxFeePerOperation: 10_000,
  });
  const payments = new PaymentBatchSource({
    journal,
    gateway,
    channels: options.channels,
    distribution: fixture.distribution,
    channelSigners: fixture.channelSigners,
    clock: systemClock,
    transactionTimeoutSeconds,
    leaseMarginSeconds,
    maxFeePerOperation: 10_000,
    channelWaitMs: options.channelWaitMs ?? 2_000,
  });
  const contractCalls = new ContractCallSource({
    journal,
    gateway,
    sourceLock: options.sourceLock ?? options.channels,
    source: fixture.distribution,
    clock: systemClock,
    transactionTimeoutSeconds,
    leaseMarginSeconds,
  });
  const signedEnvelopes = new SignedEnvelopeSource(journal);
  return { journal, payments, contractCalls, signedEnvelopes };
}

/** Thrown by the crash scenarios right after a submission left the machine: the "process" dies. */
export class SimulatedCrash extends Error {}

/**
 * What Temporal does for an activity: call again after a retryable failure or a crash, after
 * the server's Retry-After when it gave one.
 */
export async function durably<T>(what: string, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; attempt <= 200; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof SimulatedCrash || (error instanceof StellarError && error.retryable))) throw error;
      const wait =
        error instanceof StellarError && 'retryAfterSeconds' in error && typeof error.retryAfterSeconds === 'number'
          ? error.retryAfterSeconds * 1000
          : 150;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  throw new Error(`gave up on ${what}`);
}
