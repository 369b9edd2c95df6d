import { Client, type WorkflowClientInterceptor } from '@temporalio/client';
import { activeTracing } from '@nova/config/tracing';
import type { NativeConnection } from '@temporalio/worker';
import type { WorkerConfig } from '@nova/config';
import type { PrismaClient } from '@nova/db';
import type { Logger } from 'pino';
import {
  createActivities,
  systemClock,
  WebhookRelay,
  WebhookSender,
  type Clock,
  type PlatformActivities,
} from '@nova/activities';
import { INDEXED_CONTRACTS, type IndexedContract } from '@nova/domain';
import { ensureReconcilerSchedule, ensureReconciliationSchedule, WorkflowHandoffs } from '@nova/workflows/client';
import { createStellarServices } from './stellar';

function tracingClientInterceptor(): WorkflowClientInterceptor {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when tracing is on
  const { OpenTelemetryWorkflowClientInterceptor } = require('@temporalio/interceptors-opentelemetry/lib/client') as {
    OpenTelemetryWorkflowClientInterceptor: new () => WorkflowClientInterceptor;
  };
  return new OpenTelemetryWorkflowClientInterceptor();
}

/** A Temporal client on the worker's own connection (same validated options), for starts, signals and schedules. */
export function createTemporalClient(connection: NativeConnection, config: WorkerConfig): Client {
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    // With tracing on, the runs it starts (webhook deliveries, re-driven issuances) carry the current trace.
    ...(activeTracing() ? { interceptors: { workflow: [tracingClientInterceptor()] } } : {}),
  });
}

/** Every activity the worker registers, built from configuration: what main.ts runs, and what end-to-end tests run. */
export async function createWorkerActivities(options: {
  config: WorkerConfig;
  db: PrismaClient;
  temporal: Client;
  identity: string;
  clock?: Clock;
  logger?: Logger;
}): Promise<PlatformActivities> {
  const { config, db } = options;
  const clock = options.clock ?? systemClock;
  const handoffs = new WorkflowHandoffs(options.temporal, {
    taskQueue: config.temporal.taskQueue,
    webhookTaskQueue: config.temporal.webhookTaskQueue,
    paymentBudgetSeconds: config.issuance.paymentBudgetSeconds,
    fulfilmentDeadlineSeconds: config.redemption.fulfilmentDeadlineSeconds,
    vestingRetry: config.vesting,
    assetCode: config.stellar.assetCode,
    campaignContractId: config.stellar.campaignContractId,
  });
  const relay = new WebhookRelay(db, handoffs, (message, error) =>
    options.logger?.warn({ error: error instanceof Error ? error.message : String(error) }, message),
  );
  return createActivities({
    db,
    clock,
    workerIdentity: options.identity,
    handoffs,
    temporalUi: config.temporal,
    webhooks: {
      relay,
      sender: new WebhookSender({
        allowlist: config.webhooks.allowlist,
        timeoutMs: config.webhooks.attemptTimeoutSeconds * 1000,
        clock,
      }),
      endpointConcurrency: config.webhooks.endpointConcurrency,
      attemptTimeoutSeconds: config.webhooks.attemptTimeoutSeconds,
    },
    ...(await createStellarServices(config, db, clock)),
  });
}

/**
 * One indexer per configured contract (campaign, redemption, vesting), handed to Temporal by
 * business id at every boot: a running indexer is left as it is, one that ended is started again.
 * Only a worker that polls the core task queue (where the indexers run) asks.
 */
export async function ensureContractIndexers(
  temporal: Client,
  config: WorkerConfig,
): Promise<{ contract: IndexedContract; contractId: string; workflowId: string }[]> {
  if (!config.worker.taskQueues.includes('core')) return [];
  const handoffs = new WorkflowHandoffs(temporal, {
    taskQueue: config.temporal.taskQueue,
    webhookTaskQueue: config.temporal.webhookTaskQueue,
    paymentBudgetSeconds: config.issuance.paymentBudgetSeconds,
    fulfilmentDeadlineSeconds: config.redemption.fulfilmentDeadlineSeconds,
    assetCode: config.stellar.assetCode,
    campaignContractId: config.stellar.campaignContractId,
  });
  const configured = {
    campaign: config.stellar.campaignContractId,
    redemption: config.stellar.redemptionContractId,
    vesting: config.stellar.vestingContractId,
  } satisfies Record<IndexedContract, string | undefined>;
  const started = [];
  for (const contract of INDEXED_CONTRACTS) {
    const contractId = configured[contract];
    if (!contractId) continue;
    const { workflowId } = await handoffs.ensureContractIndexer({
      contract,
      contractId,
      pageSize: config.contractIndexer.pageSize,
      pollSeconds: config.contractIndexer.pollSeconds,
    });
    started.push({ contract, contractId, workflowId });
  }
  return started;
}

/** The deployment's reconciler schedule, as configured (RECONCILE_EVERY_SECONDS, RECONCILE_AFTER_SECONDS). */
export async function ensureReconciler(temporal: Client, config: WorkerConfig) {
  return await ensureReconcilerSchedule(temporal, {
    taskQueue: config.temporal.taskQueue,
    everySeconds: config.reconciler.everySeconds,
    afterSeconds: config.reconciler.afterSeconds,
  });
}

/** The deployment's chain reconciliation schedule (RECONCILIATION_SCHEDULE, _WINDOW_SECONDS, _LAG_SECONDS). */
export async function ensureReconciliation(temporal: Client, config: WorkerConfig) {
  return await ensureReconciliationSchedule(temporal, {
    taskQueue: config.temporal.taskQueue,
    ...config.reconciliation,
  });
}
