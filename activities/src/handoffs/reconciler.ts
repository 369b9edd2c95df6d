import { log } from '@temporalio/activity';
import type { PrismaClient } from '@nova/db';
import type { IssuanceStartRecord, RedemptionStartRecord, VestingStartRecord } from '@nova/domain';
import type { WebhookDeliveryStarter, WebhookRelay } from '../webhooks/relay';
import { cursorOf, eachLimited, parseCursor } from './batches';

/** Where one step's next batch begins (records are taken oldest first). */
export type ReconcileCursor = string;

/** What one batch of a reconciler step did. */
export interface ReconcileBatch {
  /** Records looked at. */
  seen: number;
  /** Records Temporal took now: a run started, a signal delivered. */
  redriven: number;
  /** Records Temporal had already (a run started or begun, a workflow that knows the change): nothing sent. */
  alreadyTaken: number;
  /** Records Temporal did not take this time; the next run tries them again. */
  failed: number;
  /** Set when more records may be due: the next batch starts there. */
  next?: ReconcileCursor;
}

export type { IssuanceStartRecord };

export type ReconcileTotals = Omit<ReconcileBatch, 'next'>;

export interface ReconcileBatchInput {
  /** Hand-offs recorded at least this long ago; younger ones are still the API's own. */
  afterSeconds: number;
  batchSize: number;
  cursor?: ReconcileCursor;
}

/**
 * The platform's hand-offs to Temporal, as the API makes them: the worker binds
 * `WorkflowHandoffs` (@nova/workflows/client) on a @temporalio/client Client built from the
 * worker's connection. Declared here because the workflows package depends on these activities'
 * types, so the activities cannot import it back.
 */
export interface TemporalHandoffs extends WebhookDeliveryStarter {
  /** First run; Temporal refuses a duplicate (REJECT_DUPLICATE). */
  startFirstIssuanceRun(issuance: IssuanceStartRecord): Promise<'started' | 'already-started'>;
  /** Highest change seq the campaign's open run knows; undefined when no run is open. */
  campaignKnownSeq(campaignId: string): Promise<number | undefined>;
  /** Signal-with-start: changes up to `seq` are waiting. */
  signalCampaignChanges(campaign: { id: string; merchantId: string }, seq: number): Promise<void>;
  /** A redemption's run; Temporal refuses a duplicate (REJECT_DUPLICATE). */
  startRedemption(redemption: RedemptionStartRecord): Promise<'started' | 'already-started'>;
  /** A vesting schedule's run; Temporal refuses a duplicate (REJECT_DUPLICATE). */
  startVesting(schedule: VestingStartRecord): Promise<'started' | 'already-started'>;
  /** An admin's reconciliation; Temporal refuses a duplicate (REJECT_DUPLICATE). */
  startReconciliation(reconciliation: ReconciliationStartRecord): Promise<'started' | 'already-started'>;
}

/** What a reconciliation's start needs (a row of `reconciliations` fits). */
export interface ReconciliationStartRecord {
  id: string;
  windowFrom: Date;
  windowTo: Date;
  requestId?: string | null;
}

interface DueStart extends IssuanceStartRecord {
  recordedAt: Date;
  status: string;
  attempts: number;
}

interface DueCampaign {
  id: string;
  merchantId: string;
  seq: number;
  recordedAt: Date;
}

/**
 * Starts each due record's workflow by its business id, then marks the ones Temporal took
 * (started, or refused as a duplicate: its run exists) in one statement; one that fails stays
 * for the next run. Returns the batch, with the cursor after its last record when it was full.
 */
async function startEach<Row extends { id: string; createdAt: Date }>(
  due: Row[],
  batchSize: number,
  what: string,
  start: (row: Row) => Promise<'started' | 'already-started'>,
  markHandedOff: (taken: string[]) => Promise<unknown>,
): Promise<ReconcileBatch> {
  const taken: string[] = [];
  const batch: ReconcileBatch = { seen: due.length, redriven: 0, alreadyTaken: 0, failed: 0 };
  await eachLimited(due, async (row) => {
    try {
      const outcome = await start(row);
      batch[outcome === 'started' ? 'redriven' : 'alreadyTaken'] += 1;
      taken.push(row.id);
    } catch (error) {
      batch.failed += 1;
      log.warn(`Temporal did not take a ${what} start`, { id: row.id, error: String(error) });
    }
  });
  if (taken.length > 0) await markHandedOff(taken);
  const last = due.at(-1);
  return due.length === batchSize && last ? { ...batch, next: cursorOf(last.createdAt, last.id) } : batch;
}

/**
 * The reconciler's steps: each re-drives one kind of hand-off that was recorded in the same
 * transaction as its state change and that Temporal has not taken. They hold no lock: a
 * re-driven start or signal that Temporal already has is refused or ignored by Temporal
 * (starts are REJECT_DUPLICATE by business id; a campaign workflow keeps the highest seq it
 * was told). The database clock decides what is old enough, as it stamped the records.
 */
export function createReconcilerActivities(deps: {
  db: PrismaClient;
  handoffs: TemporalHandoffs;
  /** Unset when campaign sync is off: no campaign workflow is ever signalled then. */
  campaignContractId?: string;
  /** The outbox relay (its fast path runs in the worker after each event; these steps catch up). */
  relay: WebhookRelay;
}) {
  const { db, handoffs, relay } = deps;

  return {
    /** Outbox events not relayed yet (no worker kicked the relay, or it failed): fanned out into deliveries, which start. */
    async relayOutboxEvents(input: ReconcileBatchInput): Promise<ReconcileBatch> {
      return await relay.relayEvents(input);
    },

    /** Webhook deliveries recorded (by the relay, a test event, a redelivery) whose workflow run did not start. */
    async reconcileWebhookDeliveryStarts(input: ReconcileBatchInput): Promise<ReconcileBatch> {
      return await relay.reconcileStarts(input);
    },

    /**
     * First runs of issuances whose start did not go through (Temporal unreachable, the API
     * stopped before it). A row whose issuance shows a begun run (attempts, or a status past
     * pending) is only cleared: even where Temporal no longer remembers a run (past the
     * namespace's retention) that issuance never gets a second first run.
     */
    async reconcileIssuanceStarts(input: ReconcileBatchInput): Promise<ReconcileBatch> {
      const after = parseCursor(input.cursor);
      const due = await db.$queryRaw<DueStart[]>`
        SELECT i.id::text, i.merchant_id::text AS "merchantId", i.campaign_id::text AS "campaignId",
               i.wallet_address AS "walletAddress", i.amount_stroops AS "amountStroops", i.request_id AS "requestId",
               i.status, i.attempts, s.created_at AS "recordedAt"
          FROM issuance_workflow_starts s JOIN issuances i ON i.id = s.issuance_id
         WHERE s.created_at < now() - make_interval(secs => ${input.afterSeconds})
           AND (s.created_at, s.issuance_id) > (${after.at}::timestamptz, ${after.id}::uuid)
         ORDER BY s.created_at, s.issuance_id
         LIMIT ${input.batchSize}`;
      const taken: string[] = [];
      const batch: ReconcileBatch = { seen: due.length, redriven: 0, alreadyTaken: 0, failed: 0 };
      await eachLimited(due, async (issuance) => {
        if (issuance.attempts > 0 || issuance.status !== 'pending') {
          batch.alreadyTaken += 1;
          taken.push(issuance.id);
          return;
        }
        try {
          const outcome = await handoffs.startFirstIssuanceRun(issuance);
          batch[outcome === 'started' ? 'redriven' : 'alreadyTaken'] += 1;
          taken.push(issuance.id);
        } catch (error) {
          batch.failed += 1; // the row stays: the next run tries again
          log.warn('Temporal did not take an issuance start', { issuanceId: issuance.id, error: String(error) });
        }
      });
      if (taken.length > 0) {
        await db.$executeRaw`DELETE FROM issuance_workflow_starts WHERE issuance_id = ANY(${taken}::uuid[])`;
      }
      const last = due.at(-1);
      return due.length === input.batchSize && last ? { ...batch, next: cursorOf(last.recordedAt, last.id) } : batch;
    },

    /**
     * Redemptions accepted whose workflow start did not go through (Temporal unreachable, the
     * API stopped before it): started as the API does, then marked handed off. A start Temporal
     * refuses as a duplicate was taken before (its run exists): marked handed off too.
     */
    async reconcileRedemptionStarts(input: ReconcileBatchInput): Promise<ReconcileBatch> {
      const after = parseCursor(input.cursor);
      const due = await db.$queryRaw<(RedemptionStartRecord & { createdAt: Date })[]>`
        SELECT id::text, merchant_id::text AS "merchantId", item_id::text AS "itemId", wallet_address AS "walletAddress",
               price_stroops AS "priceStroops", fulfilment, signed_envelope_xdr AS "signedEnvelopeXdr",
               request_id AS "requestId", created_at AS "createdAt"
          FROM redemptions
         WHERE handed_off_at IS NULL AND created_at < now() - make_interval(secs => ${input.afterSeconds})
           AND (created_at, id) > (${after.at}::timestamptz, ${after.id}::uuid)
         ORDER BY created_at, id
         LIMIT ${input.batchSize}`;
      return await startEach(
        due,
        input.batchSize,
        'redemption',
        (redemption) => handoffs.startRedemption(redemption),
        (taken) =>
          db.$executeRaw`
          UPDATE redemptions SET handed_off_at = now() WHERE id = ANY(${taken}::uuid[]) AND handed_off_at IS NULL`,
      );
    },

    /**
     * Vesting schedules created whose workflow start did not go through: started as the API
     * does, then marked handed off (a duplicate Temporal refuses was taken before: marked too).
     */
    async reconcileVestingStarts(input: ReconcileBatchInput): Promise<ReconcileBatch> {
      const after = parseCursor(input.cursor);
      const due = await db.$queryRaw<(VestingStartRecord & { createdAt: Date })[]>`
        SELECT id::text, merchant_id::text AS "merchantId", campaign_id::text AS "campaignId", beneficiary,
               total_stroops AS "totalStroops", start_at AS "startAt", cliff_at AS "cliffAt", end_at AS "endAt",
               interval, revocable, request_id AS "requestId", created_at AS "createdAt"
          FROM vesting_schedules
         WHERE handed_off_at IS NULL AND created_at < now() - make_interval(secs => ${input.afterSeconds})
           AND (created_at, id) > (${after.at}::timestamptz, ${after.id}::uuid)
         ORDER BY created_at, id
         LIMIT ${input.batchSize}`;
      return await startEach(
        due,
        input.batchSize,
        'vesting schedule',
        (schedule) => handoffs.startVesting(schedule),
        (taken) =>
          db.$executeRaw`
          UPDATE vesting_schedules SET handed_off_at = now() WHERE id = ANY(${taken}::uuid[]) AND handed_off_at IS NULL`,
      );
    },

    /**
     * Reconciliations an admin asked for whose workflow start did not go through: started as the
     * API does, then marked handed off (a duplicate Temporal refuses was taken before).
     */
    async reconcileReconciliationStarts(input: ReconcileBatchInput): Promise<ReconcileBatch> {
      const after = parseCursor(input.cursor);
      const due = await db.$queryRaw<(ReconciliationStartRecord & { createdAt: Date })[]>`
        SELECT id::text, window_from AS "windowFrom", window_to AS "windowTo", request_id AS "requestId",
               created_at AS "createdAt"
          FROM reconciliations
         WHERE handed_off_at IS NULL AND created_at < now() - make_interval(secs => ${input.afterSeconds})
           AND (created_at, id) > (${after.at}::timestamptz, ${after.id}::uuid)
         ORDER BY created_at, id
         LIMIT ${input.batchSize}`;
      return await startEach(
        due,
        input.batchSize,
        'reconciliation',
        (reconciliation) => handoffs.startReconciliation(reconciliation),
        (taken) =>
          db.$executeRaw`
          UPDATE reconciliations SET handed_off_at = now() WHERE id = ANY(${taken}::uuid[]) AND handed_off_at IS NULL`,
      );
    },

    /**
     * Campaigns with a change accepted and not settled (chain_change_seq > chain_settled_seq),
     * the latest change recorded long enough ago, whose workflow has not been told about it
     * (the API's signal was lost, or the run was terminated): signal-with-start, as the API does.
     */
    async reconcileCampaignChanges(input: ReconcileBatchInput): Promise<ReconcileBatch> {
      if (!deps.campaignContractId) return { seen: 0, redriven: 0, alreadyTaken: 0, failed: 0 };
      const after = parseCursor(input.cursor);
      const due = await db.$queryRaw<DueCampaign[]>`
        SELECT c.id::text, c.merchant_id::text AS "merchantId", c.chain_change_seq AS seq, ch.created_at AS "recordedAt"
          FROM campaigns c
          JOIN campaign_chain_changes ch ON ch.campaign_id = c.id AND ch.seq = c.chain_change_seq
         WHERE c.chain_change_seq > c.chain_settled_seq
           AND ch.created_at < now() - make_interval(secs => ${input.afterSeconds})
           AND (ch.created_at, c.id) > (${after.at}::timestamptz, ${after.id}::uuid)
         ORDER BY ch.created_at, c.id
         LIMIT ${input.batchSize}`;
      const batch: ReconcileBatch = { seen: due.length, redriven: 0, alreadyTaken: 0, failed: 0 };
      await eachLimited(due, async (campaign) => {
        try {
          // A workflow that does not answer (no worker right now) is signalled anyway: a signal it already had changes nothing.
          const known = await handoffs.campaignKnownSeq(campaign.id).catch(() => undefined);
          if (known !== undefined && known >= campaign.seq) {
            batch.alreadyTaken += 1;
            return;
          }
          await handoffs.signalCampaignChanges(campaign, campaign.seq);
          batch.redriven += 1;
        } catch (error) {
          batch.failed += 1;
          log.warn('Temporal did not take a campaign change signal', { campaignId: campaign.id, error: String(error) });
        }
      });
      const last = due.at(-1);
      return due.length === input.batchSize && last ? { ...batch, next: cursorOf(last.recordedAt, last.id) } : batch;
    },
  };
}

export type ReconcilerActivities = ReturnType<typeof createReconcilerActivities>;
