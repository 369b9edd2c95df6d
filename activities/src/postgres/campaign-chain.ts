import { ApplicationFailure } from '@temporalio/common';
import type { Campaign, CampaignChainChange, Prisma, PrismaClient } from '@nova/db';
import { campaignResource, type CampaignChangeKind, type OnChainStatus } from '@nova/domain';
import type { Clock } from '../clock';
import type { EventRelayKick } from '../webhooks/relay';

/** A change for the campaign contract, as the workflow carries it (JSON: no bigint, no Date). */
export interface CampaignChange {
  campaignId: string;
  merchantId: string;
  seq: number;
  kind: CampaignChangeKind;
  /** register, update: the budget in stroops, as a decimal string. */
  budgetStroops?: string;
  /** register: ISO-8601 instants (the contract gets unix seconds). */
  startsAt?: string;
  /** register, update. */
  endsAt?: string;
}

export type CampaignChangeOutcome =
  | { status: 'synced'; txHash: string; ledger: number }
  | { status: 'failed'; failureType: string; failureCode: number | null; message: string };

/**
 * What a change is about, for deciding whether a refusal still stands: a refused change stops
 * counting once a later change about the same thing has landed (a later update carries the
 * whole budget and end again; a later pause or resume sets the status again). A refused
 * registration stands for good: nothing after it can put the campaign on chain.
 */
const ASPECTS: readonly CampaignChangeKind[][] = [['register'], ['update'], ['pause', 'resume']];

function changeOf(row: CampaignChainChange, merchantId: string): CampaignChange {
  return {
    campaignId: row.campaignId,
    merchantId,
    seq: row.seq,
    kind: row.kind as CampaignChangeKind,
    ...(row.budgetStroops !== null ? { budgetStroops: row.budgetStroops.toString() } : {}),
    ...(row.startsAt ? { startsAt: row.startsAt.toISOString() } : {}),
    ...(row.endsAt ? { endsAt: row.endsAt.toISOString() } : {}),
  };
}

/**
 * Read-model side of the campaign workflow: the queue of changes the API wrote
 * (campaign_chain_changes), and the campaign's on-chain status. Idempotent: settling a
 * change twice changes nothing the first time did not.
 */
export function createCampaignChainLedgerActivities(deps: {
  db: PrismaClient;
  clock: Clock;
  /** Kicked after campaign.synced / campaign.sync_failed is written, so its webhooks go out soon. */
  events?: EventRelayKick;
}) {
  const { db, clock } = deps;

  return {
    /** The pending changes with afterSeq < seq <= upToSeq, in order. */
    async pendingCampaignChanges(input: {
      campaignId: string;
      afterSeq: number;
      upToSeq: number;
    }): Promise<CampaignChange[]> {
      const campaign = await db.campaign.findUnique({ where: { id: input.campaignId }, select: { merchantId: true } });
      if (!campaign)
        throw ApplicationFailure.nonRetryable(`campaign ${input.campaignId} does not exist`, 'CampaignMissing');
      const rows = await db.campaignChainChange.findMany({
        where: { campaignId: input.campaignId, status: 'pending', seq: { gt: input.afterSeq, lte: input.upToSeq } },
        orderBy: { seq: 'asc' },
      });
      return rows.map((row) => changeOf(row, campaign.merchantId));
    },

    /**
     * Records a change's outcome and recomputes the campaign's on-chain status: pending while
     * an accepted change is unsettled; else failed if a refusal still stands (see ASPECTS);
     * else synced. The hash and ledger shown are the last landed change's.
     */
    async settleCampaignChange(input: {
      campaignId: string;
      seq: number;
      outcome: CampaignChangeOutcome;
    }): Promise<{ status: OnChainStatus }> {
      const settled = await db.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT id FROM campaigns WHERE id = ${input.campaignId}::uuid FOR NO KEY UPDATE`;
        const campaign = await tx.campaign.findUnique({ where: { id: input.campaignId } });
        if (!campaign)
          throw ApplicationFailure.nonRetryable(`campaign ${input.campaignId} does not exist`, 'CampaignMissing');
        const key = { campaignId_seq: { campaignId: input.campaignId, seq: input.seq } };
        const change = await tx.campaignChainChange.findUnique({ where: key });
        if (!change) {
          throw ApplicationFailure.nonRetryable(
            `campaign ${input.campaignId} has no change ${input.seq}`,
            'CampaignChangeMissing',
          );
        }
        if (change.status === 'pending') {
          const { outcome } = input;
          await tx.campaignChainChange.update({
            where: key,
            data:
              outcome.status === 'synced'
                ? { status: 'synced', txHash: outcome.txHash, ledger: outcome.ledger, settledAt: clock.now() }
                : {
                    status: 'failed',
                    failureType: outcome.failureType,
                    failureCode: outcome.failureCode,
                    failureMessage: outcome.message.slice(0, 1000),
                    settledAt: clock.now(),
                  },
          });
        }
        const before = campaign.onChainStatus;
        const after = await recomputeOnChain(
          tx,
          campaign.id,
          campaign.chainChangeSeq,
          campaign.chainSettledSeq,
          input.seq,
        );
        const status = after.onChainStatus as OnChainStatus;
        // One event per settled state the campaign reaches: all accepted changes written (synced), or one refused.
        let announced = false;
        if (status !== 'pending' && (before !== status || campaign.chainSettledSeq !== after.chainSettledSeq)) {
          const type = status === 'synced' ? 'campaign.synced' : 'campaign.sync_failed';
          const dedupeKey = `${type}/${campaign.id}/${after.chainSettledSeq}`;
          await tx.outboxEvent.upsert({
            where: { dedupeKey },
            create: {
              merchantId: campaign.merchantId,
              type,
              aggregateId: campaign.id,
              dedupeKey,
              payload: campaignResource(after, true) as unknown as Prisma.InputJsonValue,
            },
            update: {},
          });
          announced = true;
        }
        return { status, announced };
      });
      if (settled.announced) deps.events?.kick();
      return { status: settled.status };
    },
  };
}

async function recomputeOnChain(
  tx: Prisma.TransactionClient,
  campaignId: string,
  acceptedSeq: number,
  settledSeq: number,
  seq: number,
): Promise<Campaign> {
  const settled = Math.max(settledSeq, seq);
  const latestPerAspect = await Promise.all(
    ASPECTS.map((kinds) =>
      tx.campaignChainChange.findFirst({
        where: { campaignId, kind: { in: kinds }, status: { in: ['synced', 'failed'] } },
        orderBy: { seq: 'desc' },
      }),
    ),
  );
  const standing = latestPerAspect
    .filter((row): row is CampaignChainChange => row?.status === 'failed')
    .sort((a, b) => b.seq - a.seq)[0];
  const landed = await tx.campaignChainChange.findFirst({
    where: { campaignId, status: 'synced' },
    orderBy: { seq: 'desc' },
  });
  const status: OnChainStatus = acceptedSeq > settled ? 'pending' : standing ? 'failed' : 'synced';
  return await tx.campaign.update({
    where: { id: campaignId },
    data: {
      chainSettledSeq: settled,
      onChainStatus: status,
      onChainTxHash: landed?.txHash ?? null,
      onChainLedger: landed?.ledger ?? null,
      onChainFailureType: standing?.failureType ?? null,
      onChainFailureCode: standing?.failureCode ?? null,
      onChainFailureMessage: standing?.failureMessage ?? null,
      onChainFailureChange: standing?.kind ?? null,
    },
  });
}

export type CampaignChainLedgerActivities = ReturnType<typeof createCampaignChainLedgerActivities>;
