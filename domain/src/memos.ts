/**
 * On-chain text memos (Stellar allows 28 bytes) that trace a transaction to its record. Node
 * only (Buffer's base64url): imported by the API and the activities, never by workflow code.
 */

function uuidBytes(id: string): Buffer {
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${id}`);
  return Buffer.from(hex, 'hex');
}

/** An issuance's payment: "nv:" and the issuance UUID's 16 bytes in base64url (25 characters). */
export function issuanceMemo(issuanceId: string): string {
  return `nv:${uuidBytes(issuanceId).toString('base64url')}`;
}

/** A transaction paying several records: "nvb:" and the envelope UUID in base64url (26 characters). */
export function batchMemo(envelopeId: string): string {
  return `nvb:${uuidBytes(envelopeId).toString('base64url')}`;
}

/** A redemption quote's payment (signed by the holder): "nvq:" and the quote UUID in base64url (26 characters). */
export function redemptionQuoteMemo(quoteId: string): string {
  return `nvq:${uuidBytes(quoteId).toString('base64url')}`;
}

/** A redemption's refund: "nvr:" and the redemption UUID in base64url (26 characters). */
export function redemptionRefundMemo(redemptionId: string): string {
  return `nvr:${uuidBytes(redemptionId).toString('base64url')}`;
}

/**
 * A vesting schedule's memo stem: "nvv" and the schedule UUID in base64url (25 characters);
 * each payment appends its release number (`vestingReleaseMemo` in @nova/domain, workflow-safe).
 */
export function vestingMemoStem(scheduleId: string): string {
  return `nvv${uuidBytes(scheduleId).toString('base64url')}`;
}
