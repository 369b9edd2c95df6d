import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Client, Connection, type ClientInterceptors, type WorkflowClientInterceptor } from '@temporalio/client';
import { temporalConnectionOptions, type ApiConfig } from '@nova/config';
import { activeTracing } from '@nova/config/tracing';
import { WorkflowHandoffs } from '@nova/workflows/client';
import { API_CONFIG } from '../config/config.module';

@Injectable()
class TemporalLifecycle implements OnApplicationShutdown {
  constructor(@Inject(Client) private readonly client: Client) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.connection.close();
  }
}

/** With tracing on, a workflow start carries the request's trace context into the workflow (and on to its activities). */
function tracingInterceptors(): ClientInterceptors | undefined {
  if (!activeTracing()) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when tracing is on
  const { OpenTelemetryWorkflowClientInterceptor } = require('@temporalio/interceptors-opentelemetry/lib/client') as {
    OpenTelemetryWorkflowClientInterceptor: new () => WorkflowClientInterceptor;
  };
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

@Global()
@Module({
  providers: [
    {
      provide: Client,
      inject: [API_CONFIG],
      // Lazy: the API starts (and reports not-ready) while Temporal is unreachable.
      useFactory: (config: ApiConfig) =>
        new Client({
          connection: Connection.lazy(temporalConnectionOptions(config.temporal)),
          namespace: config.temporal.namespace,
          interceptors: tracingInterceptors(),
        }),
    },
    {
      // Starts and signals by business id, the same way the worker's reconciler re-drives them.
      provide: WorkflowHandoffs,
      inject: [Client, API_CONFIG],
      useFactory: (client: Client, config: ApiConfig) =>
        new WorkflowHandoffs(client, {
          taskQueue: config.temporal.taskQueue,
          webhookTaskQueue: config.temporal.webhookTaskQueue,
          paymentBudgetSeconds: config.issuance.paymentBudgetSeconds,
          fulfilmentDeadlineSeconds: config.redemption.fulfilmentDeadlineSeconds,
          vestingRetry: config.vesting,
          assetCode: config.stellar.assetCode,
          campaignContractId: config.stellar.campaignContractId,
        }),
    },
    TemporalLifecycle,
  ],
  exports: [Client, WorkflowHandoffs],
})
export class TemporalModule {}
