import { defineQuery } from '@temporalio/workflow';
import type { WebhookDeliveryFailure, WebhookDeliveryStatus } from '@nova/domain';

export const webhookDeliveryWorkflowType = 'webhookDeliveryWorkflow';

export interface WebhookDeliveryWorkflowInput {
  deliveryId: string;
  /** The outbox event's id (a bigint, as a string). */
  eventId: string;
  endpointId: string;
  merchantId: string;
  eventType: string;
  /** 1 for the relay's run, +1 per redelivery. */
  run: number;
}

export interface WebhookDeliveryProgress {
  status: WebhookDeliveryStatus;
  /** Attempts made in this run. */
  attempts: number;
  /** The wait before the next attempt, while retrying (the read model has its time). */
  nextRetrySeconds?: number;
}

export interface WebhookDeliveryOutcome {
  status: 'succeeded' | 'failed' | 'skipped';
  attempts: number;
  failureType?: WebhookDeliveryFailure;
}

export const webhookDeliveryProgressQuery = defineQuery<WebhookDeliveryProgress>('webhookDeliveryProgress');
