import type { WorkerConfig } from '@nova/config';
import type { PrismaClient } from '@nova/db';
import { PaymentSubmitter, PrismaChannelPool, PrismaEnvelopeStore, StellarGateway, type Clock } from '@nova/activities';

/** Seconds a channel lease outlives its envelope's upper time bound (covers clock skew with the network). */
const LEASE_MARGIN_SECONDS = 15;

/** The gateway, the channel pool and the exactly-once submitter, built from configuration. */
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
  const submitter = new PaymentSubmitter({
    gateway,
    envelopes: new PrismaEnvelopeStore(db),
    channels,
    distribution: config.signers.distribution,
    channelSigners,
    clock,
    transactionTimeoutSeconds: config.stellar.transactionTimeoutSeconds,
    leaseMarginSeconds: LEASE_MARGIN_SECONDS,
    maxFeePerOperation: config.stellar.maxFeePerOperation,
  });
  return { gateway, channels, submitter };
}
