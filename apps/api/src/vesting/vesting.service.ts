import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { Client, WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { PrismaClient, type VestingRelease, type VestingSchedule } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import {
  admissionRefusal,
  type CampaignBudgetState,
  toStroops,
  vestingReleases,
  vestingScheduleResource,
  vestingTermsProblem,
  vestingWorkflowId,
  type VestingLiveProgress,
} from '@nova/domain';
import { WorkflowHandoffs } from '@nova/workflows/client';
import {
  revokeVestingUpdate,
  VESTING_ENDED,
  VESTING_NOT_REVOCABLE,
  vestingProgressQuery,
} from '@nova/workflows/definitions';
import { CampaignsService } from '../campaigns/campaigns.service';
import { InjectConfig } from '../config/config.module';
import { PlatformAccounts } from '../common/platform-accounts';
import { afterCursor, NEWEST_FIRST, pageSize, toPage, type Page } from '../common/pagination';
import type { IdempotencyClaim } from '../idempotency/idempotency-key';
import type {
  AdminVestingScheduleListQuery,
  AdminVestingScheduleView,
  CreateVestingScheduleRequest,
  VestingScheduleListQuery,
  VestingScheduleView,
} from './dto/vesting.dto';

/** How long a GET waits for the running workflow's figures before showing the read model's. */
const QUERY_DEADLINE_MS = 2_000;
/** How long a revocation waits for the workflow to take it (no worker polling: 503). */
const UPDATE_DEADLINE_MS = 10_000;
/** How long the answer to a revocation waits for it to be done (frozen on chain, the vested rest paid); 202 either way. */
const REVOKE_WAIT_MS = 30_000;

function conflict(reason: string, message: string): ConflictException {
  return new ConflictException({ message, details: { reason } });
}

function fieldError(field: string, message: string): BadRequestException {
  return new BadRequestException({ message, details: [{ field, messages: [message] }] });
}

function notFound(id: string): NotFoundException {
  const message = `vesting schedule ${id} not found`;
  return new NotFoundException({ message, details: [{ field: 'id', messages: [message] }] });
}

type ScheduleWithReleases = VestingSchedule & { releases: VestingRelease[] };

@Injectable()
export class VestingService {
  private readonly logger = new Logger(VestingService.name);

  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    @Inject(WorkflowHandoffs) private readonly handoffs: WorkflowHandoffs,
    @Inject(Client) private readonly temporal: Client,
    @InjectConfig() private readonly config: ApiConfig,
    private readonly campaigns: CampaignsService,
    private readonly platformAccounts: PlatformAccounts,
  ) {}

  /**
   * A schedule: its terms checked (400 naming the field), then, in one transaction, its total
   * reserved against the campaign budget under the campaign's row lock (409 when the campaign
   * cannot take it) and the schedule recorded with its releases; its workflow is started right
   * after (or by the reconciler).
   */
  async create(
    merchantId: string,
    claim: IdempotencyClaim,
    body: CreateVestingScheduleRequest,
    requestId: string,
  ): Promise<VestingScheduleView> {
    if (!this.config.stellar.vestingContractId) {
      throw new ServiceUnavailableException({
        message: 'vesting schedules are not configured on this deployment (VESTING_CONTRACT_ID)',
      });
    }
    if (claim.attempt > 1) {
      // A run that took the key over: the one it replaces may have recorded the schedule already.
      const earlier = await this.findByClaim(claim.claimId);
      if (earlier) return await this.handOff(earlier);
    }
    const terms = {
      totalStroops: toStroops(body.totalAmount),
      startAt: new Date(body.startAt),
      cliffAt: new Date(body.cliffAt),
      endAt: new Date(body.endAt),
      interval: body.interval,
    };
    const problem = vestingTermsProblem(terms);
    if (problem) throw fieldError(problem.field, `${problem.field} ${problem.message}`);
    await this.platformAccounts.refuseAsRecipient('beneficiary', body.beneficiary);
    const campaign = await this.campaigns.findForMerchant(merchantId, body.campaignId, 'campaignId');
    const releases = vestingReleases(terms);

    const id = randomUUID();
    const outcome = await this.db.$transaction(async (tx) => {
      // NO KEY, as the issuances' reservations take it: serialised with them, not blocking inserts.
      const [locked] = await tx.$queryRaw<Omit<CampaignBudgetState, 'maxPerWalletStroops'>[]>`
        SELECT id::text, status, starts_at AS "startsAt", ends_at AS "endsAt", budget_stroops AS "budgetStroops",
               reserved_stroops AS "reservedStroops", paid_stroops AS "paidStroops"
          FROM campaigns WHERE id = ${campaign.id}::uuid FOR NO KEY UPDATE`;
      if (!locked) throw new Error(`campaign ${campaign.id} vanished`);
      // The campaign's one admission rule; its per-wallet limit is for issuances (a grant is the merchant's own decision).
      const refusal = admissionRefusal(
        { ...locked, maxPerWalletStroops: null },
        terms.totalStroops,
        0n,
        body.beneficiary,
        new Date(),
      );
      if (refusal) return { refusal: conflict(refusal.reason, refusal.message) };
      await tx.$executeRaw`
        UPDATE campaigns SET reserved_stroops = reserved_stroops + ${terms.totalStroops}, updated_at = now()
         WHERE id = ${campaign.id}::uuid`;
      const schedule = await tx.vestingSchedule.create({
        data: {
          id,
          merchantId,
          campaignId: campaign.id,
          beneficiary: body.beneficiary,
          totalStroops: terms.totalStroops,
          startAt: terms.startAt,
          cliffAt: terms.cliffAt,
          endAt: terms.endAt,
          interval: body.interval,
          revocable: body.revocable,
          idempotencyClaimId: claim.claimId,
          requestId,
          workflowId: vestingWorkflowId(id),
          releases: {
            create: releases.map((release) => ({
              number: release.number,
              at: release.at,
              amountStroops: release.amountStroops,
            })),
          },
        },
        include: { releases: true },
      });
      return { schedule };
    });
    if ('refusal' in outcome) throw outcome.refusal;
    return await this.handOff(outcome.schedule);
  }

  /** The schedule; while its workflow runs, vested, released and the next release are the workflow's own figures. */
  async get(merchantId: string | undefined, id: string): Promise<VestingScheduleView> {
    const row = await this.find(merchantId, id);
    return this.toView(row, await this.liveProgress(row));
  }

  async list(merchantId: string, query: VestingScheduleListQuery): Promise<Page<VestingScheduleView>> {
    const { rows, size } = await this.findPage({ ...query, merchantId });
    return toPage(rows, size, (row) => this.toView(row));
  }

  /** Any merchant's schedules, e.g. the stalled ones (`?status=stalled`), with their merchant. */
  async listForAdmin(query: AdminVestingScheduleListQuery): Promise<Page<AdminVestingScheduleView>> {
    const { rows, size } = await this.findPage(query);
    return toPage(rows, size, (row) => ({ ...this.toView(row), merchantId: row.merchantId }));
  }

  /** One page of schedules matching the filters, newest first (one row more than the page: is there a next?). */
  private async findPage(
    query: VestingScheduleListQuery & { merchantId?: string },
  ): Promise<{ rows: ScheduleWithReleases[]; size: number }> {
    const size = pageSize(query);
    const rows = await this.db.vestingSchedule.findMany({
      where: {
        ...(query.merchantId ? { merchantId: query.merchantId } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...(query.beneficiary ? { beneficiary: query.beneficiary } : {}),
        ...(query.campaignId ? { campaignId: query.campaignId } : {}),
        ...afterCursor(query.cursor),
      },
      orderBy: NEWEST_FIRST,
      include: { releases: true },
      take: size + 1,
    });
    return { rows, size };
  }

  /**
   * Revokes the schedule, as a Temporal update of its workflow: 409 when it is not revocable or
   * has ended (the workflow's validator says which). Answers once the revocation is done (frozen
   * on chain, the vested rest paid, the unvested rest back in the budget), or after
   * REVOKE_WAIT_MS with the schedule as it stands (the workflow finishes it).
   */
  async revoke(merchantId: string, id: string): Promise<VestingScheduleView> {
    const row = await this.find(merchantId, id);
    const refusedBecause = (reason: string, why: string) =>
      conflict(reason, `vesting schedule ${id} cannot be revoked: ${why}`);
    if (!row.revocable) throw refusedBecause(VESTING_NOT_REVOCABLE, 'it was created with revocable: false');
    if (row.status === 'completed' || row.status === 'revoked') {
      throw refusedBecause(VESTING_ENDED, `it has ended (${row.status})`);
    }
    // A schedule whose start Temporal has not taken yet (the reconciler's): started now, or 503.
    if (!row.handedOffAt && !(await this.handOffNow(row))) {
      throw new ServiceUnavailableException({
        message: `the schedule's workflow has not started yet (is Temporal reachable?); retry the same request`,
      });
    }
    const handle = this.temporal.workflow.getHandle(row.workflowId);
    let update;
    try {
      // One update id per schedule: a retry (after a 503, say) joins the first revocation.
      update = await this.temporal.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
        handle.startUpdate(revokeVestingUpdate, {
          updateId: `${id}/revoke`,
          waitForStage: WorkflowUpdateStage.ACCEPTED,
        }),
      );
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        throw refusedBecause(VESTING_ENDED, `its workflow is not running (${row.status})`);
      }
      this.logger.warn(
        `the revocation of vesting schedule ${id} did not reach its workflow: ${(error as Error).message}`,
      );
      throw new ServiceUnavailableException({
        message: `the schedule's workflow did not answer within ${UPDATE_DEADLINE_MS / 1000} s (is a worker running?); it may still take the revocation: retry the same request`,
      });
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([update.result(), new Promise((resolve) => (timer = setTimeout(resolve, REVOKE_WAIT_MS)))]);
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
        throw refusedBecause(error.cause.type ?? VESTING_ENDED, error.cause.message);
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return await this.get(merchantId, id);
  }

  private async find(merchantId: string | undefined, id: string): Promise<ScheduleWithReleases> {
    const row = await this.db.vestingSchedule.findFirst({
      where: { id, ...(merchantId ? { merchantId } : {}) },
      include: { releases: true },
    });
    if (!row) throw notFound(id);
    return row;
  }

  private async findByClaim(claimId: string): Promise<ScheduleWithReleases | null> {
    return await this.db.vestingSchedule.findUnique({
      where: { idempotencyClaimId: claimId },
      include: { releases: true },
    });
  }

  /** The running workflow's figures; undefined when it has ended or does not answer in time (the read model's are shown). */
  private async liveProgress(row: VestingSchedule): Promise<VestingLiveProgress | undefined> {
    if (row.status === 'completed' || row.status === 'revoked') return undefined;
    try {
      const progress = await this.temporal.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        this.temporal.workflow.getHandle(row.workflowId).query(vestingProgressQuery),
      );
      // Not its vested figure: a query sees the workflow's clock as of its last task (up to an
      // interval old); vested is computed for now from the terms.
      return {
        releasedStroops: BigInt(progress.releasedStroops),
        nextReleaseAt: progress.nextReleaseAt,
        ...(progress.revokedAt ? { revokedAt: progress.revokedAt } : {}),
      };
    } catch (error) {
      this.logger.debug(`vesting schedule ${row.id}: no answer from its workflow (${(error as Error).message})`);
      return undefined;
    }
  }

  /** Starts the schedule's run now; one that does not go through is left to the reconciler. */
  private async handOff(schedule: ScheduleWithReleases): Promise<VestingScheduleView> {
    if (!schedule.handedOffAt) await this.handOffNow(schedule);
    return this.toView(schedule);
  }

  /** @returns whether Temporal took the start (now, or before: its run exists). */
  private async handOffNow(schedule: ScheduleWithReleases): Promise<boolean> {
    try {
      await this.handoffs.startVesting(schedule);
      await this.db.vestingSchedule.updateMany({
        where: { id: schedule.id, handedOffAt: null },
        data: { handedOffAt: new Date() },
      });
      return true;
    } catch (error) {
      this.logger.warn(
        `Temporal did not take the workflow of vesting schedule ${schedule.id} (the reconciler starts it): ${(error as Error).message}`,
      );
      return false;
    }
  }

  private toView(row: ScheduleWithReleases, live?: VestingLiveProgress): VestingScheduleView {
    return vestingScheduleResource(row, row.releases, this.config.temporal, new Date(), live);
  }
}
