import { scValToNative, xdr } from '@stellar/stellar-sdk';
import { contractEventTypeOf, fromStroops, type ContractEventType, type IndexedContract } from '@nova/domain';
import type { ContractEvent } from './gateway';

/** How a field of an event's data is kept: an amount of NOVA, a unix time, an address, ... */
type FieldKind = 'amount' | 'time' | 'address' | 'seconds' | 'hash' | 'symbol' | 'bool';

/**
 * The data fields of each event, by the contracts' own interfaces (contracts/<name>/src/events.rs:
 * the fields not marked `#[topic]`, published as a map keyed by field name). i128 amounts are
 * stroops of NOVA; u64 times are ledger unix seconds.
 */
const EVENT_FIELDS: { [C in IndexedContract]: Record<string, Record<string, FieldKind>> } = {
  campaign: {
    initialized: { admin: 'address' },
    campaign_registered: { merchant: 'address', budget: 'amount', starts_at: 'time', ends_at: 'time' },
    campaign_updated: { old_budget: 'amount', budget: 'amount', old_ends_at: 'time', ends_at: 'time' },
    campaign_paused: { at: 'time' },
    campaign_resumed: { at: 'time' },
  },
  redemption: {
    initialized: { admin: 'address' },
    redemption_opened: { holder: 'address', merchant: 'address', amount: 'amount', at: 'time' },
    redemption_confirmed: { holder: 'address', merchant: 'address', amount: 'amount', at: 'time' },
    redemption_cancelled: { reason: 'symbol', at: 'time' },
  },
  vesting: {
    initialized: { admin: 'address' },
    schedule_created: {
      beneficiary: 'address',
      total: 'amount',
      start: 'time',
      cliff: 'time',
      end: 'time',
      interval: 'seconds',
      revocable: 'bool',
    },
    release_recorded: { amount: 'amount', released: 'amount', payment_hash: 'hash', at: 'time' },
    schedule_revoked: { vested: 'amount', unvested: 'amount', at: 'time' },
  },
};

export type ContractEventPayload = Record<string, string | number | boolean>;

/** A contract event read by its contract's interface, with where it happened and its raw XDR. */
export interface DecodedContractEvent {
  id: string;
  contract: IndexedContract;
  contractId: string;
  /** The domain's event type; `<contract>.unrecognized` for a first topic the interface does not define (kept, never dropped). */
  type: ContractEventType | `${IndexedContract}.unrecognized`;
  /** The resource the event is about (the `id` topic): a campaign, redemption or vesting schedule id. */
  resourceId: string | null;
  ledger: number;
  ledgerClosedAt: Date;
  txHash: string;
  /** Data fields in camelCase: amounts as decimal NOVA strings, times as ISO-8601, addresses as strkeys, hashes as hex. */
  payload: ContractEventPayload;
  topicXdr: string[];
  valueXdr: string;
}

const camelCase = (field: string) => field.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

function fieldValue(kind: FieldKind, value: unknown): string | number | boolean {
  switch (kind) {
    case 'amount':
      return fromStroops(BigInt(value as bigint));
    case 'time':
      return new Date(Number(value as bigint) * 1000).toISOString();
    case 'seconds':
      return Number(value as bigint);
    case 'hash':
      return Buffer.from(value as Uint8Array).toString('hex');
    case 'bool':
      return Boolean(value);
    case 'address':
    case 'symbol':
      return String(value);
  }
}

function symbolOrString(topic: xdr.ScVal | undefined): string | undefined {
  if (!topic) return undefined;
  const kind = topic.switch();
  if (kind === xdr.ScValType.scvSymbol()) return topic.sym().toString();
  if (kind === xdr.ScValType.scvString()) return topic.str().toString();
  return undefined;
}

/**
 * Reads one event by the contract's interface. Fields the interface names are kept typed; an
 * event whose shape the interface does not know is kept as `<contract>.unrecognized` with its
 * raw XDR (an indexer never drops an event).
 */
export function decodeContractEvent(contract: IndexedContract, event: ContractEvent): DecodedContractEvent {
  const topic = symbolOrString(event.topics[0]) ?? '';
  const fields = EVENT_FIELDS[contract][topic];
  const type = contractEventTypeOf(contract, topic);
  let payload: ContractEventPayload = {};
  let recognized = fields !== undefined && type !== undefined;
  if (fields) {
    try {
      const data = scValToNative(event.value) as Record<string, unknown>;
      for (const [field, kind] of Object.entries(fields)) {
        if (!(field in data)) throw new Error(`no ${field}`);
        payload[camelCase(field)] = fieldValue(kind, data[field]);
      }
    } catch {
      recognized = false;
      payload = {};
    }
  }
  return {
    id: event.id,
    contract,
    contractId: event.contractId,
    type: recognized && type ? type : `${contract}.unrecognized`,
    resourceId: topic === 'initialized' ? null : (symbolOrString(event.topics[1]) ?? null),
    ledger: event.ledger,
    ledgerClosedAt: event.ledgerClosedAt,
    txHash: event.txHash,
    payload,
    topicXdr: event.topics.map((t) => t.toXDR('base64')),
    valueXdr: event.value.toXDR('base64'),
  };
}
