import { ApplicationFailure } from '@temporalio/common';
import type { Issuance, Prisma, PrismaClient } from '@nova/db';
import type { Clock } from '../clock';
import { fromStroops } from '../stellar/amounts';

export type IssuanceStatus = 'pending' | 'submitted' | 'confirmed' | 'failed';

/** Business rejections of a reservation: final, surfaced as the issuance's failure type. */
export const RESERVATION_FAILURES = ['CampaignInactive', 'CampaignBudgetExhausted', 'WalletLimitExceeded'] as const;

function issuanceEvent(issuance: Issuance) {
  return {
    id: issuance.id,
    campaignId: issuance.campaignId,
    walletAddress: issuance.walletAddress,
    amount: fromStroops(issuance.amountStroops),
    reference: issuance.reference,
    status: issuance.status,
    txHash: issuance.txHash,
    failure: issuance.failureType ? { type: issuance.failureType, message: issuance.failureMessage } : null,
  };
}

/**
 * Read-model writes of the issuance workflow. Each is idempotent (a retried activity
 * changes nothing the first attempt already changed) and runs in one transaction with the
 * budget and outbox rows it touches.
 */
export function createIssuanceLedgerActivities(deps: { db: PrismaClient; clock: Clock }) {
  const { db, clock } = deps;

  async function lockIssuance(tx: Prisma.TransactionClient, issuanceId: string): Promise<Issuance> {
    const rows = await tx.$queryRaw<
      { id: string }[]
    >`SELECT id FROM issuances WHERE id = ${issuanceId}::uuid FOR UPDATE`;
    if (rows.length === 0)
      throw ApplicationFailure.nonRetryable(`issuance ${issuanceId} does not exist`, 'IssuanceMissing');
    return await tx.issuance.findUniqueOrThrow({ where: { id: issuanceId } });
  }

  return {
    /** A run begins: status pending, the run number recorded (1, then +1 per replay). */
    async beginIssuanceRun(input: { issuanceId: string; run: number }): Promise<void> {
      await db.issuance.updateMany({
        where: { id: input.issuanceId, status: { not: 'confirmed' } },
        data: { status: 'pending', attempts: input.run, failureType: null, failureMessage: null },
      });
    },

    /**
     * Reserves the amount against the campaign budget, atomically with the checks. With `run`,
     * the run begins in the same transaction (as beginIssuanceRun; one round trip fewer).
     */
    async reserveBudget(input: { issuanceId: string; run?: number }): Promise<{ reserved: boolean }> {
      return await db.$transaction(async (tx) => {
        const issuance = await lockIssuance(tx, input.issuanceId);
        const begin =
          input.run !== undefined && issuance.status !== 'confirmed'
            ? { status: 'pending', attempts: input.run, failureType: null, failureMessage: null }
            : {};
        if (issuance.reservation === 'reserved' || issuance.reservation === 'paid') {
          if (input.run !== undefined) await tx.issuance.update({ where: { id: issuance.id }, data: begin });
          return { reserved: false };
        }
        // NO KEY: serialises reservations without blocking the API's issuance inserts (their FK check).
        await tx.$queryRaw`SELECT id FROM campaigns WHERE id = ${issuance.campaignId}::uuid FOR NO KEY UPDATE`;
        const campaign = await tx.campaign.findUniqueOrThrow({ where: { id: issuance.campaignId } });
        const now = clock.now();
        if (campaign.status !== 'active') {
          throw ApplicationFailure.nonRetryable(`campaign ${campaign.id} is ${campaign.status}`, 'CampaignInactive');
        }
        if (now < campaign.startsAt || now >= campaign.endsAt) {
          const when =
            now < campaign.startsAt
              ? `starts at ${campaign.startsAt.toISOString()}`
              : `ended at ${campaign.endsAt.toISOString()}`;
          throw ApplicationFailure.nonRetryable(`campaign ${campaign.id} ${when}`, 'CampaignInactive');
        }
        const remaining = campaign.budgetStroops - campaign.reservedStroops - campaign.paidStroops;
        if (remaining < issuance.amountStroops) {
          throw ApplicationFailure.nonRetryable(
            `campaign ${campaign.id} has ${fromStroops(remaining)} left, ${fromStroops(issuance.amountStroops)} asked`,
            'CampaignBudgetExhausted',
          );
        }
        if (campaign.maxPerWalletStroops !== null) {
          const held = await tx.issuance.aggregate({
            where: {
              campaignId: campaign.id,
              walletAddress: issuance.walletAddress,
              reservation: { in: ['reserved', 'paid'] },
            },
            _sum: { amountStroops: true },
          });
          const total = (held._sum.amountStroops ?? 0n) + issuance.amountStroops;
          if (total > campaign.maxPerWalletStroops) {
            throw ApplicationFailure.nonRetryable(
              `wallet ${issuance.walletAddress} would get ${fromStroops(total)} from campaign ${campaign.id}, max ${fromStroops(campaign.maxPerWalletStroops)}`,
              'WalletLimitExceeded',
            );
          }
        }
        await tx.campaign.update({
          where: { id: campaign.id },
          data: { reservedStroops: { increment: issuance.amountStroops } },
        });
        await tx.issuance.update({ where: { id: issuance.id }, data: { reservation: 'reserved', ...begin } });
        return { reserved: true };
      });
    },

    async markIssuanceSubmitted(input: { issuanceId: string }): Promise<void> {
      await db.issuance.updateMany({
        where: { id: input.issuanceId, status: 'pending' },
        data: { status: 'submitted' },
      });
    },

    /** reserved -> paid, status confirmed, and the issuance.confirmed event, in one transaction. */
    async confirmIssuance(input: { issuanceId: string; txHash: string; ledger: number }): Promise<void> {
      await db.$transaction(async (tx) => {
        const issuance = await lockIssuance(tx, input.issuanceId);
        if (issuance.status === 'confirmed') return;
        if (issuance.reservation === 'reserved') {
          await tx.campaign.update({
            where: { id: issuance.campaignId },
            data: {
              reservedStroops: { decrement: issuance.amountStroops },
              paidStroops: { increment: issuance.amountStroops },
            },
          });
        } else if (issuance.reservation !== 'paid') {
          // Paid without a live reservation (e.g. it was released, then the payment was found): count it.
          await tx.campaign.update({
            where: { id: issuance.campaignId },
            data: { paidStroops: { increment: issuance.amountStroops } },
          });
        }
        const updated = await tx.issuance.update({
          where: { id: issuance.id },
          data: {
            status: 'confirmed',
            reservation: 'paid',
            txHash: input.txHash,
            ledger: input.ledger,
            failureType: null,
            failureMessage: null,
          },
        });
        await tx.outboxEvent.upsert({
          where: { dedupeKey: `issuance.confirmed/${issuance.id}` },
          create: {
            merchantId: issuance.merchantId,
            type: 'issuance.confirmed',
            aggregateId: issuance.id,
            dedupeKey: `issuance.confirmed/${issuance.id}`,
            payload: issuanceEvent(updated) as Prisma.InputJsonValue,
          },
          update: {},
        });
      });
    },

    /** Compensation: the reservation is released, status failed with a typed reason, and the event. */
    async failIssuance(input: {
      issuanceId: string;
      run: number;
      failureType: string;
      message: string;
    }): Promise<void> {
      await db.$transaction(async (tx) => {
        const issuance = await lockIssuance(tx, input.issuanceId);
        if (issuance.status === 'confirmed') return; // never un-confirm a payment
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
            payload: issuanceEvent(updated) as Prisma.InputJsonValue,
          },
          update: {},
        });
      });
    },
  };
}

export type IssuanceLedgerActivities = ReturnType<typeof createIssuanceLedgerActivities>;
