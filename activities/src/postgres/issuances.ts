import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Issuance, Prisma, PrismaClient } from '@nova/db';
import type { Clock } from '../clock';
import { admissionRefusal, issuanceResource, type CampaignBudgetState, type IssuanceRow } from '@nova/domain';
import type { EventRelayKick } from '../webhooks/relay';
import { recordIssuanceConfirmed, recordIssuanceFailed } from '../metrics';

/** What the issuance activities need beyond the database: where events' Web UI links point, who relays them. */
export interface IssuanceLedgerDependencies {
  db: PrismaClient;
  clock: Clock;
  /** The Temporal Web UI, for the `links` of the issuance an event carries (as the API shows it). */
  temporalUi: { uiUrl: string; namespace: string };
  /** Kicked after an event is written, so its webhooks go out without waiting for the reconciler. */
  events?: EventRelayKick;
}

/** What a reservation reads under the issuance's row lock. */
interface LockedIssuance {
  id: string;
  campaignId: string;
  walletAddress: string;
  amountStroops: bigint;
  reservation: string;
  status: string;
}

/**
 * Read-model writes of the issuance workflow. Each is idempotent (a retried activity
 * changes nothing the first attempt already changed) and runs in one transaction with the
 * budget and outbox rows it touches. The ones every issuance runs (reserve, mark submitted,
 * confirm) are plain SQL: a statement costs a third of the CPU of the ORM call, and the
 * campaign row, which every issuance of a campaign updates, stays locked for fewer round trips.
 */
export function createIssuanceLedgerActivities(deps: IssuanceLedgerDependencies) {
  const { db, clock, temporalUi } = deps;

  async function lockIssuance(tx: Prisma.TransactionClient, issuanceId: string): Promise<Issuance> {
    const rows = await tx.$queryRaw<
      { id: string }[]
    >`SELECT id FROM issuances WHERE id = ${issuanceId}::uuid FOR UPDATE`;
    if (rows.length === 0)
      throw ApplicationFailure.nonRetryable(`issuance ${issuanceId} does not exist`, 'IssuanceMissing');
    return await tx.issuance.findUniqueOrThrow({ where: { id: issuanceId } });
  }

  return {
    /**
     * The run begins and reserves the amount against the campaign budget, atomically with the
     * checks: status pending and the run number recorded (1, then +1 per replay), unless the
     * issuance is confirmed already. A refused reservation rolls the beginning back too; the
     * failure step records the run then. Each statement after a lock reads what committed before
     * it (READ COMMITTED), so two reservations of one campaign never both see the same remaining budget.
     */
    async reserveBudget(input: { issuanceId: string; run: number }): Promise<{ reserved: boolean }> {
      return await db.$transaction(async (tx) => {
        const [issuance] = await tx.$queryRaw<LockedIssuance[]>`
          SELECT id::text, campaign_id::text AS "campaignId", wallet_address AS "walletAddress",
                 amount_stroops AS "amountStroops", reservation, status
            FROM issuances WHERE id = ${input.issuanceId}::uuid FOR UPDATE`;
        if (!issuance)
          throw ApplicationFailure.nonRetryable(`issuance ${input.issuanceId} does not exist`, 'IssuanceMissing');
        if (issuance.reservation === 'reserved' || issuance.reservation === 'paid') {
          if (issuance.status !== 'confirmed') {
            await tx.$executeRaw`
              UPDATE issuances SET status = 'pending', attempts = ${input.run}, failure_type = NULL, failure_message = NULL,
                     updated_at = now()
               WHERE id = ${issuance.id}::uuid`;
          }
          return { reserved: false };
        }
        // NO KEY: serialises reservations without blocking the API's issuance inserts (their FK check).
        const [campaign] = await tx.$queryRaw<CampaignBudgetState[]>`
          SELECT id::text, status, starts_at AS "startsAt", ends_at AS "endsAt", budget_stroops AS "budgetStroops",
                 reserved_stroops AS "reservedStroops", paid_stroops AS "paidStroops",
                 max_per_wallet_stroops AS "maxPerWalletStroops"
            FROM campaigns WHERE id = ${issuance.campaignId}::uuid FOR NO KEY UPDATE`;
        if (!campaign) throw new Error(`campaign ${issuance.campaignId} of issuance ${issuance.id} does not exist`);
        let held = 0n;
        if (campaign.maxPerWalletStroops !== null) {
          const [row] = await tx.$queryRaw<{ stroops: bigint }[]>`
            SELECT COALESCE(SUM(amount_stroops), 0)::bigint AS stroops FROM issuances
             WHERE campaign_id = ${campaign.id}::uuid AND wallet_address = ${issuance.walletAddress}
               AND reservation IN ('reserved', 'paid')`;
          held = row?.stroops ?? 0n;
        }
        const refusal = admissionRefusal(campaign, issuance.amountStroops, held, issuance.walletAddress, clock.now());
        if (refusal) throw ApplicationFailure.nonRetryable(refusal.message, refusal.reason);
        // Not confirmed here: a confirmed issuance's reservation is paid (returned above).
        await tx.$executeRaw`
          WITH reserve AS (
            UPDATE campaigns SET reserved_stroops = reserved_stroops + ${issuance.amountStroops}, updated_at = now()
             WHERE id = ${campaign.id}::uuid)
          UPDATE issuances
             SET reservation = 'reserved', status = 'pending', attempts = ${input.run}, failure_type = NULL,
                 failure_message = NULL, updated_at = now()
           WHERE id = ${issuance.id}::uuid`;
        return { reserved: true };
      });
    },

    async markIssuanceSubmitted(input: { issuanceId: string }): Promise<void> {
      await db.$executeRaw`
        UPDATE issuances SET status = 'submitted', updated_at = now()
         WHERE id = ${input.issuanceId}::uuid AND status = 'pending'`;
    },

    /**
     * reserved -> paid, status confirmed, and the issuance.confirmed event, in one statement
     * under the issuance's row lock (a confirmed issuance is left as it is). The event's
     * fields that never change after creation are read first.
     */
    async confirmIssuance(input: { issuanceId: string; txHash: string; ledger: number }): Promise<void> {
      const [issuance] = await db.$queryRaw<
        Omit<IssuanceRow, 'status' | 'txHash' | 'ledger' | 'failureType' | 'failureMessage' | 'updatedAt'>[]
      >`
        SELECT id::text, campaign_id::text AS "campaignId", wallet_address AS "walletAddress",
               amount_stroops AS "amountStroops", reference, metadata, attempts, workflow_id AS "workflowId",
               created_at AS "createdAt"
          FROM issuances WHERE id = ${input.issuanceId}::uuid`;
      if (!issuance)
        throw ApplicationFailure.nonRetryable(`issuance ${input.issuanceId} does not exist`, 'IssuanceMissing');
      // The event carries the issuance exactly as the API will show it once this statement has run.
      const now = clock.now();
      const event = issuanceResource(
        {
          ...issuance,
          status: 'confirmed',
          txHash: input.txHash,
          ledger: input.ledger,
          failureType: null,
          failureMessage: null,
          updatedAt: now,
        },
        temporalUi,
      );
      // Paid without a live reservation (e.g. it was released, then the payment was found): counted as paid.
      const written = await db.$executeRaw`
        WITH locked AS (
          SELECT id, merchant_id, campaign_id, amount_stroops, reservation FROM issuances
           WHERE id = ${input.issuanceId}::uuid AND status <> 'confirmed' FOR UPDATE
        ), paid AS (
          UPDATE campaigns c
             SET reserved_stroops = c.reserved_stroops - CASE WHEN l.reservation = 'reserved' THEN l.amount_stroops ELSE 0 END,
                 paid_stroops = c.paid_stroops + CASE WHEN l.reservation = 'paid' THEN 0 ELSE l.amount_stroops END,
                 updated_at = now()
            FROM locked l WHERE c.id = l.campaign_id
        ), confirmed AS (
          UPDATE issuances i
             SET status = 'confirmed', reservation = 'paid', tx_hash = ${input.txHash}, ledger = ${input.ledger},
                 failure_type = NULL, failure_message = NULL, updated_at = ${now}
            FROM locked l WHERE i.id = l.id
          RETURNING i.id, i.merchant_id
        )
        INSERT INTO outbox_events (merchant_id, type, aggregate_id, dedupe_key, payload)
        SELECT merchant_id, 'issuance.confirmed', id::text, 'issuance.confirmed/' || id::text, ${JSON.stringify(event)}::jsonb
          FROM confirmed
        ON CONFLICT (dedupe_key) DO NOTHING`;
      if (written > 0) {
        recordIssuanceConfirmed();
        // With tracing on, the line carries the request's trace id (the activity interceptor adds it).
        log.info('issuance confirmed', { issuanceId: input.issuanceId, txHash: input.txHash, ledger: input.ledger });
        deps.events?.kick();
      }
    },

    /** Compensation: the reservation is released, status failed with a typed reason, and the event. */
    async failIssuance(input: {
      issuanceId: string;
      run: number;
      failureType: string;
      message: string;
    }): Promise<void> {
      const failedNow = await db.$transaction(async (tx) => {
        const issuance = await lockIssuance(tx, input.issuanceId);
        if (issuance.status === 'confirmed') return false; // never un-confirm a payment
        // A retry of this activity after its commit changes nothing and is not counted again.
        const again = issuance.status === 'failed' && issuance.attempts === input.run;
        if (issuance.reservation === 'reserved') {
          await tx.campaign.update({
            where: { id: issuance.campaignId },
            data: { reservedStroops: { decrement: issuance.amountStroops } },
          });
        }
        const updated = await tx.issuance.update({
          where: { id: issuance.id },
          data: {
            status: 'failed',
            attempts: input.run,
            reservation: issuance.reservation === 'reserved' ? 'released' : issuance.reservation,
            failureType: input.failureType,
            failureMessage: input.message.slice(0, 1000),
          },
        });
        const dedupeKey = `issuance.failed/${issuance.id}/${input.run}`;
        await tx.outboxEvent.upsert({
          where: { dedupeKey },
          create: {
            merchantId: issuance.merchantId,
            type: 'issuance.failed',
            aggregateId: issuance.id,
            dedupeKey,
            payload: issuanceResource(updated, temporalUi) as unknown as Prisma.InputJsonValue,
          },
          update: {},
        });
        return !again;
      });
      if (failedNow) {
        recordIssuanceFailed(input.failureType);
        log.warn('issuance failed', { issuanceId: input.issuanceId, run: input.run, failureType: input.failureType });
      }
      deps.events?.kick();
    },
  };
}

export type IssuanceLedgerActivities = ReturnType<typeof createIssuanceLedgerActivities>;
