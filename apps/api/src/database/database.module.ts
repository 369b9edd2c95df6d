import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createPrismaClient, PrismaClient } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { API_CONFIG } from '../config/config.module';

@Injectable()
class PrismaLifecycle implements OnApplicationShutdown {
  constructor(@Inject(PrismaClient) private readonly db: PrismaClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.$disconnect();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: PrismaClient,
      inject: [API_CONFIG],
      useFactory: (config: ApiConfig) => createPrismaClient({ databaseUrl: config.databaseUrl }),
    },
    PrismaLifecycle,
  ],
  exports: [PrismaClient],
})
export class DatabaseModule {}
