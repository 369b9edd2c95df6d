import { Module, type DynamicModule, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { HealthController } from '../health/health.controller';
import type { ApiConfig } from '@nova/config';
import { RateLimitGuard, RateLimitTracker, throttlerOptions } from './rate-limit';

// Probes must never be refused: an orchestrator would restart a healthy but busy API.
const isHealthProbe = (context: ExecutionContext): boolean => context.getClass() === HealthController;

/** Registers the per-API-key rate limit as a global guard. */
@Module({})
export class RateLimitModule {
  static forRoot(config: ApiConfig): DynamicModule {
    const options = throttlerOptions(config.rateLimit, isHealthProbe);
    return {
      module: RateLimitModule,
      imports: [ThrottlerModule.forRoot(options)],
      providers: [RateLimitTracker, { provide: APP_GUARD, useClass: RateLimitGuard }],
    };
  }
}
