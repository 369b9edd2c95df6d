import { randomBytes, randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { PrismaClient, type Prisma, type WebhookAttempt, type WebhookDelivery, type WebhookEndpoint } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import {
  ALL_WEBHOOK_EVENTS,
  WEBHOOK_SECRET_OVERLAP_SECONDS,
  webhookDeliveryWorkflowId,
  webhookEndpointResource,
  temporalUiLink,
  webhookEventId,
} from '@nova/domain';
import { webhookUrlRefusal } from '@nova/domain/webhook-addresses';
import { WorkflowHandoffs } from '@nova/workflows/client';
import { afterCursor, NEWEST_FIRST, pageSize, toPage, type Page, type PageQuery } from '../common/pagination';
import { fieldError } from '../common/validation';
import { InjectConfig } from '../config/config.module';
import type {
  CreateWebhookEndpointRequest,
  UpdateWebhookEndpointRequest,
  WebhookDeliveryDetailView,
  WebhookDeliveryListQuery,
  WebhookDeliveryView,
  WebhookEndpointView,
  WebhookEndpointWithSecretView,
  WebhookTestView,
} from './dto/webhook.dto';

/** A signing secret in the Standard Webhooks form: "whsec_" + base64 of 32 random bytes. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** ["*"] when it names everything; the list as given otherwise. */
function subscription(events: string[]): string[] {
  return events.includes(ALL_WEBHOOK_EVENTS) ? [ALL_WEBHOOK_EVENTS] : events;
}

/**
 * Webhook endpoints and their deliveries. The API records what the merchant asks for (an
 * endpoint, a test event and its delivery, a redelivery's new run) and hands deliveries to
 * Temporal the one way the platform does: recorded first, started by business id, the
 * reconciler starting whatever was recorded and not taken. The attempts themselves are the
 * worker's (webhookDeliveryWorkflow on the webhook task queue).
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    @Inject(WorkflowHandoffs) private readonly handoffs: WorkflowHandoffs,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  private checkUrl(url: string): void {
    const refusal = webhookUrlRefusal(url, this.config.webhooks.allowlist);
    if (refusal) throw fieldError('url', `url ${refusal}`);
  }

  async createEndpoint(
    merchantId: string,
    request: CreateWebhookEndpointRequest,
  ): Promise<WebhookEndpointWithSecretView> {
    this.checkUrl(request.url);
    const secret = newSecret();
    const row = await this.db.webhookEndpoint.create({
      data: {
        id: randomUUID(),
        merchantId,
        url: request.url,
        description: request.description ?? null,
        events: subscription(request.events),
        secret,
      },
    });
    return { ...webhookEndpointResource(row), secret };
  }

  async listEndpoints(merchantId: string, query: PageQuery): Promise<Page<WebhookEndpointView>> {
    const size = pageSize(query);
    const rows = await this.db.webhookEndpoint.findMany({
      where: { merchantId, deletedAt: null, ...afterCursor(query.cursor) },
      orderBy: NEWEST_FIRST,
      take: size + 1,
    });
    return toPage(rows, size, webhookEndpointResource);
  }

  async getEndpoint(merchantId: string, id: string): Promise<WebhookEndpointView> {
    return webhookEndpointResource(await this.findEndpoint(merchantId, id));
  }

  async updateEndpoint(
    merchantId: string,
    id: string,
    request: UpdateWebhookEndpointRequest,
  ): Promise<WebhookEndpointView> {
    const current = await this.findEndpoint(merchantId, id);
    if (request.url !== undefined) this.checkUrl(request.url);
    const data: Prisma.WebhookEndpointUpdateInput = {
      ...(request.url !== undefined ? { url: request.url } : {}),
      ...(request.events !== undefined ? { events: subscription(request.events) } : {}),
      ...(request.description !== undefined ? { description: request.description } : {}),
    };
    if (request.enabled === false && current.enabled) {
      Object.assign(data, { enabled: false, disabledReason: 'disabled by the merchant', disabledAt: new Date() });
    }
    if (request.enabled === true && !current.enabled) {
      // A fresh start: the 5-day failure streak counts from the next failed attempt.
      Object.assign(data, { enabled: true, disabledReason: null, disabledAt: null, failingSince: null });
    }
    const row = await this.db.webhookEndpoint.update({ where: { id: current.id }, data });
    return webhookEndpointResource(row);
  }

  /** Deleted endpoints keep their deliveries' history; their running deliveries stop at the next attempt. */
  async deleteEndpoint(merchantId: string, id: string): Promise<void> {
    const current = await this.findEndpoint(merchantId, id);
    await this.db.webhookEndpoint.update({
      where: { id: current.id },
      data: { deletedAt: new Date(), enabled: false, disabledReason: 'deleted', disabledAt: new Date() },
    });
  }

  /** A new secret; for 24 h deliveries carry a signature with each. */
  async rotateSecret(merchantId: string, id: string): Promise<WebhookEndpointWithSecretView> {
    const current = await this.findEndpoint(merchantId, id);
    const secret = newSecret();
    const row = await this.db.webhookEndpoint.update({
      where: { id: current.id },
      data: {
        secret,
        previousSecret: current.secret,
        previousSecretExpiresAt: new Date(Date.now() + WEBHOOK_SECRET_OVERLAP_SECONDS * 1000),
      },
    });
    return { ...webhookEndpointResource(row), secret };
  }

  /** A webhook.test event for this endpoint only, delivered like any other event. */
  async sendTest(merchantId: string, id: string): Promise<WebhookTestView> {
    const endpoint = await this.findEndpoint(merchantId, id);
    if (!endpoint.enabled) {
      throw new ConflictException({
        message: `endpoint ${endpoint.id} is disabled (${endpoint.disabledReason ?? 'by the merchant'}): enable it first`,
        details: { reason: 'EndpointDisabled' },
      });
    }
    const delivery = await this.db.$transaction(async (tx) => {
      const event = await tx.outboxEvent.create({
        data: {
          merchantId,
          type: 'webhook.test',
          aggregateId: endpoint.id,
          dedupeKey: `webhook.test/${endpoint.id}/${randomUUID()}`,
          endpointId: endpoint.id,
          payload: { endpointId: endpoint.id, message: 'This is a test event from Nova Rewards' },
          // Fanned out right here: it has exactly one endpoint.
          relayedAt: new Date(),
        },
      });
      return await tx.webhookDelivery.create({
        data: {
          id: randomUUID(),
          eventId: event.id,
          endpointId: endpoint.id,
          merchantId,
          eventType: event.type,
          workflowId: webhookDeliveryWorkflowId(event.id, endpoint.id),
        },
      });
    });
    await this.handOff(delivery);
    return { deliveryId: delivery.id, eventId: webhookEventId(delivery.eventId) };
  }

  async listDeliveries(merchantId: string, query: WebhookDeliveryListQuery): Promise<Page<WebhookDeliveryView>> {
    const size = pageSize(query);
    const rows = await this.db.webhookDelivery.findMany({
      where: {
        merchantId,
        ...(query.status ? { status: query.status } : {}),
        ...(query.endpointId ? { endpointId: query.endpointId } : {}),
        ...(query.eventType ? { eventType: query.eventType } : {}),
        ...afterCursor(query.cursor),
      },
      orderBy: NEWEST_FIRST,
      take: size + 1,
    });
    return toPage(rows, size, (row) => this.deliveryView(row));
  }

  async getDelivery(merchantId: string, id: string): Promise<WebhookDeliveryDetailView> {
    const row = await this.db.webhookDelivery.findFirst({
      where: { id, merchantId },
      include: { attemptLog: { orderBy: [{ run: 'asc' }, { number: 'asc' }] } },
    });
    if (!row) throw new NotFoundException(`webhook delivery ${id} not found`);
    return { ...this.deliveryView(row), attempts: row.attemptLog.map(attemptView) };
  }

  /** A new run of a delivery that has ended (succeeded or failed): the same event, the same webhook-id. */
  async redeliver(merchantId: string, id: string): Promise<WebhookDeliveryView> {
    const [row] = await this.db.$queryRaw<{ id: string }[]>`
      UPDATE webhook_deliveries
         SET run = run + 1, status = 'pending', next_attempt_at = NULL, delivered_at = NULL, failure_type = NULL,
             failure_reason = NULL, handed_off_at = NULL, updated_at = now()
       WHERE id = ${id}::uuid AND merchant_id = ${merchantId}::uuid AND status IN ('succeeded', 'failed')
      RETURNING id::text`;
    if (!row) {
      const existing = await this.db.webhookDelivery.findFirst({ where: { id, merchantId } });
      if (!existing) throw new NotFoundException(`webhook delivery ${id} not found`);
      throw new ConflictException({
        message: `webhook delivery ${id} is ${existing.status}: only a delivery that has ended can be redelivered`,
        details: { reason: 'DeliveryInProgress', status: existing.status },
      });
    }
    const delivery = await this.db.webhookDelivery.findUniqueOrThrow({ where: { id } });
    await this.handOff(delivery);
    return this.deliveryView(delivery);
  }

  /** Starts the run by business id; a start that does not go through now is the reconciler's. */
  private async handOff(delivery: WebhookDelivery): Promise<void> {
    try {
      await this.handoffs.startWebhookDelivery({ ...delivery, eventId: delivery.eventId.toString() });
      await this.db.webhookDelivery.updateMany({
        where: { id: delivery.id, run: delivery.run, handedOffAt: null },
        data: { handedOffAt: new Date() },
      });
    } catch (error) {
      // Recorded and not handed off: the worker's reconciler starts it (RECONCILE_AFTER_SECONDS).
      this.logger.warn(`webhook delivery ${delivery.id} left to the reconciler: ${String(error)}`);
    }
  }

  private async findEndpoint(merchantId: string, id: string): Promise<WebhookEndpoint> {
    const row = await this.db.webhookEndpoint.findFirst({ where: { id, merchantId, deletedAt: null } });
    if (!row) throw new NotFoundException(`webhook endpoint ${id} not found`);
    return row;
  }

  private deliveryView(row: WebhookDelivery): WebhookDeliveryView {
    return {
      id: row.id,
      eventId: webhookEventId(row.eventId),
      eventType: row.eventType,
      endpointId: row.endpointId,
      status: row.status,
      run: row.run,
      attemptCount: row.attempts,
      nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
      lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
      deliveredAt: row.deliveredAt?.toISOString() ?? null,
      failure: row.failureType ? { type: row.failureType, reason: row.failureReason ?? '' } : null,
      workflowId: row.workflowId,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      links: {
        self: `/v1/webhooks/deliveries/${row.id}`,
        temporalUi: temporalUiLink(this.config.temporal, row.workflowId),
      },
    };
  }
}

function attemptView(row: WebhookAttempt) {
  return {
    run: row.run,
    number: row.number,
    attemptedAt: row.attemptedAt.toISOString(),
    responseStatus: row.responseStatus,
    latencyMs: row.latencyMs,
    errorKind: row.errorKind,
    error: row.error,
    responseBody: row.responseBody,
  };
}
