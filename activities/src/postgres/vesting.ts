import { ApplicationFailure } from '@temporalio/common';
import type { Prisma, PrismaClient, VestingSchedule } from '@nova/db';
import { vestingScheduleResource, type WebhookEventType } from '@nova/domain';
import type { Clock } from '../clock';
import { recordVestingEvent } from '../metrics';
import type { EventRelayKick } from '../webhooks/relay';

export interface VestingLedgerDependencies {
  db: PrismaClient;
  clock: Clock;
  /** The Temporal Web UI, for the `links` of the schedule an event carries (as the API shows it). */
  temporalUi: { uiUrl: string; namespace: string };
  /** Kicked after an event is written, so its webhooks go out without waiting for the reconciler. */
  events?: EventRelayKick;
}

/** The statuses a schedule ends in: nothing changes it after. */
const ENDED = ['completed', 'revoked'];

/**
 * Read-model writes of the vesting workflow. Each runs in one transaction under the schedule's
 * row lock with the campaign budget and outbox rows it touches, and is idempotent: a retried
 * activity finds its change made (paid_through, status) and changes nothing again. The
 * campaign's reservation of the total moves to paid release by release, and what a revocation
 * leaves unvested goes back to the budget.
 */
export function createVestingLedgerActivities(deps: VestingLedgerDependencies) {
  const { db, clock, temporalUi } = deps;

  async function lock(tx: Prisma.TransactionClient, scheduleId: string): Promise<VestingSchedule> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM vesting_schedules WHERE id = ${scheduleId}::uuid FOR UPDATE`;
    if (rows.length === 0) {
      throw ApplicationFailure.nonRetryable(`vesting schedule ${scheduleId} does not exist`, 'VestingScheduleMissing');
    }
    return await tx.vestingSchedule.findUniqueOrThrow({ where: { id: scheduleId } });
  }

  /** The event, carrying the schedule as GET shows it once this transaction commits; one per dedupe key. */
  async function emit(
    tx: Prisma.TransactionClient,
    type: WebhookEventType,
    schedule: VestingSchedule,
    dedupeKey: string,
  ): Promise<void> {
    const releases = await tx.vestingRelease.findMany({ where: { scheduleId: schedule.id } });
    await tx.outboxEvent.upsert({
      where: { dedupeKey },
      create: {
        merchantId: schedule.merchantId,
        type,
        aggregateId: schedule.id,
        dedupeKey,
        payload: vestingScheduleResource(
          schedule,
          releases,
          temporalUi,
          clock.now(),
        ) as unknown as Prisma.InputJsonValue,
      },
      update: {},
    });
  }

  /** Runs `change` under the schedule's row lock unless it has ended; kicks the relay when an event was written. */
  async function settle(
    scheduleId: string,
    change: (tx: Prisma.TransactionClient, schedule: VestingSchedule) => Promise<WebhookEventType | undefined>,
  ): Promise<void> {
    const event = await db.$transaction(async (tx) => {
      const schedule = await lock(tx, scheduleId);
      if (ENDED.includes(schedule.status)) return undefined;
      return await change(tx, schedule);
    });
    if (event) {
      recordVestingEvent(event);
      deps.events?.kick();
    }
  }

  return {
    /** The schedule is on the vesting contract (create_schedule landed); active again if registering had stalled it. */
    async markVestingRegistered(input: { scheduleId: string; txHash?: string }): Promise<void> {
      await settle(input.scheduleId, async (tx, schedule) => {
        await tx.vestingSchedule.update({
          where: { id: schedule.id },
          data: {
            ...(input.txHash && !schedule.registeredTxHash ? { registeredTxHash: input.txHash } : {}),
            ...(schedule.status === 'stalled'
              ? { status: 'active', stalledFailureType: null, stalledMessage: null, stalledAt: null }
              : {}),
            updatedAt: clock.now(),
          },
        });
        return undefined;
      });
    },

    /**
     * Releases `fromNumber..toNumber` paid together in `txHash`: marked paid, their amount moved
     * from the campaign's reserved to its paid, the schedule active again if it was stalled, and
     * vesting.released. A release already recorded changes nothing.
     */
    async recordVestingRelease(input: {
      scheduleId: string;
      fromNumber: number;
      toNumber: number;
      amountStroops: string;
      releasedStroops: string;
      txHash: string;
    }): Promise<void> {
      await settle(input.scheduleId, async (tx, schedule) => {
        if (schedule.paidThrough >= input.toNumber) return undefined;
        const amount = BigInt(input.amountStroops);
        const now = clock.now();
        await tx.vestingRelease.updateMany({
          where: { scheduleId: schedule.id, number: { gte: input.fromNumber, lte: input.toNumber } },
          data: { status: 'paid', txHash: input.txHash, paidAt: now },
        });
        await tx.$executeRaw`
          UPDATE campaigns SET reserved_stroops = reserved_stroops - ${amount}, paid_stroops = paid_stroops + ${amount},
                 updated_at = now()
           WHERE id = ${schedule.campaignId}::uuid`;
        const updated = await tx.vestingSchedule.update({
          where: { id: schedule.id },
          data: {
            status: 'active',
            paidThrough: input.toNumber,
            releasedStroops: BigInt(input.releasedStroops),
            stalledFailureType: null,
            stalledMessage: null,
            stalledAt: null,
            updatedAt: now,
          },
        });
        await emit(tx, 'vesting.released', updated, `vesting.released/${schedule.id}/${input.toNumber}`);
        return 'vesting.released';
      });
    },

    /** The release due cannot be paid yet (its payment was refused for good, again and again): stalled, and vesting.stalled. */
    async markVestingStalled(input: {
      scheduleId: string;
      fromNumber: number;
      failureType: string;
      message: string;
    }): Promise<void> {
      await settle(input.scheduleId, async (tx, schedule) => {
        if (schedule.status === 'stalled' || schedule.paidThrough >= input.fromNumber) return undefined;
        const now = clock.now();
        const stalled = await tx.vestingSchedule.update({
          where: { id: schedule.id },
          data: {
            status: 'stalled',
            stalledFailureType: input.failureType,
            stalledMessage: input.message.slice(0, 1000),
            stalledAt: now,
            updatedAt: now,
          },
        });
        // One event per stall (a schedule may stall, recover and stall again at the same release).
        await emit(
          tx,
          'vesting.stalled',
          stalled,
          `vesting.stalled/${schedule.id}/${input.fromNumber}/${now.getTime()}`,
        );
        return 'vesting.stalled';
      });
    },

    /** Every release paid: completed, and vesting.completed. */
    async completeVesting(input: { scheduleId: string; releasedStroops: string }): Promise<void> {
      await settle(input.scheduleId, async (tx, schedule) => {
        const completed = await tx.vestingSchedule.update({
          where: { id: schedule.id },
          data: { status: 'completed', releasedStroops: BigInt(input.releasedStroops), updatedAt: clock.now() },
        });
        await emit(tx, 'vesting.completed', completed, `vesting.completed/${schedule.id}`);
        return 'vesting.completed';
      });
    },

    /**
     * Revoked: the final payment (what had vested and was not released) moves from reserved to
     * paid, the unvested rest leaves the reservation (back in the budget), the releases not paid
     * are cancelled, and vesting.revoked.
     */
    async revokeVesting(input: {
      scheduleId: string;
      revokedAt: string;
      releasedStroops: string;
      returnedStroops: string;
      finalTxHash?: string;
    }): Promise<void> {
      await settle(input.scheduleId, async (tx, schedule) => {
        const released = BigInt(input.releasedStroops);
        const finalPayment = released - schedule.releasedStroops;
        const returned = BigInt(input.returnedStroops);
        const now = clock.now();
        await tx.$executeRaw`
          UPDATE campaigns SET reserved_stroops = reserved_stroops - ${finalPayment + returned},
                 paid_stroops = paid_stroops + ${finalPayment}, updated_at = now()
           WHERE id = ${schedule.campaignId}::uuid`;
        await tx.vestingRelease.updateMany({
          where: { scheduleId: schedule.id, status: 'scheduled' },
          data: { status: 'cancelled' },
        });
        const revoked = await tx.vestingSchedule.update({
          where: { id: schedule.id },
          data: {
            status: 'revoked',
            revokedAt: new Date(input.revokedAt),
            releasedStroops: released,
            revocationStroops: finalPayment,
            revocationTxHash: input.finalTxHash ?? null,
            returnedStroops: returned,
            stalledFailureType: null,
            stalledMessage: null,
            stalledAt: null,
            updatedAt: now,
          },
        });
        await emit(tx, 'vesting.revoked', revoked, `vesting.revoked/${schedule.id}`);
        return 'vesting.revoked';
      });
    },
  };
}

export type VestingLedgerActivities = ReturnType<typeof createVestingLedgerActivities>;
