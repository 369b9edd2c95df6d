/**
 * The contracts' events as the platform indexes them: which contracts are indexed, the event
 * types each publishes (the first topic of every event, the snake_case name of its
 * `#[contractevent]` struct in contracts/<name>/src/events.rs), the indexer's workflow id and
 * its typed failure. Workflow-safe: plain values, no XDR (decoding lives in the activities).
 */

/** The platform's contracts, each with one indexer. */
export const INDEXED_CONTRACTS = ['campaign', 'redemption', 'vesting'] as const;
export type IndexedContract = (typeof INDEXED_CONTRACTS)[number];

export function isIndexedContract(name: string | undefined): name is IndexedContract {
  return (INDEXED_CONTRACTS as readonly string[]).includes(name ?? '');
}

/**
 * The event types, by contract, in the platform's dotted form (`campaign.registered`), each
 * with the first topic the contract publishes it under. `initialized` is published once by
 * each contract's `initialize` and concerns no merchant's resource.
 */
export const CONTRACT_EVENT_TOPICS = {
  campaign: {
    'campaign.initialized': 'initialized',
    'campaign.registered': 'campaign_registered',
    'campaign.updated': 'campaign_updated',
    'campaign.paused': 'campaign_paused',
    'campaign.resumed': 'campaign_resumed',
  },
  redemption: {
    'redemption.initialized': 'initialized',
    'redemption.opened': 'redemption_opened',
    'redemption.confirmed': 'redemption_confirmed',
    'redemption.cancelled': 'redemption_cancelled',
  },
  vesting: {
    'vesting.initialized': 'initialized',
    'vesting.schedule_created': 'schedule_created',
    'vesting.release_recorded': 'release_recorded',
    'vesting.schedule_revoked': 'schedule_revoked',
  },
} as const satisfies Record<IndexedContract, Record<string, string>>;

export type ContractEventType = {
  [C in IndexedContract]: keyof (typeof CONTRACT_EVENT_TOPICS)[C];
}[IndexedContract];

export const CONTRACT_EVENT_TYPES = INDEXED_CONTRACTS.flatMap(
  (contract) => Object.keys(CONTRACT_EVENT_TOPICS[contract]) as ContractEventType[],
);

export function isContractEventType(type: string | undefined): type is ContractEventType {
  return (CONTRACT_EVENT_TYPES as readonly string[]).includes(type ?? '');
}

/** The event type a contract's first topic names; undefined for a topic the contract does not define. */
export function contractEventTypeOf(contract: IndexedContract, topic: string): ContractEventType | undefined {
  const entries = Object.entries(CONTRACT_EVENT_TOPICS[contract]) as [ContractEventType, string][];
  return entries.find(([, name]) => name === topic)?.[0];
}

/**
 * One indexer per contract and deployment, one workflow id (continue-as-new keeps it for the
 * indexer's whole life). The deployment's task queue is in it, as in the reconciler's schedule
 * id: two deployments sharing a Temporal namespace each index into their own database.
 */
export function contractIndexerWorkflowId(contract: IndexedContract, taskQueue: string): string {
  return `contract-indexer/${taskQueue}/${contract}`;
}

/**
 * The indexer's cursor had fallen out of the RPC's retention window: the events between the
 * cursor and the oldest retained ledger can no longer be read from that RPC. The indexer
 * records the gap (contract_event_gaps) and resumes from the oldest retained ledger.
 */
export const CONTRACT_EVENTS_OUTSIDE_RETENTION = 'ContractEventsOutsideRetention';

/** A range of ledgers whose events the indexer could not read, inclusive at both ends. */
export interface ContractEventGap {
  contract: IndexedContract;
  fromLedger: number;
  toLedger: number;
  failureType: typeof CONTRACT_EVENTS_OUTSIDE_RETENTION;
}
