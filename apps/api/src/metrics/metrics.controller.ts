import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { apiMetrics } from './http-metrics';

/**
 * Prometheus scrapes GET /metrics. It is operational, not part of the merchant API: left out of
 * the OpenAPI document, and free of API keys, the rate limit and Idempotency-Key (a GET). Keep
 * it on a network only the scraper reaches (the runbook says how).
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', apiMetrics.contentType)
  @Header('Cache-Control', 'no-store')
  async scrape(): Promise<string> {
    return await apiMetrics.metrics();
  }
}
