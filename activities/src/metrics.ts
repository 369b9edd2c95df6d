import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PrismaClient } from '@nova/db';
import type { IssuanceFailureType, WebhookDeliveryFailure, WebhookDeliveryStatus } from '@nova/domain';
import type { WebhookAttemptErrorKind } from './webhooks/sender';

/**
 * The platform's domain metrics, in one place: every name and label the worker exports, the
 * dashboard (docs/dashboards/nova-rewards.json) draws and the alert rules
 * (docs/alerts/nova-rewards.rules.yml) use. Outcomes are recorded where the read model is
 * written (the activities), never in workflows: a replayed workflow would count again.
 *
 * One registry per process: the worker's metrics server (apps/worker) writes it beside the
 * Temporal SDK's own metrics. Recording is a counter increment or a histogram observation in
 * memory, cheap enough for the payment path.
 */
export const domainMetrics = new Registry();

const issuances = new Counter({
  name: 'nova_issuances_total',
  help: 'Issuance runs that ended: confirmed on the ledger, or failed (failure_type: the read model failure type). A replay that fails again counts again.',
  labelNames: ['outcome', 'failure_type'] as const,
  registers: [domainMetrics],
});

const redemptions = new Counter({
  name: 'nova_redemptions_total',
  help: 'Redemptions that ended, by outcome (the status the read model records).',
  labelNames: ['outcome'] as const,
  registers: [domainMetrics],
});

const vestingEvents = new Counter({
  name: 'nova_vesting_events_total',
  help: 'Vesting schedule changes the read model recorded, by event: released (a payment of one or more releases), stalled, completed, revoked.',
  labelNames: ['event'] as const,
  registers: [domainMetrics],
});

const webhookAttempts = new Counter({
  name: 'nova_webhook_attempts_total',
  help: 'Webhook delivery attempts made, by outcome: delivered (2xx), status (another answer), timeout, network, address-refused, redirect.',
  labelNames: ['outcome'] as const,
  registers: [domainMetrics],
});

const webhookDeliveries = new Counter({
  name: 'nova_webhook_deliveries_total',
  help: 'Webhook deliveries that reached a final status (succeeded, or failed with failure_type).',
  labelNames: ['status', 'failure_type'] as const,
  registers: [domainMetrics],
});

const webhookEndpointsDisabled = new Counter({
  name: 'nova_webhook_endpoints_disabled_total',
  help: 'Webhook endpoints the platform disabled: gone (answered 410) or failing (every attempt failed for 5 days).',
  labelNames: ['reason'] as const,
  registers: [domainMetrics],
});

const journalSubmissions = new Counter({
  name: 'nova_journal_submissions_total',
  help: "Transaction journal submissions, by envelope source and result: tx_success, Horizon's transaction result code (tx_failed, tx_bad_seq, ...), contract_error, or the retryable error type (StellarUnavailable, SubmissionIndeterminate, ...).",
  labelNames: ['source', 'result'] as const,
  registers: [domainMetrics],
});

const channelLeaseWait = new Histogram({
  name: 'nova_channel_lease_wait_seconds',
  help: 'How long a payment waited for a free channel account.',
  buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15],
  registers: [domainMetrics],
});

const paymentBatchSize = new Histogram({
  name: 'nova_payment_batch_size',
  help: 'Payments carried by one transaction built on a channel account.',
  buckets: [1, 2, 3, 5, 10, 20, 50, 100],
  registers: [domainMetrics],
});

const contractEventsIndexed = new Counter({
  name: 'nova_contract_events_indexed_total',
  help: 'Contract events the indexers stored (each event once: a page read again adds nothing), by contract and event type.',
  labelNames: ['contract', 'type'] as const,
  registers: [domainMetrics],
});

const contractIndexerLag = new Gauge({
  name: 'nova_contract_indexer_lag_ledgers',
  help: "Ledgers between Soroban RPC's latest ledger and the last ledger the contract's indexer has read in full, as of its last page.",
  labelNames: ['contract'] as const,
  registers: [domainMetrics],
});

const contractIndexerGaps = new Counter({
  name: 'nova_contract_indexer_gaps_total',
  help: "Gaps an indexer recorded because its cursor had fallen out of Soroban RPC's retention window (contract_event_gaps), by contract.",
  labelNames: ['contract'] as const,
  registers: [domainMetrics],
});

const contractIndexerGapLedgers = new Counter({
  name: 'nova_contract_indexer_gap_ledgers_total',
  help: 'Ledgers whose events an indexer could not read (the sum of its gaps), by contract.',
  labelNames: ['contract'] as const,
  registers: [domainMetrics],
});

/** Once per stored event (the rows the page's transaction inserted). */
export function recordContractEventsIndexed(contract: string, type: string, count: number): void {
  if (count > 0) contractEventsIndexed.inc({ contract, type }, count);
}

export function recordContractIndexerLag(contract: string, ledgers: number): void {
  contractIndexerLag.set({ contract }, Math.max(0, ledgers));
}

export function recordContractIndexerGap(contract: string, fromLedger: number, toLedger: number): void {
  contractIndexerGaps.inc({ contract });
  contractIndexerGapLedgers.inc({ contract }, toLedger - fromLedger + 1);
}

const reconciliationMismatches = new Counter({
  name: 'nova_reconciliation_mismatches_total',
  help: 'Mismatches reconciliations found between the chain and the read models, by kind (payment_without_record, payment_differs, duplicate_payment, record_without_payment, contract_record_differs) and resource kind. Counted once, when the report completes.',
  labelNames: ['kind', 'resource_kind'] as const,
  registers: [domainMetrics],
});

const reconciliationRuns = new Counter({
  name: 'nova_reconciliation_runs_total',
  help: 'Reconciliation runs that ended, by status (completed, failed).',
  labelNames: ['status'] as const,
  registers: [domainMetrics],
});

export function recordReconciliationMismatch(kind: string, resourceKind: string): void {
  reconciliationMismatches.inc({ kind, resource_kind: resourceKind });
}

export function recordReconciliationRun(status: 'completed' | 'failed'): void {
  reconciliationRuns.inc({ status });
}

/** What a journal submission ended with: `tx_success`, a Horizon result code, `contract_error` or an error type. */
export function recordJournalSubmission(source: string, result: string): void {
  journalSubmissions.inc({ source, result });
}

export function recordIssuanceConfirmed(): void {
  issuances.inc({ outcome: 'confirmed', failure_type: '' });
}

export function recordIssuanceFailed(failureType: IssuanceFailureType | string): void {
  issuances.inc({ outcome: 'failed', failure_type: failureType });
}

/** Once per redemption, where the read model records its final status. */
export function recordRedemption(outcome: 'fulfilled' | 'refunded' | 'failed'): void {
  redemptions.inc({ outcome });
}

/** Once per vesting change, where the read model records it (with its event). */
export function recordVestingEvent(event: string): void {
  vestingEvents.inc({ event: event.replace(/^vesting\./, '') });
}

export function recordWebhookAttempt(outcome: 'delivered' | WebhookAttemptErrorKind): void {
  webhookAttempts.inc({ outcome });
}

export function recordWebhookDeliveryEnded(
  status: Extract<WebhookDeliveryStatus, 'succeeded' | 'failed'>,
  failureType?: WebhookDeliveryFailure,
): void {
  webhookDeliveries.inc({ status, failure_type: failureType ?? '' });
}

export function recordWebhookEndpointDisabled(reason: 'gone' | 'failing'): void {
  webhookEndpointsDisabled.inc({ reason });
}

export function recordChannelLeaseWait(seconds: number): void {
  channelLeaseWait.observe(seconds);
}

export function recordPaymentBatch(payments: number): void {
  paymentBatchSize.observe(payments);
}

/** The hand-offs the reconciler re-drives, as its steps name them. */
export const RECONCILER_HANDOFFS = [
  'issuance_start',
  'webhook_delivery_start',
  'campaign_change',
  'redemption_start',
  'vesting_start',
] as const;

interface BacklogCounts {
  unrelayedEvents: number;
  oldestUnrelayedSeconds: number;
  handoffs: Record<(typeof RECONCILER_HANDOFFS)[number], number>;
  openDeliveries: { pending: number; retrying: number };
  channels: { configured: number; leased: number };
  vestingStalled: number;
}

/**
 * Gauges read from PostgreSQL when Prometheus scrapes (one round of queries per scrape, shared
 * by the gauges): the outbox, the reconciler's backlog, open webhook deliveries and the channel
 * accounts leased. Every worker reports the same database-wide figures (the channels: the ones
 * this process signs for), so the dashboard and the alerts take max() across workers.
 */
export function createBacklogMetrics(deps: {
  db: PrismaClient;
  /** A hand-off recorded longer ago than this and not taken is backlog (RECONCILE_AFTER_SECONDS). */
  reconcileAfterSeconds: number;
  /** The channel accounts this worker leases (none on a webhooks-only worker). */
  channelPublicKeys: readonly string[];
}): Registry {
  const registry = new Registry();
  let pending: Promise<BacklogCounts> | undefined;
  // The gauges of one scrape share one read; the next scrape reads again.
  const read = (): Promise<BacklogCounts> => {
    pending ??= readBacklog(deps).finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  new Gauge({
    name: 'nova_outbox_unrelayed_events',
    help: 'Outbox events written and not yet fanned out into webhook deliveries.',
    registers: [registry],
    async collect() {
      this.set((await read()).unrelayedEvents);
    },
  });
  new Gauge({
    name: 'nova_outbox_oldest_unrelayed_seconds',
    help: 'Age of the oldest outbox event not yet relayed (0 when none).',
    registers: [registry],
    async collect() {
      this.set((await read()).oldestUnrelayedSeconds);
    },
  });
  new Gauge({
    name: 'nova_reconciler_backlog',
    help: 'Hand-offs recorded longer ago than RECONCILE_AFTER_SECONDS that Temporal has not taken: what the reconciler has to re-drive.',
    labelNames: ['handoff'] as const,
    registers: [registry],
    async collect() {
      const { handoffs } = await read();
      for (const handoff of RECONCILER_HANDOFFS) this.set({ handoff }, handoffs[handoff]);
    },
  });
  new Gauge({
    name: 'nova_webhook_deliveries_open',
    help: 'Webhook deliveries not finished yet, by status (pending: first attempt to come; retrying).',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const { openDeliveries } = await read();
      this.set({ status: 'pending' }, openDeliveries.pending);
      this.set({ status: 'retrying' }, openDeliveries.retrying);
    },
  });
  new Gauge({
    name: 'nova_vesting_schedules_stalled',
    help: 'Vesting schedules stalled: a release is due and its payment keeps being refused (e.g. the trustline was removed).',
    registers: [registry],
    async collect() {
      this.set((await read()).vestingStalled);
    },
  });
  new Gauge({
    name: 'nova_channel_accounts',
    help: 'Channel accounts this worker signs for.',
    registers: [registry],
    async collect() {
      this.set((await read()).channels.configured);
    },
  });
  new Gauge({
    name: 'nova_channel_accounts_leased',
    help: "Of this worker's channel accounts, those leased right now (by any worker) for a transaction.",
    registers: [registry],
    async collect() {
      this.set((await read()).channels.leased);
    },
  });
  return registry;
}

async function readBacklog(deps: {
  db: PrismaClient;
  reconcileAfterSeconds: number;
  channelPublicKeys: readonly string[];
}): Promise<BacklogCounts> {
  const { db, reconcileAfterSeconds: after } = deps;
  // Each count is served by an index (outbox_events(relayed_at, id), webhook_deliveries(handed_off_at, ...),
  // the open deliveries' partial index) or a small table.
  const [row] = await db.$queryRaw<
    {
      unrelayed: bigint;
      oldest: number | null;
      issuanceStarts: bigint;
      deliveryStarts: bigint;
      campaignChanges: bigint;
      redemptionStarts: bigint;
      vestingStarts: bigint;
      vestingStalled: bigint;
      pending: bigint;
      retrying: bigint;
      configured: bigint;
      leased: bigint;
    }[]
  >`
    SELECT
      (SELECT count(*) FROM outbox_events WHERE relayed_at IS NULL) AS unrelayed,
      (SELECT extract(epoch FROM now() - min(created_at))::float8 FROM outbox_events WHERE relayed_at IS NULL) AS oldest,
      (SELECT count(*) FROM issuance_workflow_starts
        WHERE created_at < now() - make_interval(secs => ${after})) AS "issuanceStarts",
      (SELECT count(*) FROM webhook_deliveries
        WHERE handed_off_at IS NULL AND updated_at < now() - make_interval(secs => ${after})) AS "deliveryStarts",
      (SELECT count(*) FROM campaigns c JOIN campaign_chain_changes ch ON ch.campaign_id = c.id AND ch.seq = c.chain_change_seq
        WHERE c.chain_change_seq > c.chain_settled_seq
          AND ch.created_at < now() - make_interval(secs => ${after})) AS "campaignChanges",
      (SELECT count(*) FROM redemptions
        WHERE handed_off_at IS NULL AND created_at < now() - make_interval(secs => ${after})) AS "redemptionStarts",
      (SELECT count(*) FROM vesting_schedules
        WHERE handed_off_at IS NULL AND created_at < now() - make_interval(secs => ${after})) AS "vestingStarts",
      (SELECT count(*) FROM vesting_schedules WHERE status = 'stalled') AS "vestingStalled",
      (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
      (SELECT count(*) FROM webhook_deliveries WHERE status = 'retrying') AS retrying,
      (SELECT count(*) FROM channel_accounts WHERE public_key = ANY(${[...deps.channelPublicKeys]}::text[])) AS configured,
      (SELECT count(*) FROM channel_accounts WHERE public_key = ANY(${[...deps.channelPublicKeys]}::text[])
          AND lease_holder IS NOT NULL AND lease_expires_at > now()) AS leased`;
  const n = (value: bigint | undefined) => Number(value ?? 0n);
  return {
    unrelayedEvents: n(row?.unrelayed),
    oldestUnrelayedSeconds: Math.max(0, row?.oldest ?? 0),
    handoffs: {
      issuance_start: n(row?.issuanceStarts),
      webhook_delivery_start: n(row?.deliveryStarts),
      campaign_change: n(row?.campaignChanges),
      redemption_start: n(row?.redemptionStarts),
      vesting_start: n(row?.vestingStarts),
    },
    openDeliveries: { pending: n(row?.pending), retrying: n(row?.retrying) },
    channels: { configured: n(row?.configured), leased: n(row?.leased) },
    vestingStalled: n(row?.vestingStalled),
  };
}
