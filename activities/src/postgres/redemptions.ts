import { ApplicationFailure } from '@temporalio/common';
import type { Prisma, PrismaClient, Redemption } from '@nova/db';
import { redemptionResource, type RedemptionChainState, type WebhookEventType } from '@nova/domain';
import type { Clock } from '../clock';
import { recordRedemption } from '../metrics';
import type { EventRelayKick } from '../webhooks/relay';

export interface RedemptionLedgerDependencies {
  db: PrismaClient;
  clock: Clock;
  /** The Temporal Web UI, for the `links` of the redemption an event carries (as the API shows it). */
  temporalUi: { uiUrl: string; namespace: string };
  /** Kicked after an event is written, so its webhooks go out without waiting for the reconciler. */
  events?: EventRelayKick;
}

/** The statuses a redemption ends in: nothing changes it after. */
const FINAL = ['fulfilled', 'refunded', 'failed'];

/**
 * Read-model writes of the redemption workflow. Each is idempotent (a retried activity changes
 * nothing the first attempt already changed) and runs in one transaction with the stock and
 * outbox rows it touches; a redemption in a final status is never changed again.
 */
export function createRedemptionLedgerActivities(deps: RedemptionLedgerDependencies) {
  const { db, clock, temporalUi } = deps;

  async function lock(tx: Prisma.TransactionClient, redemptionId: string): Promise<Redemption> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM redemptions WHERE id = ${redemptionId}::uuid FOR UPDATE`;
    if (rows.length === 0) {
      throw ApplicationFailure.nonRetryable(`redemption ${redemptionId} does not exist`, 'RedemptionMissing');
    }
    return await tx.redemption.findUniqueOrThrow({ where: { id: redemptionId } });
  }

  /** The unit reserved with the redemption goes back to the item (reserved -> released); idempotent. */
  async function release(tx: Prisma.TransactionClient, redemption: Redemption): Promise<Redemption> {
    if (redemption.stockState !== 'reserved') return redemption;
    await tx.$executeRaw`
      UPDATE catalog_items SET reserved = reserved - 1, updated_at = now() WHERE id = ${redemption.itemId}::uuid`;
    return await tx.redemption.update({
      where: { id: redemption.id },
      data: { stockState: 'released', updatedAt: clock.now() },
    });
  }

  async function emit(tx: Prisma.TransactionClient, type: WebhookEventType, redemption: Redemption): Promise<void> {
    const dedupeKey = `${type}/${redemption.id}`;
    await tx.outboxEvent.upsert({
      where: { dedupeKey },
      create: {
        merchantId: redemption.merchantId,
        type,
        aggregateId: redemption.id,
        dedupeKey,
        payload: redemptionResource(redemption, temporalUi) as unknown as Prisma.InputJsonValue,
      },
      update: {},
    });
  }

  /** Runs `change` under the redemption's row lock unless it is final; kicks the relay when an event was written. */
  async function settle(
    redemptionId: string,
    change: (tx: Prisma.TransactionClient, redemption: Redemption) => Promise<WebhookEventType | undefined>,
  ): Promise<void> {
    const event = await db.$transaction(async (tx) => {
      const redemption = await lock(tx, redemptionId);
      if (FINAL.includes(redemption.status)) return undefined;
      return await change(tx, redemption);
    });
    if (event) {
      deps.events?.kick();
      if (event !== 'redemption.paid')
        recordRedemption(
          event === 'redemption.fulfilled' ? 'fulfilled' : event === 'redemption.refunded' ? 'refunded' : 'failed',
        );
    }
  }

  return {
    /**
     * The saga's first step: the unit reserved when the redemption was accepted (atomically,
     * with the redemption's insert) is held. Answers whether it is; a final redemption holds none.
     */
    async holdRedemptionStock(input: { redemptionId: string }): Promise<{ held: boolean }> {
      const redemption = await db.redemption.findUnique({ where: { id: input.redemptionId } });
      if (!redemption) {
        throw ApplicationFailure.nonRetryable(`redemption ${input.redemptionId} does not exist`, 'RedemptionMissing');
      }
      return { held: redemption.stockState === 'reserved' };
    },

    /** Compensation of the reservation: the unit goes back to the item. */
    async releaseRedemptionStock(input: { redemptionId: string }): Promise<void> {
      await settle(input.redemptionId, async (tx, redemption) => {
        await release(tx, redemption);
        return undefined;
      });
    },

    /** Where the redemption contract's record stands, after a call landed (or was found done). */
    async recordRedemptionChainState(input: { redemptionId: string; state: RedemptionChainState }): Promise<void> {
      await db.redemption.updateMany({
        where: { id: input.redemptionId, status: { notIn: FINAL } },
        data: { chainState: input.state, updatedAt: clock.now() },
      });
    },

    /** The holder's payment landed: paid, with the fulfilment deadline of a manual item, and redemption.paid. */
    async markRedemptionPaid(input: {
      redemptionId: string;
      txHash: string;
      /** A manual item's: the deadline is this long from now. */
      fulfilmentDeadlineSeconds?: number;
    }): Promise<{ fulfilmentDeadline?: string }> {
      const deadline =
        input.fulfilmentDeadlineSeconds === undefined
          ? null
          : new Date(clock.now().getTime() + input.fulfilmentDeadlineSeconds * 1000);
      await settle(input.redemptionId, async (tx, redemption) => {
        if (redemption.status !== 'pending') return undefined;
        const paid = await tx.redemption.update({
          where: { id: redemption.id },
          data: {
            status: 'paid',
            paymentTxHash: input.txHash,
            fulfilmentDeadline: deadline,
            updatedAt: clock.now(),
          },
        });
        await emit(tx, 'redemption.paid', paid);
        return 'redemption.paid';
      });
      // A retried call answers the deadline the first one recorded.
      const row = await db.redemption.findUnique({
        where: { id: input.redemptionId },
        select: { fulfilmentDeadline: true },
      });
      return row?.fulfilmentDeadline ? { fulfilmentDeadline: row.fulfilmentDeadline.toISOString() } : {};
    },

    /**
     * Fulfilled: the unit is consumed (sold: stock and reserved both go down), the record
     * confirmed on chain (or an alert saying it could not be), redemption.fulfilled.
     */
    async fulfilRedemption(input: { redemptionId: string; confirmedOnChain: boolean; alert?: string }): Promise<void> {
      await settle(input.redemptionId, async (tx, redemption) => {
        if (redemption.stockState === 'reserved') {
          await tx.$executeRaw`
            UPDATE catalog_items SET reserved = reserved - 1, stock = CASE WHEN stock IS NULL THEN NULL ELSE stock - 1 END,
                   updated_at = now()
             WHERE id = ${redemption.itemId}::uuid`;
        }
        const fulfilled = await tx.redemption.update({
          where: { id: redemption.id },
          data: {
            status: 'fulfilled',
            stockState: redemption.stockState === 'reserved' ? 'consumed' : redemption.stockState,
            ...(input.confirmedOnChain ? { chainState: 'confirmed' } : {}),
            alert: input.alert?.slice(0, 1000) ?? null,
            updatedAt: clock.now(),
          },
        });
        await emit(tx, 'redemption.fulfilled', fulfilled);
        return 'redemption.fulfilled';
      });
    },

    /** Refunded: the refund landed, the record is cancelled on chain, the unit released (idempotently here too), redemption.refunded. */
    async refundRedemption(input: {
      redemptionId: string;
      refundTxHash: string;
      reason: string;
      message: string;
    }): Promise<void> {
      await settle(input.redemptionId, async (tx, locked) => {
        const redemption = await release(tx, locked);
        const refunded = await tx.redemption.update({
          where: { id: redemption.id },
          data: {
            status: 'refunded',
            refundTxHash: input.refundTxHash,
            refundReason: input.reason,
            refundMessage: input.message.slice(0, 1000),
            chainState: 'cancelled',
            updatedAt: clock.now(),
          },
        });
        await emit(tx, 'redemption.refunded', refunded);
        return 'redemption.refunded';
      });
    },

    /**
     * Failed, with a typed reason, and redemption.failed. `alert` is set when a compensation
     * could not complete: what was left undone, for an operator (logged by the workflow too).
     */
    async failRedemption(input: {
      redemptionId: string;
      failureType: string;
      message: string;
      alert?: string;
      /** A refund that landed before what failed. */
      refundTxHash?: string;
    }): Promise<void> {
      await settle(input.redemptionId, async (tx, redemption) => {
        const failed = await tx.redemption.update({
          where: { id: redemption.id },
          data: {
            status: 'failed',
            failureType: input.failureType,
            failureMessage: input.message.slice(0, 1000),
            alert: input.alert?.slice(0, 1000) ?? null,
            ...(input.refundTxHash ? { refundTxHash: input.refundTxHash } : {}),
            updatedAt: clock.now(),
          },
        });
        await emit(tx, 'redemption.failed', failed);
        return 'redemption.failed';
      });
    },
  };
}

export type RedemptionLedgerActivities = ReturnType<typeof createRedemptionLedgerActivities>;
