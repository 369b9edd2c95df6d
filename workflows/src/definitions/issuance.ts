import { defineQuery } from '@temporalio/workflow';

export const issuanceWorkflowType = 'issuanceWorkflow';

/** Business key: one issuance, one workflow id; a replay is a new run of the same id. */
export function issuanceWorkflowId(issuanceId: string): string {
  return `issuance/${issuanceId}`;
}

/** The payment's business key in the exactly-once envelope store. */
export function issuancePaymentKey(issuanceId: string): string {
  return `issuance/${issuanceId}`;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The on-chain text memo of an issuance's payment (Stellar allows 28 bytes): "nv:" and the
 * issuance UUID's 16 bytes in base64url, 25 characters, so a payment is traced to its record.
 */
export function issuanceMemo(issuanceId: string): string {
  const hex = issuanceId.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${issuanceId}`);
  let bits = 0;
  let value = 0;
  let out = '';
  for (let i = 0; i < hex.length; i += 2) {
    value = (value << 8) | parseInt(hex.slice(i, i + 2), 16);
    bits += 8;
    while (bits >= 6) {
      out += BASE64URL[(value >> (bits - 6)) & 63];
      bits -= 6;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE64URL[(value << (6 - bits)) & 63];
  return `nv:${out}`;
}

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
  status: 'pending' | 'submitted' | 'confirmed' | 'failed';
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

/** Failure types an issuance may end with (ApplicationFailure types, shown in the read model and API). */
export const ISSUANCE_FAILURE_TYPES = [
  'CampaignInactive',
  'CampaignBudgetExhausted',
  'WalletLimitExceeded',
  'AccountNotFound',
  'TrustlineMissing',
  'TrustlineNotAuthorized',
  'TrustlineLimitExceeded',
  'RetriesExhausted',
] as const;
