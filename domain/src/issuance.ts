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
 * A payment the network refused for good: Horizon's decisive result code (the failed
 * operation's, else the transaction's) -> the failure type it surfaces as. Any other final
 * refusal is TransactionFailed.
 */
export const PAYMENT_REFUSALS = {
  op_no_trust: 'TrustlineMissing',
  op_not_authorized: 'TrustlineNotAuthorized',
  op_no_destination: 'AccountNotFound',
  op_line_full: 'TrustlineLimitExceeded',
  op_underfunded: 'DistributionUnderfunded',
  op_src_no_trust: 'DistributionTrustlineMissing',
  op_src_not_authorized: 'DistributionNotAuthorized',
  op_no_issuer: 'AssetIssuerMissing',
  tx_bad_auth: 'TransactionBadAuth',
  tx_bad_auth_extra: 'TransactionBadAuth',
  tx_no_source_account: 'ChannelAccountMissing',
  tx_insufficient_balance: 'ChannelAccountUnderfunded',
  tx_malformed: 'TransactionMalformed',
} as const;

/**
 * The failure types an issuance may end with (ApplicationFailure types, shown in the read model
 * and the API): the campaign's admission refusals (campaign.ts), the trustline check's, the
 * payment's (PAYMENT_REFUSALS), RetriesExhausted when retryable errors did not clear within the
 * payment budget, and IssuanceFailed for anything else (its message names the cause).
 */
export const ISSUANCE_FAILURE_TYPES = [
  'CampaignPaused',
  'CampaignNotStarted',
  'CampaignEnded',
  'CampaignBudgetExhausted',
  'WalletLimitExceeded',
  'AccountNotFound',
  'TrustlineMissing',
  'TrustlineNotAuthorized',
  'TrustlineLimitExceeded',
  'DistributionUnderfunded',
  'DistributionTrustlineMissing',
  'DistributionNotAuthorized',
  'AssetIssuerMissing',
  'TransactionBadAuth',
  'ChannelAccountMissing',
  'ChannelAccountUnderfunded',
  'TransactionMalformed',
  'TransactionFailed',
  'RetriesExhausted',
  'IssuanceFailed',
] as const;
export type IssuanceFailureType = (typeof ISSUANCE_FAILURE_TYPES)[number];

export function isIssuanceFailureType(type: string | undefined): type is IssuanceFailureType {
  return (ISSUANCE_FAILURE_TYPES as readonly (string | undefined)[]).includes(type);
}

/** What starting an issuance's workflow run needs of it (a row of `issuances` fits). */
export interface IssuanceStartRecord {
  id: string;
  merchantId: string;
  campaignId: string;
  walletAddress: string;
  amountStroops: bigint;
  requestId: string | null;
}
