/**
 * Business keys. A workflow id is a business key, so a second start of the same business
 * record can never create a second run; a journal key names what may land on chain at most once.
 */

/** One issuance, one workflow id; an admin replay is a new run of the same id. */
export function issuanceWorkflowId(issuanceId: string): string {
  return `issuance/${issuanceId}`;
}

/** The issuance's payment in the transaction journal: at most one of its attempts ever lands. */
export function issuancePaymentKey(issuanceId: string): string {
  return `issuance/${issuanceId}`;
}

/** One campaign, one workflow id (a run at a time, started again by the next change). */
export function campaignWorkflowId(campaignId: string): string {
  return `campaign/${campaignId}`;
}

/** A campaign change's contract call in the transaction journal: each change lands at most once. */
export function campaignChangeKey(campaignId: string, seq: number): string {
  return `campaign/${campaignId}/change/${seq}`;
}

/** One self-check record, one workflow. */
export function selfCheckWorkflowId(selfCheckId: string): string {
  return `self-check/${selfCheckId}`;
}

/**
 * One delivery of one event to one endpoint, one workflow id: two relays of the same event can
 * never deliver it twice; a redelivery is a new run of the same id.
 */
export function webhookDeliveryWorkflowId(eventId: bigint | number | string, endpointId: string): string {
  return `webhook-delivery/${eventId.toString()}/${endpointId}`;
}

/** One redemption, one workflow id. */
export function redemptionWorkflowId(redemptionId: string): string {
  return `redemption/${redemptionId}`;
}

/** The redemption's steps in the transaction journal: the holder's payment, the refund, each contract call, each at most once. */
export const redemptionKeys = {
  payment: (redemptionId: string) => `redemption/${redemptionId}/payment`,
  refund: (redemptionId: string) => `redemption/${redemptionId}/refund`,
  contract: (redemptionId: string, method: 'open' | 'confirm' | 'cancel') => `redemption/${redemptionId}/${method}`,
};

/** One vesting schedule, one workflow id (continue-as-new keeps the id for its whole life). */
export function vestingWorkflowId(scheduleId: string): string {
  return `vesting/${scheduleId}`;
}

/** The schedule's steps in the transaction journal: each release's payment, the revocation's final payment, each contract call, each at most once. */
export const vestingKeys = {
  release: (scheduleId: string, number: number) => `vesting/${scheduleId}/release/${number}`,
  revocation: (scheduleId: string) => `vesting/${scheduleId}/revocation`,
  create: (scheduleId: string) => `vesting/${scheduleId}/create`,
  record: (scheduleId: string, number: number) => `vesting/${scheduleId}/record/${number}`,
  revoke: (scheduleId: string) => `vesting/${scheduleId}/revoke`,
};

/** One reconciliation report, one workflow id (an admin's request or a scheduled run). */
export function reconciliationWorkflowId(reconciliationId: string): string {
  return `reconciliation/${reconciliationId}`;
}
