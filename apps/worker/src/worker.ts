import { hostname } from 'node:os';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogEntry,
  type LogLevel as TemporalLogLevel,
  type InjectedSinks,
  type WorkerOptions,
} from '@temporalio/worker';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow';
import { temporalConnectionOptions, type WorkerConfig } from '@nova/config';
import { activeTracing } from '@nova/config/tracing';
import { stdSerializers, type Logger } from 'pino';

/** Where the worker gets its workflow code: a prebuilt bundle in production, the sources in development. */
export type WorkflowSource = { bundlePath: string } | { workflowsPath: string };

export function workflowSourceFor(config: WorkerConfig): WorkflowSource {
  if (config.worker.workflowBundlePath) return { bundlePath: config.worker.workflowBundlePath };
  if (config.nodeEnv === 'production') {
    // Production never compiles workflow code at start: the build made the bundle with this SDK version.
    return { bundlePath: require.resolve('../dist/workflow-bundle.js') };
  }
  return { workflowsPath: require.resolve('@nova/workflows') };
}

export function workerIdentity(): string {
  return `nova-worker@${hostname()}/${process.pid}`;
}

const temporalLevels: Record<string, TemporalLogLevel> = {
  fatal: 'ERROR',
  error: 'ERROR',
  warn: 'WARN',
  info: 'INFO',
  debug: 'DEBUG',
  trace: 'TRACE',
  silent: 'ERROR',
};

/**
 * The SDK's log metadata as pino should write it: errors (a failed workflow's `error`, an
 * activity's failure) have only non-enumerable fields, which JSON writes as {}; pino's error
 * serializer keeps their type, message, stack and causes.
 */
export function temporalLogFields(meta: Record<string, unknown> | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = { sdkComponent: 'temporal' };
  for (const [name, value] of Object.entries(meta ?? {})) {
    fields[name] = value instanceof Error ? stdSerializers.err(value) : value;
  }
  return fields;
}

// The bundler's webpack report (dozens of lines) when the worker compiles workflow sources in development.
const WEBPACK_REPORT = /\bwebpack \d+\.\d+\.\d+ compiled\b/;

/** Writes one SDK log entry to pino: errors serialized, the webpack report at debug. */
export function temporalLogSink(logger: Logger): (entry: LogEntry) => void {
  return (entry) => {
    const fields = temporalLogFields(entry.meta);
    if (entry.level === 'INFO' && WEBPACK_REPORT.test(entry.message)) {
      logger.debug(fields, entry.message);
      return;
    }
    switch (entry.level) {
      case 'ERROR':
        logger.error(fields, entry.message);
        break;
      case 'WARN':
        logger.warn(fields, entry.message);
        break;
      case 'DEBUG':
      case 'TRACE':
        logger.debug(fields, entry.message);
        break;
      default:
        logger.info(fields, entry.message);
    }
  };
}

/**
 * Core's Prometheus exporter, as the worker's metrics server reads it (metrics.ts): counters
 * with _total, durations in seconds with the unit in the name, as Prometheus names them.
 */
export function temporalPrometheusOptions(bindAddress: string) {
  return {
    prometheus: { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
  };
}

/**
 * Routes the SDK's and Core's logs into the process's pino logger, so every line is JSON; with
 * `temporalMetricsAddress` (host:port), Core serves the SDK's worker metrics there.
 */
export function installRuntime(logger: Logger, level: string, options: { temporalMetricsAddress?: string } = {}): void {
  const temporalLevel = temporalLevels[level] ?? 'INFO';
  Runtime.install({
    telemetryOptions: {
      // Core (Rust) logs are forwarded too, so even the native layer logs JSON through pino.
      logging: { filter: { core: temporalLevel, other: temporalLevel }, forward: {} },
      ...(options.temporalMetricsAddress ? { metrics: temporalPrometheusOptions(options.temporalMetricsAddress) } : {}),
    },
    logger: new DefaultLogger(temporalLevel, temporalLogSink(logger)),
  });
}

/** The workflow interceptors bundled with the workflow code (see workflow-interceptors.ts). */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('./workflow-interceptors')];

/**
 * The OpenTelemetry interceptors while tracing is on: activity spans (children of the workflow's
 * span that scheduled them), and the sink through which the workflow sandbox's spans are exported.
 * Off, the workflow interceptors still run (they are in the bundle) but touch only traced runs,
 * and the sink is there for runs a traced API started.
 */
function tracingOptions(): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const tracing = activeTracing();
  if (!tracing) {
    return {
      interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES },
      sinks: { exporter: { export: { fn: () => undefined } } } as InjectedSinks<OpenTelemetrySinks>,
    };
  }
  // Loaded only while tracing is on: off, the worker never loads the OpenTelemetry SDK.
  const { makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@temporalio/interceptors-opentelemetry/lib/worker') as typeof import('@temporalio/interceptors-opentelemetry/lib/worker');
  return {
    interceptors: {
      workflowModules: WORKFLOW_INTERCEPTOR_MODULES,
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: {
      exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource),
    } as InjectedSinks<OpenTelemetrySinks>,
  };
}

export async function connectToTemporal(config: WorkerConfig): Promise<NativeConnection> {
  return await NativeConnection.connect(temporalConnectionOptions(config.temporal));
}

/** The task queue a worker role polls. */
export function taskQueueOf(config: WorkerConfig, role: 'core' | 'webhooks'): string {
  return role === 'core' ? config.temporal.taskQueue : config.temporal.webhookTaskQueue;
}

/**
 * One worker per task queue this process polls (WORKER_TASK_QUEUES): the core queue (issuance,
 * campaign, reconciler, self-check) and the webhook deliveries' queue, whose attempts are
 * bounded apart (WEBHOOK_WORKER_CONCURRENCY), so slow merchant endpoints never take the slots
 * payments need. Both share the connection, the activities and the workflow code.
 */
export async function createPlatformWorkers(options: {
  config: WorkerConfig;
  connection: NativeConnection;
  activities: object;
  workflowSource: WorkflowSource;
  identity: string;
}): Promise<Worker[]> {
  return await Promise.all(options.config.worker.taskQueues.map((role) => createPlatformWorker({ ...options, role })));
}

export async function createPlatformWorker(options: {
  config: WorkerConfig;
  connection: NativeConnection;
  activities: object;
  workflowSource: WorkflowSource;
  identity: string;
  /** Which task queue it polls (default: the core one). */
  role?: 'core' | 'webhooks';
}): Promise<Worker> {
  const { config } = options;
  const role = options.role ?? 'core';
  const workflowOptions =
    'bundlePath' in options.workflowSource
      ? { workflowBundle: { codePath: options.workflowSource.bundlePath } }
      : { workflowsPath: options.workflowSource.workflowsPath };
  const tracing = tracingOptions();
  // A prebuilt bundle has the workflow interceptors in it already (bundle.ts).
  if ('workflowBundle' in workflowOptions && tracing.interceptors) delete tracing.interceptors.workflowModules;
  return await Worker.create({
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue: taskQueueOf(config, role),
    identity: options.identity,
    activities: options.activities,
    ...workflowOptions,
    ...tracing,
    ...(role === 'webhooks' ? { maxConcurrentActivityTaskExecutions: config.webhooks.workerConcurrency } : {}),
    // On SIGTERM the worker stops polling and lets running activities finish for this long.
    shutdownGraceTime: `${config.worker.shutdownGraceSeconds} seconds`,
  });
}
