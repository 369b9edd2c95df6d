import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IResource } from '@opentelemetry/resources';

/**
 * OpenTelemetry tracing for the API and the worker: off unless `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, then spans go to that OTLP/HTTP endpoint.
 * The standard variables apply: `OTEL_SERVICE_NAME` (default nova-api / nova-worker),
 * `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER(_ARG)`,
 * `OTEL_BSP_*`; `OTEL_SDK_DISABLED=true` turns it off again.
 *
 * Off, nothing of the SDK is loaded and no hook is installed: the only cost is one check.
 * Started first thing in a process (before the modules that make HTTP calls are loaded), it
 * instruments Node's http client and server: incoming requests honour W3C `traceparent`,
 * Horizon, Soroban RPC and webhook calls get client spans. The Temporal interceptors
 * (@temporalio/interceptors-opentelemetry) carry the context through workflows and activities.
 */
export interface Tracing {
  serviceName: string;
  resource: IResource;
  /** Where the worker's workflow spans (made in the workflow sandbox, exported through a sink) go. */
  spanProcessor: SpanProcessor;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

let started: Tracing | undefined;

function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

// Scrapes and probes would be most of the spans, and tell nothing.
const OPERATIONAL_PATHS = /^\/(health|metrics)(\/|\?|$)/;

/** Starts tracing when the environment asks for it; idempotent. Returns undefined when it is off. */
export function startTracing(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (started) return started;
  if (!tracingRequested(env)) return undefined;
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on */
  const { NodeTracerProvider } =
    require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { Resource, envDetectorSync } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { registerInstrumentations } =
    require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const serviceName = env.OTEL_SERVICE_NAME || defaultServiceName;
  // OTEL_RESOURCE_ATTRIBUTES first, the service name over it (OTEL_SERVICE_NAME wins, as the spec has it).
  const resource = Resource.default()
    .merge(envDetectorSync.detect())
    .merge(new Resource({ 'service.name': serviceName }));
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // AsyncLocalStorage context and the W3C trace-context + baggage propagators.
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => OPERATIONAL_PATHS.test(request.url ?? ''),
      }),
    ],
  });
  started = {
    serviceName,
    resource,
    spanProcessor,
    shutdown: () => provider.shutdown(),
  };
  return started;
}

/** The tracing this process started, if any. */
export function activeTracing(): Tracing | undefined {
  return started;
}

/**
 * The active span's ids, for a log line (a pino `mixin`): log lines and traces find each other.
 * Installed only while tracing is on.
 */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  const spanContext = span?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
