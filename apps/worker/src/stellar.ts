import type { WorkerConfig } from '@nova/config';
import type { PrismaClient } from '@nova/db';
import {
  ContractCallSource,
  PaymentBatchSource,
  PrismaChannelPool,
  PrismaJournalStore,
  StellarGateway,
  TransactionJournal,
  type Clock,
} from '@nova/activities';

/** Seconds a channel lease outlives its envelope's upper time bound (covers clock skew with the network). */
const LEASE_MARGIN_SECONDS = 15;

/**
 * The gateway, the channel pool, the transaction journal and its envelope sources (payment
 * batches, contract calls), built from configuration.
 */
export async function createStellarServices(config: WorkerConfig, db: PrismaClient, clock: Clock) {
  const gateway = new StellarGateway({
    horizonUrl: config.stellar.horizonUrl,
    sorobanRpcUrl: config.stellar.sorobanRpcUrl,
    networkPassphrase: config.stellar.networkPassphrase,
    assetCode: config.stellar.assetCode,
    assetIssuer: config.stellar.assetIssuer,
  });
  const channelSigners = new Map(config.signers.channels.map((keypair) => [keypair.publicKey(), keypair]));
  const channels = new PrismaChannelPool(db, clock, [...channelSigners.keys()]);
  await channels.register();
  // One journal for everything put on chain; the sources only build what it persists and submits.
  const journal = new TransactionJournal({
    gateway,
    store: new PrismaJournalStore(db),
    leases: channels,
    clock,
    feeBumpSource: config.signers.distribution,
    maxFeePerOperation: config.stellar.maxFeePerOperation,
  });
  const payments = new PaymentBatchSource({
    journal,
    gateway,
    channels,
    distribution: config.signers.distribution,
    channelSigners,
    clock,
    transactionTimeoutSeconds: config.stellar.transactionTimeoutSeconds,
    leaseMarginSeconds: LEASE_MARGIN_SECONDS,
    maxFeePerOperation: config.stellar.maxFeePerOperation,
    ...(config.stellar.maxPaymentsPerTransaction !== undefined
      ? { maxPaymentsPerTransaction: config.stellar.maxPaymentsPerTransaction }
      : {}),
  });
  // Contract calls are sourced from the distribution account (the contracts' admin; payments
  // only use it as an operation source, which consumes no sequence number). A lease on it in
  // the same table keeps every worker process to one call in flight at a time.
  const sourceLock = new PrismaChannelPool(db, clock, [config.signers.distribution.publicKey()]);
  await sourceLock.register();
  const contractCalls = new ContractCallSource({
    journal,
    gateway,
    sourceLock,
    source: config.signers.distribution,
    clock,
    transactionTimeoutSeconds: config.stellar.transactionTimeoutSeconds,
    leaseMarginSeconds: LEASE_MARGIN_SECONDS,
  });
  return {
    gateway,
    channels,
    journal,
    payments,
    contractCalls,
    ...(config.stellar.campaignContractId ? { campaignContractId: config.stellar.campaignContractId } : {}),
    ...(config.stellar.redemptionContractId ? { redemptionContractId: config.stellar.redemptionContractId } : {}),
    ...(config.stellar.vestingContractId ? { vestingContractId: config.stellar.vestingContractId } : {}),
  };
}
