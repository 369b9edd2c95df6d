import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { activeTracing } from '@nova/config/tracing';

/** On shutdown, the spans still buffered are exported before the process exits. */
@Injectable()
export class TracingLifecycle implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await activeTracing()?.shutdown();
  }
}
