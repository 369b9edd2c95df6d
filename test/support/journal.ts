import type { PrismaClient } from '@nova/db';
import {
  ContractCallSource,
  PaymentBatchSource,
  PrismaJournalStore,
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
