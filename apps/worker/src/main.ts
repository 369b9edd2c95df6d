import './tracing';
import { ConfigError, createLogger, loadWorkerConfig } from '@nova/config';
import { activeTracing } from '@nova/config/tracing';
import { createBacklogMetrics, domainMetrics } from '@nova/activities';
import { createPrismaClient } from '@nova/db';
import {
  createTemporalClient,
  createWorkerActivities,
  ensureContractIndexers,
  ensureReconciler,
  ensureReconciliation,
} from './activities';
import { freeLoopbackPort, processMetrics, startMetricsServer, type MetricsServer } from './metrics';
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
  const metricsOn = config.worker.metrics.port !== 0;
  // Core's own exporter, on loopback only: the worker's metrics server reads it at each scrape.
  const temporalMetricsAddress = metricsOn ? `127.0.0.1:${await freeLoopbackPort()}` : undefined;
  installRuntime(logger, config.logLevel, { temporalMetricsAddress });

  const identity = workerIdentity();
  const db = createPrismaClient({ databaseUrl: config.databaseUrl });
  const connection = await connectToTemporal(config);
  const temporal = createTemporalClient(connection, config);
  const workflowSource = workflowSourceFor(config);
  const activities = await createWorkerActivities({ config, db, temporal, identity, logger });
  const workers = await createPlatformWorkers({ config, connection, identity, workflowSource, activities });
  // Created or brought up to date at every boot: whatever a worker records, a reconciler re-drives.
  const reconciler = await ensureReconciler(temporal, config);
  const indexers = await ensureContractIndexers(temporal, config);
  // Likewise the chain reconciliation's schedule (daily by default).
  const reconciliation = await ensureReconciliation(temporal, config);
  let metrics: MetricsServer | undefined;
  if (metricsOn) {
    metrics = await startMetricsServer({
      host: config.worker.metrics.host,
      port: config.worker.metrics.port,
      registries: [
        domainMetrics,
        createBacklogMetrics({
          db,
          reconcileAfterSeconds: config.reconciler.afterSeconds,
          channelPublicKeys: config.worker.taskQueues.includes('core')
            ? config.signers.channels.map((channel) => channel.publicKey())
            : [],
        }),
        processMetrics(),
      ],
      temporalMetricsUrl: `http://${temporalMetricsAddress}/metrics`,
      onError: (error) => logger.warn({ error: String(error) }, 'metrics scrape failed'),
    });
  }

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
      contractIndexers: indexers.map((indexer) => indexer.workflowId),
      reconcileEverySeconds: config.reconciler.everySeconds,
      reconciliationSchedule: reconciliation.scheduleId,
      metrics: metrics ? `http://${config.worker.metrics.host}:${metrics.port}/metrics` : 'off',
      tracing: activeTracing()?.serviceName ?? 'off',
    },
    'worker started',
  );
  // The Runtime turns SIGINT/SIGTERM into worker.shutdown(): polling stops, running
  // activities get the grace period, then run() resolves.
  await Promise.all(workers.map((worker) => worker.run()));
  await metrics?.close();
  await activeTracing()?.shutdown();
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
