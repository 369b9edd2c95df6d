import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RedemptionStatus } from '@nova/domain';

export const redemptionWorkflowType = 'redemptionWorkflow';

export interface RedemptionWorkflowInput {
  redemptionId: string;
  merchantId: string;
  itemId: string;
  walletAddress: string;
  /** Decimal string, e.g. "12.5", and the same in stroops. */
  price: string;
  priceStroops: string;
  fulfilment: 'automatic' | 'manual';
  /** The holder's signed payment, submitted exactly as it is. */
  signedEnvelopeXdr: string;
  /** A manual item not fulfilled or rejected this long after payment is refunded. */
  fulfilmentDeadlineSeconds: number;
  /** The refund's on-chain memo (computed outside the workflow: it needs Buffer). */
  refundMemo: string;
  requestId?: string;
}

export type RedemptionStep =
  'reserving' | 'opening' | 'paying' | 'awaiting-fulfilment' | 'fulfilling' | 'refunding' | 'compensating' | 'done';

export interface RedemptionProgress {
  status: RedemptionStatus;
  step: RedemptionStep;
  paymentTxHash?: string;
  refundTxHash?: string;
  /** Set while a manual item waits: the instant it is refunded unless fulfilled. */
  fulfilmentDeadline?: string;
  failureType?: string;
}

export interface RedemptionOutcome {
  status: 'fulfilled' | 'refunded';
  paymentTxHash: string;
  refundTxHash?: string;
}

/** What the redemption workflow is doing now (for operators and for the API when the read model lags). */
export const redemptionProgressQuery = defineQuery<RedemptionProgress>('redemptionProgress');

/**
 * The merchant fulfilled a manual item. An update, so the caller learns whether the workflow
 * took it: refused (the validator throws) unless the redemption is waiting for fulfilment.
 */
export const fulfilRedemptionUpdate = defineUpdate<RedemptionProgress, []>('fulfilRedemption');

/** The merchant rejected a manual item: it is refunded. Refused unless waiting for fulfilment. */
export const rejectRedemptionUpdate = defineUpdate<RedemptionProgress, [{ reason: string }]>('rejectRedemption');

/** The failure type of an update refused because the redemption is not waiting for fulfilment. */
export const NOT_AWAITING_FULFILMENT = 'NotAwaitingFulfilment';
