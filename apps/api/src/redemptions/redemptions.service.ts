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
import { Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { PrismaClient, type Redemption } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { fromStroops, redemptionResource, redemptionWorkflowId, type RedemptionRefusal } from '@nova/domain';
import { redemptionQuoteMemo } from '@nova/domain/memos';
import { WorkflowHandoffs } from '@nova/workflows/client';
import { fulfilRedemptionUpdate, NOT_AWAITING_FULFILMENT, rejectRedemptionUpdate } from '@nova/workflows/definitions';
import { CatalogService } from '../catalog/catalog.service';
import { InjectConfig } from '../config/config.module';
import { PlatformAccounts } from '../common/platform-accounts';
import { afterCursor, NEWEST_FIRST, pageSize, toPage, type Page } from '../common/pagination';
import type { IdempotencyClaim } from '../idempotency/idempotency-key';
import type {
  AdminRedemptionListQuery,
  AdminRedemptionView,
  CreateQuoteRequest,
  CreateRedemptionRequest,
  QuoteView,
  RedemptionListQuery,
  RedemptionView,
} from './dto/redemption.dto';
import { HolderAccounts } from './holder-accounts';
import { buildQuoteTransaction, envelopeProblem } from './redemption-envelopes';

/** A quote with less than this left is refused: opening on chain and submitting take a few ledgers. */
const QUOTE_SUBMIT_MARGIN_SECONDS = 10;
/** How long a decision waits for the workflow to take it (no worker polling: 503). */
const UPDATE_DEADLINE_MS = 10_000;

function refused(reason: RedemptionRefusal, message: string): ConflictException {
  return new ConflictException({ message, details: { reason } });
}

function notFound(what: string, id: string, field: string): NotFoundException {
  const message = `${what} ${id} not found`;
  return new NotFoundException({ message, details: [{ field, messages: [message] }] });
}

@Injectable()
export class RedemptionsService {
  private readonly logger = new Logger(RedemptionsService.name);

  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    @Inject(WorkflowHandoffs) private readonly handoffs: WorkflowHandoffs,
    @Inject(Client) private readonly temporal: Client,
    @InjectConfig() private readonly config: ApiConfig,
    private readonly holders: HolderAccounts,
    private readonly catalog: CatalogService,
    private readonly platformAccounts: PlatformAccounts,
  ) {}

  /**
   * An unsigned payment of the item's price from the holder to the redemption account, for the
   * holder's wallet to sign. Refused (409) when the item cannot be redeemed now or the wallet
   * cannot pay; nothing is reserved by a quote (a unit is reserved when the signed payment comes back).
   */
  async quote(merchantId: string, body: CreateQuoteRequest): Promise<QuoteView> {
    const { stellar, redemption } = this.config;
    if (!stellar.redemptionContractId) {
      throw new ServiceUnavailableException({
        message: 'redemptions are not configured on this deployment (REDEMPTION_CONTRACT_ID)',
      });
    }
    await this.platformAccounts.refuseAsRecipient('walletAddress', body.walletAddress);
    const item = await this.catalog.findForMerchant(merchantId, body.itemId, 'itemId');
    if (!item.active) throw refused('ItemInactive', `item ${item.id} is not active`);
    if (item.stock !== null && item.stock - item.reserved < 1) {
      throw refused('OutOfStock', `item ${item.id} is out of stock`);
    }
    const holder = await this.holders.read(body.walletAddress);
    if (holder.status !== 'ok') {
      throw refused(holder.status, `wallet ${body.walletAddress} cannot pay in NOVA: ${holder.status}`);
    }
    if (holder.balanceStroops < item.priceStroops) {
      throw refused(
        'InsufficientBalance',
        `wallet ${body.walletAddress} holds ${fromStroops(holder.balanceStroops)} NOVA; the item costs ${fromStroops(item.priceStroops)}`,
      );
    }
    const id = randomUUID();
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + redemption.quoteTtlSeconds * 1000);
    const memo = redemptionQuoteMemo(id);
    const built = buildQuoteTransaction(
      {
        holder: body.walletAddress,
        sequence: holder.sequence,
        destination: stellar.redemptionAccount,
        asset: { code: stellar.assetCode, issuer: stellar.assetIssuer },
        amountStroops: item.priceStroops,
        memo,
        maxTime: expiresAt.getTime() / 1000,
        feePerOperation: stellar.maxFeePerOperation,
      },
      stellar.networkPassphrase,
    );
    await this.db.redemptionQuote.create({
      data: {
        id,
        merchantId,
        itemId: item.id,
        walletAddress: body.walletAddress,
        priceStroops: item.priceStroops,
        destination: stellar.redemptionAccount,
        sequence: holder.sequence,
        memo,
        txHash: built.hash,
        envelopeXdr: built.envelopeXdr,
        expiresAt,
      },
    });
    return {
      id,
      itemId: item.id,
      walletAddress: body.walletAddress,
      price: fromStroops(item.priceStroops),
      destination: stellar.redemptionAccount,
      expiresAt: expiresAt.toISOString(),
      transactionXdr: built.envelopeXdr,
      networkPassphrase: stellar.networkPassphrase,
      txHash: built.hash,
    };
  }

  /**
   * Accepts the holder's signed payment of a quote: checked against the quote (refused with
   * nothing reserved), then, in one transaction, the quote is used, a unit of the item reserved
   * and the redemption recorded; its workflow is started right after (or by the reconciler).
   */
  async redeem(
    merchantId: string,
    claim: IdempotencyClaim,
    body: CreateRedemptionRequest,
    requestId: string,
  ): Promise<RedemptionView> {
    if (claim.attempt > 1) {
      // A run that took the key over: the one it replaces may have recorded the redemption already.
      const earlier = await this.db.redemption.findFirst({ where: { quoteId: body.quoteId, merchantId } });
      if (earlier) return await this.handOff(earlier);
    }
    const quote = await this.db.redemptionQuote.findFirst({ where: { id: body.quoteId, merchantId } });
    if (!quote) throw notFound('quote', body.quoteId, 'quoteId');
    const checked = envelopeProblem(
      body.signedTransactionXdr,
      { envelopeXdr: quote.envelopeXdr, hash: quote.txHash, holder: quote.walletAddress },
      this.config.stellar.networkPassphrase,
    );
    if (!('envelopeXdr' in checked)) {
      const problem = checked;
      const message = `signedTransactionXdr ${problem.message}`;
      if (problem.kind === 'bad-xdr') {
        throw new BadRequestException({ message, details: [{ field: 'signedTransactionXdr', messages: [message] }] });
      }
      throw refused(problem.kind === 'unsigned' ? 'NotSignedByHolder' : 'EnvelopeMismatch', message);
    }

    const id = randomUUID();
    const outcome = await this.db.$transaction(async (tx) => {
      // A quote about to expire is refused too: its envelope could not land before its bound
      // once the redemption is opened on chain.
      const [locked] = await tx.$queryRaw<{ expired: boolean }[]>`
        SELECT expires_at <= now() + make_interval(secs => ${QUOTE_SUBMIT_MARGIN_SECONDS}) AS expired
          FROM redemption_quotes WHERE id = ${quote.id}::uuid FOR UPDATE`;
      if (await tx.redemption.findUnique({ where: { quoteId: quote.id }, select: { id: true } })) {
        return { refusal: refused('QuoteAlreadyUsed', `quote ${quote.id} has been redeemed already`) };
      }
      if (locked?.expired) {
        return {
          refusal: refused(
            'QuoteExpired',
            `quote ${quote.id} expires at ${quote.expiresAt.toISOString()}: less than ${QUOTE_SUBMIT_MARGIN_SECONDS} s to land it; ask for a new quote`,
          ),
        };
      }
      const [item] = await tx.$queryRaw<{ fulfilment: string }[]>`
        UPDATE catalog_items SET reserved = reserved + 1, updated_at = now()
         WHERE id = ${quote.itemId}::uuid AND active AND (stock IS NULL OR stock - reserved >= 1)
        RETURNING fulfilment`;
      if (!item) {
        const current = await tx.catalogItem.findUniqueOrThrow({ where: { id: quote.itemId } });
        return {
          refusal: current.active
            ? refused('OutOfStock', `item ${quote.itemId} is out of stock`)
            : refused('ItemInactive', `item ${quote.itemId} is not active`),
        };
      }
      const redemption = await tx.redemption.create({
        data: {
          id,
          merchantId,
          quoteId: quote.id,
          itemId: quote.itemId,
          walletAddress: quote.walletAddress,
          priceStroops: quote.priceStroops,
          fulfilment: item.fulfilment,
          signedEnvelopeXdr: checked.envelopeXdr,
          requestId,
          workflowId: redemptionWorkflowId(id),
        },
      });
      return { redemption };
    });
    if ('refusal' in outcome) throw outcome.refusal;
    return await this.handOff(outcome.redemption);
  }

  async get(merchantId: string | undefined, id: string): Promise<RedemptionView> {
    const row = await this.db.redemption.findFirst({ where: { id, ...(merchantId ? { merchantId } : {}) } });
    if (!row) throw notFound('redemption', id, 'id');
    return this.toView(row);
  }

  async list(merchantId: string, query: RedemptionListQuery): Promise<Page<RedemptionView>> {
    const size = pageSize(query);
    const rows = await this.db.redemption.findMany({
      where: {
        merchantId,
        ...(query.status ? { status: query.status } : {}),
        ...(query.itemId ? { itemId: query.itemId } : {}),
        ...(query.walletAddress ? { walletAddress: query.walletAddress } : {}),
        ...afterCursor(query.cursor),
      },
      orderBy: NEWEST_FIRST,
      take: size + 1,
    });
    return toPage(rows, size, (row) => this.toView(row));
  }

  async listForAdmin(query: AdminRedemptionListQuery): Promise<Page<AdminRedemptionView>> {
    const size = pageSize(query);
    const rows = await this.db.redemption.findMany({
      where: {
        ...(query.status ? { status: query.status } : {}),
        ...(query.merchantId ? { merchantId: query.merchantId } : {}),
        ...afterCursor(query.cursor),
      },
      orderBy: NEWEST_FIRST,
      take: size + 1,
    });
    return toPage(rows, size, (row) => ({ ...this.toView(row), merchantId: row.merchantId }));
  }

  /**
   * The merchant's decision on a manual item, as a Temporal update: the workflow takes it only
   * while it waits for fulfilment (409 otherwise). Answers the redemption as it stands.
   */
  async decide(
    merchantId: string,
    id: string,
    decision: { decision: 'fulfil' } | { decision: 'reject'; reason: string },
  ): Promise<RedemptionView> {
    const row = await this.db.redemption.findFirst({ where: { id, merchantId } });
    if (!row) throw notFound('redemption', id, 'id');
    const notWaiting = (why: string) =>
      new ConflictException({
        message: `redemption ${id} is not waiting for fulfilment: ${why}`,
        details: { reason: NOT_AWAITING_FULFILMENT, status: row.status },
      });
    if (row.fulfilment !== 'manual') throw notWaiting('its item is fulfilled automatically');
    const handle = this.temporal.workflow.getHandle(row.workflowId);
    try {
      await this.temporal.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
        // One update id per kind of decision: a retry (after a 503, say, whose update the workflow
        // took later) joins the first one and gets its answer instead of a refusal.
        decision.decision === 'fulfil'
          ? handle.executeUpdate(fulfilRedemptionUpdate, { updateId: `${id}/fulfil` })
          : handle.executeUpdate(rejectRedemptionUpdate, {
              args: [{ reason: decision.reason }],
              updateId: `${id}/reject`,
            }),
      );
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
        throw notWaiting(error.cause.message);
      }
      if (error instanceof WorkflowNotFoundError) throw notWaiting(`its workflow is not running (${row.status})`);
      this.logger.warn(`the decision on redemption ${id} did not reach its workflow: ${(error as Error).message}`);
      throw new ServiceUnavailableException({
        message: `the redemption's workflow did not answer within ${UPDATE_DEADLINE_MS / 1000} s (is a worker running?); it may still take the decision: retry the same request`,
      });
    }
    return await this.get(merchantId, id);
  }

  /** Starts the redemption's run now; one that does not go through is left to the reconciler. */
  private async handOff(redemption: Redemption): Promise<RedemptionView> {
    if (!redemption.handedOffAt) {
      try {
        await this.handoffs.startRedemption(redemption);
        await this.db.redemption.updateMany({
          where: { id: redemption.id, handedOffAt: null },
          data: { handedOffAt: new Date() },
        });
      } catch (error) {
        this.logger.warn(
          `Temporal did not take the workflow of redemption ${redemption.id} (the reconciler starts it): ${(error as Error).message}`,
        );
      }
    }
    return this.toView(redemption);
  }

  private toView(row: Redemption): RedemptionView {
    return redemptionResource(row, this.config.temporal);
  }
}
