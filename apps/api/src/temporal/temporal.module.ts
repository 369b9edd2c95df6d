import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { temporalConnectionOptions, type ApiConfig } from '@nova/config';
import { WorkflowHandoffs } from '@nova/workflows/client';
import { API_CONFIG } from '../config/config.module';

@Injectable()
class TemporalLifecycle implements OnApplicationShutdown {
  constructor(@Inject(Client) private readonly client: Client) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.connection.close();
  }
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
          assetCode: config.stellar.assetCode,
          campaignContractId: config.stellar.campaignContractId,
        }),
    },
    TemporalLifecycle,
  ],
  exports: [Client, WorkflowHandoffs],
})
export class TemporalModule {}
