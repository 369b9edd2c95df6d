import { Module } from '@nestjs/common';
import { WebhookDeliveriesController } from './webhook-deliveries.controller';
import { WebhookEndpointsController } from './webhook-endpoints.controller';
import { WebhooksService } from './webhooks.service';

/** Webhook endpoints (with their signing secrets) and the deliveries of events to them. */
@Module({
  controllers: [WebhookEndpointsController, WebhookDeliveriesController],
  providers: [WebhooksService],
})
export class WebhooksModule {}
