import { ConfigError, createLogger, loadWorkerConfig } from '@nova/config';
import { createPrismaClient } from '@nova/db';
import { createTemporalClient, createWorkerActivities, ensureReconciler } from './activities';
import {
  connectToTemporal,
  createPlatformWorkers,
  installRuntime,
  taskQueueOf,
  workerIdentity,
  workflowSourceFor,
} from './worker';

async function main(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`nova-worker: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }

  const logger = createLogger({ name: 'nova-worker', level: config.logLevel });
  installRuntime(logger, config.logLevel);

  const identity = workerIdentity();
  const db = createPrismaClient({ databaseUrl: config.databaseUrl });
  const connection = await connectToTemporal(config);
  const temporal = createTemporalClient(connection, config);
  const workflowSource = workflowSourceFor(config);
  const activities = await createWorkerActivities({ config, db, temporal, identity, logger });
  const workers = await createPlatformWorkers({ config, connection, identity, workflowSource, activities });
  // Created or brought up to date at every boot: whatever a worker records, a reconciler re-drives.
  const reconciler = await ensureReconciler(temporal, config);

  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      webhookTaskQueue: config.temporal.webhookTaskQueue,
      polling: config.worker.taskQueues.map((role) => taskQueueOf(config, role)),
      namespace: config.temporal.namespace,
      temporalAddress: config.temporal.address,
      workflowSource: 'bundlePath' in workflowSource ? 'bundle' : 'sources',
      identity,
      stellarNetwork: config.stellar.network,
      horizonUrl: config.stellar.horizonUrl,
      channelAccounts: config.signers.channels.length,
      campaignContract: config.stellar.campaignContractId ?? 'none: campaign sync is off',
      reconcilerSchedule: reconciler.scheduleId,
      reconcileEverySeconds: config.reconciler.everySeconds,
    },
    'worker started',
  );
  // The Runtime turns SIGINT/SIGTERM into worker.shutdown(): polling stops, running
  // activities get the grace period, then run() resolves.
  await Promise.all(workers.map((worker) => worker.run()));
  await db.$disconnect();
  await connection.close();
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `nova-worker: fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
