import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Prisma, PrismaClient } from '@nova/db';
import {
  WEBHOOK_ENDPOINT_DISABLE_AFTER_SECONDS,
  WEBHOOK_RETRY_AFTER_STATUSES,
  webhookEndpointResource,
  webhookEventPayload,
  webhookRetryWaitSeconds,
  type WebhookDeliveryFailure,
  type WebhookEventType,
} from '@nova/domain';
import type { Clock } from '../clock';
import { recordWebhookAttempt, recordWebhookDeliveryEnded, recordWebhookEndpointDisabled } from '../metrics';
import type { EventRelayKick } from './relay';
import type { WebhookAttemptResult, WebhookMessage } from './sender';

/** What the workflow does after an attempt. */
export type WebhookAttemptVerdict =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; waitSeconds: number }
  | { kind: 'failed'; failureType: WebhookDeliveryFailure }
  /** The endpoint has its limit of attempts in flight: nothing was sent. */
  | { kind: 'busy' }
  /** This run is not the delivery's current one (a redelivery replaced it): nothing was sent. */
  | { kind: 'closed' };

export interface WebhookAttemptInput {
  deliveryId: string;
  run: number;
  attempt: number;
  /** The schedule's wait before the next attempt; absent on the last one. */
  plannedRetrySeconds?: number;
}

/** Sends one attempt (the SSRF-checked, signed POST); never throws for what the receiver does. */
export interface WebhookPoster {
  send(message: WebhookMessage): Promise<WebhookAttemptResult>;
}

export interface WebhookDeliveryDependencies {
  db: PrismaClient;
  clock: Clock;
  webhooks: {
    sender: WebhookPoster;
    relay: EventRelayKick;
    /** Attempts in flight per endpoint, across all workers. */
    endpointConcurrency: number;
    /** The sender's own cut-off: a lease outlives it by a margin. */
    attemptTimeoutSeconds: number;
  };
}

interface DeliveryToSend {
  id: string;
  run: number;
  status: string;
  failureType: WebhookDeliveryFailure | null;
  nextAttemptAt: Date | null;
  eventId: string;
  eventType: WebhookEventType;
  eventCreatedAt: Date;
  payload: unknown;
  endpointId: string;
  merchantId: string;
  url: string;
  enabled: boolean;
  deletedAt: Date | null;
  disabledReason: string | null;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  attemptRecorded: boolean;
  /** The status the run's last recorded attempt got back. */
  lastStatus: number | null;
}

/** The outcome of one attempt, as the read model keeps it. */
interface Settlement {
  verdict: WebhookAttemptVerdict;
  deliveryStatus: 'succeeded' | 'retrying' | 'failed';
  failureReason?: string;
  /** 410, or failing for 5 days: the endpoint is disabled for this reason. */
  disableEndpoint?: string;
}

function describe(result: WebhookAttemptResult): string {
  if (result.error) return result.error;
  return result.status === undefined ? 'no response' : `answered ${result.status}`;
}

/**
 * The attempt activity of webhookDeliveryWorkflow: one POST of the event to the endpoint and
 * its record, in one activity so that a crash between them is retried as a whole (the receiver
 * may then get the same webhook-id twice, which Standard Webhooks receivers deduplicate). An
 * attempt already recorded is never sent again.
 */
export function createWebhookDeliveryActivities(deps: WebhookDeliveryDependencies) {
  const { db, clock } = deps;
  const { sender, relay, endpointConcurrency, attemptTimeoutSeconds } = deps.webhooks;

  async function load(input: WebhookAttemptInput): Promise<DeliveryToSend> {
    const [row] = await db.$queryRaw<DeliveryToSend[]>`
      SELECT d.id::text, d.run, d.status, d.failure_type AS "failureType", d.next_attempt_at AS "nextAttemptAt",
             e.id::text AS "eventId", e.type AS "eventType", e.created_at AS "eventCreatedAt", e.payload,
             ep.id::text AS "endpointId", ep.merchant_id::text AS "merchantId", ep.url, ep.enabled,
             ep.deleted_at AS "deletedAt", ep.disabled_reason AS "disabledReason", ep.secret,
             ep.previous_secret AS "previousSecret", ep.previous_secret_expires_at AS "previousSecretExpiresAt",
             EXISTS (SELECT 1 FROM webhook_attempts a
                      WHERE a.delivery_id = d.id AND a.run = ${input.run} AND a.number = ${input.attempt}) AS "attemptRecorded",
             (SELECT a.response_status FROM webhook_attempts a
               WHERE a.delivery_id = d.id AND a.run = ${input.run} ORDER BY a.number DESC LIMIT 1) AS "lastStatus"
        FROM webhook_deliveries d
        JOIN outbox_events e ON e.id = d.event_id
        JOIN webhook_endpoints ep ON ep.id = d.endpoint_id
       WHERE d.id = ${input.deliveryId}::uuid`;
    if (!row) {
      throw ApplicationFailure.nonRetryable(
        `webhook delivery ${input.deliveryId} does not exist`,
        'WebhookDeliveryMissing',
      );
    }
    return row;
  }

  /** A slot among the endpoint's attempts in flight; false when all are taken. */
  async function lease(delivery: DeliveryToSend): Promise<boolean> {
    const ttlSeconds = attemptTimeoutSeconds + 30;
    return await db.$transaction(async (tx) => {
      // A transaction-scoped advisory lock per endpoint serialises its lease-takers (without locking the
      // endpoint's row, which every attempt's record updates); the count, a statement later, sees every committed lease.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`webhook-endpoint/${delivery.endpointId}`}, 0))`;
      await tx.$executeRaw`
        DELETE FROM webhook_endpoint_leases WHERE endpoint_id = ${delivery.endpointId}::uuid AND expires_at <= now()`;
      const taken = await tx.$queryRaw<{ id: string }[]>`
        INSERT INTO webhook_endpoint_leases (endpoint_id, delivery_id, expires_at)
        SELECT ${delivery.endpointId}::uuid, ${delivery.id}::uuid, now() + make_interval(secs => ${ttlSeconds})
         WHERE (SELECT count(*) FROM webhook_endpoint_leases
                 WHERE endpoint_id = ${delivery.endpointId}::uuid AND delivery_id <> ${delivery.id}::uuid) < ${endpointConcurrency}
        ON CONFLICT (endpoint_id, delivery_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
        RETURNING delivery_id::text AS id`;
      return taken.length > 0;
    });
  }

  function messageOf(delivery: DeliveryToSend, now: Date): WebhookMessage {
    const payload = webhookEventPayload({
      outboxId: delivery.eventId,
      type: delivery.eventType,
      createdAt: delivery.eventCreatedAt,
      data: delivery.payload,
    });
    const secrets = [delivery.secret];
    if (delivery.previousSecret && delivery.previousSecretExpiresAt && delivery.previousSecretExpiresAt > now) {
      secrets.push(delivery.previousSecret);
    }
    return { url: delivery.url, webhookId: payload.id, body: JSON.stringify(payload), secrets };
  }

  function settlementOf(result: WebhookAttemptResult, input: WebhookAttemptInput): Settlement {
    const status = result.status;
    if (status !== undefined && status >= 200 && status < 300 && !result.errorKind) {
      return { verdict: { kind: 'delivered', status }, deliveryStatus: 'succeeded' };
    }
    if (status === 410) {
      return {
        verdict: { kind: 'failed', failureType: 'EndpointGone' },
        deliveryStatus: 'failed',
        failureReason: 'the endpoint answered 410 Gone: it is disabled',
        disableEndpoint: 'the endpoint answered 410 Gone',
      };
    }
    if (input.plannedRetrySeconds === undefined) {
      return {
        verdict: { kind: 'failed', failureType: 'RetriesExhausted' },
        deliveryStatus: 'failed',
        failureReason: `every attempt failed (last: ${describe(result)})`,
      };
    }
    const retryAfter =
      status !== undefined && WEBHOOK_RETRY_AFTER_STATUSES.includes(status) ? result.retryAfterSeconds : undefined;
    return {
      verdict: { kind: 'retry', waitSeconds: webhookRetryWaitSeconds(input.plannedRetrySeconds, retryAfter) },
      deliveryStatus: 'retrying',
    };
  }

  /** Disables the endpoint (once) and records endpoint.disabled for the merchant's other endpoints. */
  async function disableEndpoint(tx: Prisma.TransactionClient, endpointId: string, reason: string, now: Date) {
    const [endpoint] = await tx.$queryRaw<{ id: string }[]>`
      UPDATE webhook_endpoints SET enabled = false, disabled_reason = ${reason}, disabled_at = ${now}, updated_at = ${now}
       WHERE id = ${endpointId}::uuid AND enabled RETURNING id::text`;
    if (!endpoint) return false;
    const row = await tx.webhookEndpoint.findUniqueOrThrow({ where: { id: endpointId } });
    await tx.outboxEvent.create({
      data: {
        merchantId: row.merchantId,
        type: 'endpoint.disabled',
        aggregateId: row.id,
        dedupeKey: `endpoint.disabled/${row.id}/${now.toISOString()}`,
        payload: webhookEndpointResource(row) as unknown as Prisma.InputJsonValue,
      },
    });
    return true;
  }

  async function settle(
    delivery: DeliveryToSend,
    input: WebhookAttemptInput,
    result: WebhookAttemptResult,
    settlement: Settlement,
  ): Promise<'gone' | 'failing' | undefined> {
    const now = clock.now();
    const nextAttemptAt =
      settlement.verdict.kind === 'retry' ? new Date(now.getTime() + settlement.verdict.waitSeconds * 1000) : null;
    const failureType = settlement.verdict.kind === 'failed' ? settlement.verdict.failureType : null;
    return await db.$transaction(async (tx) => {
      const inserted = await tx.$executeRaw`
        INSERT INTO webhook_attempts (delivery_id, run, number, attempted_at, latency_ms, response_status, error_kind, error, response_body)
        VALUES (${delivery.id}::uuid, ${input.run}, ${input.attempt}, ${result.timestamp}, ${Math.round(result.latencyMs)},
                ${result.status ?? null}, ${result.errorKind ?? null}, ${result.error?.slice(0, 1000) ?? null},
                ${result.responseBody ?? null})
        ON CONFLICT (delivery_id, run, number) DO NOTHING`;
      await tx.$executeRaw`
        UPDATE webhook_deliveries
           SET status = ${settlement.deliveryStatus}, attempts = attempts + ${inserted}, last_attempt_at = ${result.timestamp},
               next_attempt_at = ${nextAttemptAt}, failure_type = ${failureType},
               failure_reason = ${settlement.failureReason ?? null},
               delivered_at = ${settlement.deliveryStatus === 'succeeded' ? now : null}, updated_at = ${now}
         WHERE id = ${delivery.id}::uuid AND run = ${input.run}`;
      await tx.$executeRaw`
        DELETE FROM webhook_endpoint_leases WHERE endpoint_id = ${delivery.endpointId}::uuid AND delivery_id = ${delivery.id}::uuid`;
      let disabled: 'gone' | 'failing' | undefined;
      if (settlement.deliveryStatus === 'succeeded') {
        // Written when it says something new (a streak ends, or a minute has passed): a busy endpoint's row is not a hot spot.
        await tx.$executeRaw`
          UPDATE webhook_endpoints SET failing_since = NULL, last_success_at = ${now}
           WHERE id = ${delivery.endpointId}::uuid
             AND (failing_since IS NOT NULL OR last_success_at IS NULL OR last_success_at < ${now}::timestamptz - interval '1 minute')`;
      } else {
        const [endpoint] = await tx.$queryRaw<{ failingSince: Date }[]>`
          UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ${result.timestamp})
           WHERE id = ${delivery.endpointId}::uuid RETURNING failing_since AS "failingSince"`;
        const failingSeconds = endpoint ? (now.getTime() - endpoint.failingSince.getTime()) / 1000 : 0;
        const reason =
          settlement.disableEndpoint ??
          (failingSeconds >= WEBHOOK_ENDPOINT_DISABLE_AFTER_SECONDS ? 'every attempt failed for 5 days' : undefined);
        if (reason && (await disableEndpoint(tx, delivery.endpointId, reason, now))) {
          disabled = settlement.disableEndpoint ? 'gone' : 'failing';
        }
      }
      return disabled;
    });
  }

  /** The verdict of an attempt recorded before (this activity is being retried): nothing is sent again. */
  function recordedVerdict(delivery: DeliveryToSend): WebhookAttemptVerdict {
    if (delivery.status === 'succeeded') return { kind: 'delivered', status: delivery.lastStatus ?? 0 };
    if (delivery.status === 'failed')
      return { kind: 'failed', failureType: delivery.failureType ?? 'RetriesExhausted' };
    const waitMs = delivery.nextAttemptAt ? delivery.nextAttemptAt.getTime() - clock.now().getTime() : 0;
    return { kind: 'retry', waitSeconds: Math.max(0, Math.ceil(waitMs / 1000)) };
  }

  return {
    async attemptWebhookDelivery(input: WebhookAttemptInput): Promise<WebhookAttemptVerdict> {
      const delivery = await load(input);
      if (delivery.run !== input.run) return { kind: 'closed' };
      if (delivery.attemptRecorded || delivery.status === 'succeeded' || delivery.status === 'failed') {
        return recordedVerdict(delivery);
      }
      if (!delivery.enabled || delivery.deletedAt) {
        const reason = delivery.deletedAt
          ? 'the endpoint was deleted'
          : `the endpoint is disabled (${delivery.disabledReason ?? 'by the merchant'})`;
        await db.$executeRaw`
          UPDATE webhook_deliveries
             SET status = 'failed', failure_type = 'EndpointDisabled', failure_reason = ${reason}, next_attempt_at = NULL,
                 updated_at = now()
           WHERE id = ${delivery.id}::uuid AND run = ${input.run}`;
        recordWebhookDeliveryEnded('failed', 'EndpointDisabled');
        return { kind: 'failed', failureType: 'EndpointDisabled' };
      }
      if (!(await lease(delivery))) return { kind: 'busy' };

      // While the receiver takes its time: a worker that died mid-attempt is noticed within the heartbeat timeout.
      const context = Context.current();
      const heartbeat = setInterval(() => context.heartbeat(), 2_000);
      let result: WebhookAttemptResult;
      try {
        result = await sender.send(messageOf(delivery, clock.now()));
      } finally {
        clearInterval(heartbeat);
      }
      recordWebhookAttempt(result.errorKind ?? 'delivered');
      const settlement = settlementOf(result, input);
      const disabled = await settle(delivery, input, result, settlement);
      if (settlement.verdict.kind === 'delivered') recordWebhookDeliveryEnded('succeeded');
      else if (settlement.verdict.kind === 'failed')
        recordWebhookDeliveryEnded('failed', settlement.verdict.failureType);
      if (disabled) {
        recordWebhookEndpointDisabled(disabled);
        relay.kick();
      }
      return settlement.verdict;
    },
  };
}

export type WebhookDeliveryActivities = ReturnType<typeof createWebhookDeliveryActivities>;
