import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The platform's custom search attributes. The local dev server registers them at start;
 * a remote cluster or Temporal Cloud namespace needs them created once (see README).
 */
export const searchAttributes = {
  merchantId: defineSearchAttributeKey('MerchantId', SearchAttributeType.KEYWORD),
  campaignId: defineSearchAttributeKey('CampaignId', SearchAttributeType.KEYWORD),
  walletAddress: defineSearchAttributeKey('WalletAddress', SearchAttributeType.KEYWORD),
  issuanceStatus: defineSearchAttributeKey('IssuanceStatus', SearchAttributeType.KEYWORD),
  requestId: defineSearchAttributeKey('RequestId', SearchAttributeType.KEYWORD),
  webhookEndpointId: defineSearchAttributeKey('WebhookEndpointId', SearchAttributeType.KEYWORD),
  webhookEventType: defineSearchAttributeKey('WebhookEventType', SearchAttributeType.KEYWORD),
  webhookDeliveryStatus: defineSearchAttributeKey('WebhookDeliveryStatus', SearchAttributeType.KEYWORD),
  redemptionStatus: defineSearchAttributeKey('RedemptionStatus', SearchAttributeType.KEYWORD),
  vestingStatus: defineSearchAttributeKey('VestingStatus', SearchAttributeType.KEYWORD),
  /**
   * The failure types a contract indexer met (ContractEventsOutsideRetention: it recorded a gap).
   * A keyword list: SQLite visibility (the dev server) allows at most 10 Keyword attributes.
   */
  contractIndexerFailure: defineSearchAttributeKey('ContractIndexerFailure', SearchAttributeType.KEYWORD_LIST),
} as const;

export const platformSearchAttributes = Object.values(searchAttributes).map((key) => ({
  name: key.name,
  type: key.type,
}));
