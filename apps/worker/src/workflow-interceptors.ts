/**
 * Workflow interceptors, bundled with the workflow code (bundle.ts; Worker.create in
 * development): OpenTelemetry spans for a workflow run and the activities it schedules, but
 * only for a run started with a trace context in its headers (the API's or the worker's client
 * adds one while tracing is on). A run without one (tracing off, and every history recorded
 * before tracing existed) goes through untouched, so tracing off costs the workflow nothing and
 * the stored histories replay exactly as they were recorded. The decision reads the run's own
 * start headers, which are in its history: deterministic.
 *
 * Runs in the workflow sandbox: it may import only workflow-safe code.
 */
import type {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInterceptors } from '@temporalio/workflow';

/** Where @temporalio/interceptors-opentelemetry carries the span context between client, workflow and activities. */
const TRACE_HEADER = '_tracer-data';

export const interceptors = (): WorkflowInterceptors => {
  let traced = false;
  let tracing:
    | {
        inbound: OpenTelemetryInboundInterceptor;
        outbound: OpenTelemetryOutboundInterceptor;
        internals: OpenTelemetryInternalsInterceptor;
      }
    | undefined;
  // Built on first use, and the OpenTelemetry modules evaluated then too (the bundle holds them
  // as functions until required): while nothing is traced, the sandbox never loads the SDK.
  const otel = () => {
    if (!tracing) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred on purpose (above)
      const otelWorkflow = require('@temporalio/interceptors-opentelemetry/lib/workflow') as {
        OpenTelemetryInboundInterceptor: new () => OpenTelemetryInboundInterceptor;
        OpenTelemetryOutboundInterceptor: new () => OpenTelemetryOutboundInterceptor;
        OpenTelemetryInternalsInterceptor: new () => OpenTelemetryInternalsInterceptor;
      };
      tracing = {
        inbound: new otelWorkflow.OpenTelemetryInboundInterceptor(),
        outbound: new otelWorkflow.OpenTelemetryOutboundInterceptor(),
        internals: new otelWorkflow.OpenTelemetryInternalsInterceptor(),
      };
    }
    return tracing;
  };

  return {
    inbound: [
      {
        execute(input, next) {
          traced = TRACE_HEADER in input.headers;
          return traced ? otel().inbound.execute(input, next) : next(input);
        },
        handleSignal(input, next) {
          return traced || TRACE_HEADER in input.headers ? otel().inbound.handleSignal(input, next) : next(input);
        },
      },
    ],
    outbound: [
      {
        scheduleActivity(input, next) {
          return traced ? otel().outbound.scheduleActivity(input, next) : next(input);
        },
        scheduleLocalActivity(input, next) {
          return traced ? otel().outbound.scheduleLocalActivity(input, next) : next(input);
        },
        startChildWorkflowExecution(input, next) {
          return traced ? otel().outbound.startChildWorkflowExecution(input, next) : next(input);
        },
        signalWorkflow(input, next) {
          return traced ? otel().outbound.signalWorkflow(input, next) : next(input);
        },
        continueAsNew(input, next) {
          return traced ? otel().outbound.continueAsNew(input, next) : next(input);
        },
        getLogAttributes(input, next) {
          return traced ? otel().outbound.getLogAttributes(input, next) : next(input);
        },
      },
    ],
    internals: [
      {
        dispose(input, next) {
          return tracing ? tracing.internals.dispose(input, next) : next(input);
        },
      },
    ],
  };
};
