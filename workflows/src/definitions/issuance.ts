import { defineQuery } from '@temporalio/workflow';
import type { IssuanceStatus } from '@nova/domain';

export const issuanceWorkflowType = 'issuanceWorkflow';

export interface IssuanceWorkflowInput {
  issuanceId: string;
  merchantId: string;
  campaignId: string;
  walletAddress: string;
  /** Decimal string, e.g. "12.5". */
  amount: string;
  amountStroops: string;
  memo: string;
  /** 1 for the first run, then +1 per admin replay. */
  run: number;
  /** Retryable payment errors retry with backoff within this budget; then RetriesExhausted. */
  paymentBudgetSeconds: number;
  requestId?: string;
}

export type IssuanceStep = 'reserving' | 'checking-trustline' | 'paying' | 'confirming' | 'compensating' | 'done';

export interface IssuanceProgress {
  status: IssuanceStatus;
  step: IssuanceStep;
  txHash?: string;
  failureType?: string;
}

export interface IssuanceOutcome {
  status: 'confirmed';
  txHash: string;
  ledger: number;
  alreadyPaid: boolean;
}

/** What the workflow is doing now (for operators and for the API when the read model lags). */
export const issuanceProgressQuery = defineQuery<IssuanceProgress>('issuanceProgress');
