/** The words of a reward issuance, as the read model, the workflow and the API use them. */

/** pending -> submitted -> confirmed | failed (a replay takes a failed one back to pending). */
export const ISSUANCE_STATUSES = ['pending', 'submitted', 'confirmed', 'failed'] as const;
export type IssuanceStatus = (typeof ISSUANCE_STATUSES)[number];

/** none -> reserved -> paid | released (a replay may reserve a released one again). */
export const RESERVATION_STATES = ['none', 'reserved', 'paid', 'released'] as const;
export type ReservationState = (typeof RESERVATION_STATES)[number];

/** The wallet cannot receive the asset: the trustline check's answers that end an issuance. */
export const TRUSTLINE_FAILURES = {
  'account-missing': 'AccountNotFound',
  'trustline-missing': 'TrustlineMissing',
  'not-authorized': 'TrustlineNotAuthorized',
  'limit-exceeded': 'TrustlineLimitExceeded',
} as const;
export type TrustlineProblem = keyof typeof TRUSTLINE_FAILURES;

/**
 * The failure types an issuance may end with (ApplicationFailure types, shown in the read model
 * and the API). Admission refusals come from the campaign's rule (campaign.ts); payment
 * refusals from the Stellar error translation; RetriesExhausted when retryable errors did not
 * clear within the payment budget; IssuanceFailed for anything else.
 */
export const ISSUANCE_FAILURE_TYPES = [
  'CampaignPaused',
  'CampaignNotStarted',
  'CampaignEnded',
  'CampaignBudgetExhausted',
  'WalletLimitExceeded',
  ...Object.values(TRUSTLINE_FAILURES),
  'DistributionUnderfunded',
  'RetriesExhausted',
  'IssuanceFailed',
] as const;
export type IssuanceFailureType = (typeof ISSUANCE_FAILURE_TYPES)[number];
