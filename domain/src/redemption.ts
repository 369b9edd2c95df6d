/** The words of a redemption (a holder spends NOVA on a catalog item), as the read model, the workflow and the API use them. */

/** automatic: fulfilled as soon as it is paid; manual: the merchant fulfils or rejects it, before a deadline. */
export const CATALOG_FULFILMENTS = ['automatic', 'manual'] as const;
export type CatalogFulfilment = (typeof CATALOG_FULFILMENTS)[number];

/** pending -> paid -> fulfilled | refunded, or failed (the payment did not land, or a compensation could not complete). */
export const REDEMPTION_STATUSES = ['pending', 'paid', 'fulfilled', 'refunded', 'failed'] as const;
export type RedemptionStatus = (typeof REDEMPTION_STATUSES)[number];

/** The item's unit: reserved when the redemption is accepted, then consumed (fulfilled) or released. */
export const REDEMPTION_STOCK_STATES = ['reserved', 'consumed', 'released'] as const;
export type RedemptionStockState = (typeof REDEMPTION_STOCK_STATES)[number];

/** The redemption contract's record: none -> open -> confirmed | cancelled. */
export const REDEMPTION_CHAIN_STATES = ['none', 'open', 'confirmed', 'cancelled'] as const;
export type RedemptionChainState = (typeof REDEMPTION_CHAIN_STATES)[number];

/** Why a paid redemption was refunded. */
export const REDEMPTION_REFUND_REASONS = [
  'RejectedByMerchant',
  'FulfilmentDeadlinePassed',
  'CancelledByOperator',
] as const;
export type RedemptionRefundReason = (typeof REDEMPTION_REFUND_REASONS)[number];

/** The redemption contract's cancel reasons (a Symbol: short, snake_case), by what undid the redemption. */
export const REDEMPTION_CANCEL_REASONS = {
  paymentFailed: 'payment_failed',
  RejectedByMerchant: 'merchant_declined',
  FulfilmentDeadlinePassed: 'expired',
  CancelledByOperator: 'cancelled',
} as const;

/**
 * The holder's payment refused for good: Horizon's decisive result code -> the failure type
 * the redemption ends with. Any other final refusal is PaymentRefused.
 */
export const HOLDER_PAYMENT_REFUSALS = {
  op_underfunded: 'HolderUnderfunded',
  op_src_no_trust: 'HolderTrustlineMissing',
  op_src_not_authorized: 'HolderNotAuthorized',
  op_no_trust: 'RedemptionAccountTrustlineMissing',
  op_line_full: 'RedemptionAccountLineFull',
  op_no_destination: 'RedemptionAccountMissing',
  tx_bad_seq: 'SequenceMismatch',
  tx_too_late: 'QuoteExpired',
  tx_bad_auth: 'HolderSignatureInvalid',
  tx_bad_auth_extra: 'HolderSignatureInvalid',
  tx_insufficient_balance: 'HolderInsufficientXlm',
  tx_insufficient_fee: 'FeeTooLow',
  tx_no_source_account: 'HolderAccountMissing',
} as const;

/**
 * The failure types a redemption may end with: the holder's payment refused (above), its
 * envelope expired before it landed (QuoteExpired), a compensation that could not complete
 * (CompensationFailed: the redemption needs an operator, see `alert`), Cancelled (an operator
 * cancelled the workflow before the payment landed; compensated), RedemptionFailed for
 * anything else (its message names the cause).
 */
export const REDEMPTION_FAILURE_TYPES = [
  ...new Set(Object.values(HOLDER_PAYMENT_REFUSALS)),
  'PaymentRefused',
  'CompensationFailed',
  'Cancelled',
  'RedemptionFailed',
] as const;
export type RedemptionFailureType =
  | (typeof HOLDER_PAYMENT_REFUSALS)[keyof typeof HOLDER_PAYMENT_REFUSALS]
  | 'PaymentRefused'
  | 'CompensationFailed'
  | 'Cancelled'
  | 'RedemptionFailed';

export function isRedemptionFailureType(type: string | undefined): type is RedemptionFailureType {
  return (REDEMPTION_FAILURE_TYPES as readonly (string | undefined)[]).includes(type);
}

/**
 * Why a quote or a signed envelope is refused at the door (409, `details.reason`): nothing is
 * reserved and nothing is submitted.
 */
export const REDEMPTION_REFUSALS = [
  'ItemInactive',
  'OutOfStock',
  'AccountNotFound',
  'TrustlineMissing',
  'TrustlineNotAuthorized',
  'InsufficientBalance',
  'QuoteExpired',
  'QuoteAlreadyUsed',
  'EnvelopeMismatch',
  'NotSignedByHolder',
] as const;
export type RedemptionRefusal = (typeof REDEMPTION_REFUSALS)[number];

/** What the manual-fulfilment updates decide. */
export type FulfilmentDecision = { decision: 'fulfil' } | { decision: 'reject'; reason: string };

/** What starting a redemption's workflow run needs of it (a row of `redemptions` fits). */
export interface RedemptionStartRecord {
  id: string;
  merchantId: string;
  itemId: string;
  walletAddress: string;
  priceStroops: bigint;
  fulfilment: string;
  signedEnvelopeXdr: string;
  requestId: string | null;
}
