import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { REDACTED_PATHS, type ApiConfig } from '@nova/config';
import { activeTracing, traceLogFields } from '@nova/config/tracing';
import { AdminModule } from './admin/admin.module';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuthModule } from './auth/auth.module';
import { CampaignsModule } from './campaigns/campaigns.module';
import { CatalogModule } from './catalog/catalog.module';
import { redactingRequestSerializer } from './common/log-redaction';
import { PlatformAccountsModule } from './common/platform-accounts';
import { RateLimitModule } from './common/rate-limit.module';
import { RequestContractModule } from './common/request-contract';
import { requestIdFor } from './common/request-id';
import { TracingLifecycle } from './common/tracing-lifecycle';
import { ConfigModule } from './config/config.module';
import { ContractEventsModule } from './contract-events/contract-events.module';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { IssuancesModule } from './issuances/issuances.module';
import { MerchantsModule } from './merchants/merchants.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedemptionsModule } from './redemptions/redemptions.module';
import { VestingModule } from './vesting/vesting.module';
import { StellarModule } from './stellar/stellar.module';
import { TemporalModule } from './temporal/temporal.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  static forRoot(config: ApiConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            name: 'nova-api',
            level: config.logLevel,
            genReqId: requestIdFor,
            timestamp: pino.stdTimeFunctions.isoTime,
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            serializers: { req: redactingRequestSerializer(config.adminApiKey) },
            // With tracing on, every line also names the trace and span it was written in (beside req.id).
            ...(activeTracing() ? { mixin: traceLogFields } : {}),
            // Health probes and metrics scrapes come every few seconds; keep them out of the request log.
            autoLogging: {
              ignore: (req) => (req.url ?? '').startsWith('/health') || (req.url ?? '').startsWith('/metrics'),
            },
          },
        }),
        // After the logger: its refusals (405, 413, 415) are logged with their request id.
        RequestContractModule,
        DatabaseModule,
        PlatformAccountsModule,
        AuthModule,
        TemporalModule,
        HealthModule,
        MetricsModule,
        StellarModule,
        AdminModule,
        RateLimitModule.forRoot(config),
        IdempotencyModule,
        MerchantsModule,
        ApiKeysModule,
        CampaignsModule,
        IssuancesModule,
        CatalogModule,
        WebhooksModule,
        RedemptionsModule,
        VestingModule,
        ContractEventsModule,
        EventsModule,
      ],
      providers: [TracingLifecycle],
    };
  }
}
