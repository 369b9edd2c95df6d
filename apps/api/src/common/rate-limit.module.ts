import { Module, type DynamicModule, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { HealthController } from '../health/health.controller';
import { MetricsController } from '../metrics/metrics.controller';
import type { ApiConfig } from '@nova/config';
import { RateLimitGuard, RateLimitTracker, throttlerOptions } from './rate-limit';

// Probes must never be refused: an orchestrator would restart a healthy but busy API. Nor
// scrapes: a gap in the metrics would read as an outage.
const isOperationalRoute = (context: ExecutionContext): boolean =>
  context.getClass() === HealthController || context.getClass() === MetricsController;

/** Registers the per-API-key rate limit as a global guard. */
@Module({})
export class RateLimitModule {
  static forRoot(config: ApiConfig): DynamicModule {
    const options = throttlerOptions(config.rateLimit, isOperationalRoute);
    return {
      module: RateLimitModule,
      imports: [ThrottlerModule.forRoot(options)],
      providers: [RateLimitTracker, { provide: APP_GUARD, useClass: RateLimitGuard }],
    };
  }
}
