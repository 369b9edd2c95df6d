/**
 * Reconciliation of the chain against the read models: the report's statuses, the kinds of
 * mismatch, and the payment sources the chain's payments are explained by.
 */

export const RECONCILIATION_STATUSES = ['running', 'completed', 'failed'] as const;
export type ReconciliationStatus = (typeof RECONCILIATION_STATUSES)[number];

export const RECONCILIATION_TRIGGERS = ['schedule', 'admin'] as const;
export type ReconciliationTrigger = (typeof RECONCILIATION_TRIGGERS)[number];

/**
 * - `payment_without_record`: a payment left a platform account and no platform record explains it
 *   (the journal never put it on chain): a key used outside the platform.
 * - `payment_differs`: the journal put it on chain for a record, but the record disagrees (amount,
 *   destination, transaction hash, or it is not confirmed).
 * - `duplicate_payment`: a record's business key was paid by more than one payment.
 * - `record_without_payment`: the read model says paid, and the chain has no such payment.
 * - `contract_record_differs`: a contract's record disagrees with its resource (or is missing).
 */
export const RECONCILIATION_MISMATCH_KINDS = [
  'payment_without_record',
  'payment_differs',
  'duplicate_payment',
  'record_without_payment',
  'contract_record_differs',
] as const;
export type ReconciliationMismatchKind = (typeof RECONCILIATION_MISMATCH_KINDS)[number];

/**
 * The records a payment from the platform's accounts may pay: every payment must map to exactly
 * one of them. A new kind of platform payment is one more entry here and one more source in
 * activities/src/reconciliation/payment-sources.ts.
 */
export const EXPECTED_PAYMENT_KINDS = ['issuance', 'redemption_refund', 'vesting_release'] as const;
export type ExpectedPaymentKind = (typeof EXPECTED_PAYMENT_KINDS)[number];

/** The contract records compared with their resources. */
export const CONTRACT_RECORD_KINDS = ['campaign', 'redemption'] as const;
export type ContractRecordKind = (typeof CONTRACT_RECORD_KINDS)[number];

export type ReconciliationResourceKind = ExpectedPaymentKind | ContractRecordKind | 'unknown';

/** What a report counts: records checked per kind, and mismatches per kind. */
export interface ReconciliationCounts {
  checked: Partial<Record<'chainPayments' | ExpectedPaymentKind | ContractRecordKind, number>>;
  mismatches: Partial<Record<ReconciliationMismatchKind, number>>;
}

/** A window of at most this long by default (RECONCILIATION_MAX_WINDOW_SECONDS): a bound on one run's work. */
export const DEFAULT_RECONCILIATION_MAX_WINDOW_SECONDS = 31 * 24 * 3_600;
