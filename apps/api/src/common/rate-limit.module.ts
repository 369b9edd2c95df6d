import { Module, type DynamicModule, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { HealthController } from '../health/health.controller';
import {
  RateLimitGuard,
  RateLimitTracker,
  resolveRateLimit,
  throttlerOptions,
  type RateLimitedApiConfig,
} from './rate-limit';

// Probes must never be refused: an orchestrator would restart a healthy but busy API.
const isHealthProbe = (context: ExecutionContext): boolean => context.getClass() === HealthController;

/** Registers the per-API-key rate limit as a global guard. */
@Module({})
export class RateLimitModule {
  /** Resolves the limit here, while the app is being built, so bad config fails createApp itself. */
  static forRoot(config: RateLimitedApiConfig): DynamicModule {
    const options = throttlerOptions(resolveRateLimit(config), isHealthProbe);
    return {
      module: RateLimitModule,
      imports: [ThrottlerModule.forRoot(options)],
      providers: [RateLimitTracker, { provide: APP_GUARD, useClass: RateLimitGuard }],
    };
  }
}
