import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { WorkflowIdReusePolicy } from '@temporalio/common';
import type { ReconciliationStartRecord, WebhookDeliveryStartRecord } from '@nova/activities';
import {
  campaignWorkflowId,
  contractIndexerWorkflowId,
  type IndexedContract,
  fromStroops,
  issuanceWorkflowId,
  reconciliationWorkflowId,
  redemptionWorkflowId,
  vestingWorkflowId,
  type IssuanceStartRecord,
  type RedemptionStartRecord,
  type VestingStartRecord,
} from '@nova/domain';
import { issuanceMemo, redemptionRefundMemo, vestingMemoStem } from '@nova/domain/memos';
import {
  campaignChangeSignal,
  campaignSyncQuery,
  campaignWorkflowType,
  type CampaignWorkflowInput,
} from '../definitions/campaign';
import { contractIndexerWorkflowType, type ContractIndexerInput } from '../definitions/contract-indexer';
import { issuanceWorkflowType, type IssuanceWorkflowInput } from '../definitions/issuance';
import { chainReconciliationWorkflowType, type ChainReconciliationInput } from '../definitions/reconciliation';
import { redemptionWorkflowType, type RedemptionWorkflowInput } from '../definitions/redemption';
import { searchAttributes } from '../definitions/search-attributes';
import { vestingWorkflowType, type VestingWorkflowInput } from '../definitions/vesting';
import { webhookDeliveryWorkflowType, type WebhookDeliveryWorkflowInput } from '../definitions/webhook-delivery';

export interface HandoffSettings {
  taskQueue: string;
  /** Webhook deliveries run on their own task queue: a slow endpoint never holds up a payment. */
  webhookTaskQueue: string;
  /** Carried into each issuance run (ISSUANCE_PAYMENT_BUDGET_SECONDS). */
  paymentBudgetSeconds: number;
  /** For the runs' summaries in the Web UI. */
  assetCode: string;
  /** The campaign contract, shown in the campaign workflows' details. */
  campaignContractId?: string;
  /** Carried into each redemption run (REDEMPTION_FULFILMENT_DEADLINE_SECONDS). */
  fulfilmentDeadlineSeconds: number;
  /** Carried into each vesting run (VESTING_RETRY_DELAYS_SECONDS, VESTING_STALLED_RETRY_SECONDS); unset: the workflow's defaults. */
  vestingRetry?: { retryDelaysSeconds: number[]; stalledRetrySeconds: number };
}

/** What a signal needs of a campaign (a row of `campaigns` fits). */
export interface CampaignRecord {
  id: string;
  merchantId: string;
}

/** How long the reconciler waits for a campaign workflow to answer what it knows. */
const QUERY_DEADLINE_MS = 5_000;

/**
 * The one way the platform hands work to Temporal, by business id: the API's fast path and the
 * worker's reconciler both start and signal through this, so a run started by either carries the
 * same input, search attributes, summary and memo.
 */
export class WorkflowHandoffs {
  constructor(
    private readonly client: Client,
    private readonly settings: HandoffSettings,
  ) {}

  /**
   * The first run of an issuance. Temporal refuses a second start of the id whatever became of
   * the first run (REJECT_DUPLICATE), so a repeated hand-off never starts a second run.
   */
  async startFirstIssuanceRun(issuance: IssuanceStartRecord): Promise<'started' | 'already-started'> {
    return (await this.startIssuanceRun(issuance, 1, 'REJECT_DUPLICATE')) ? 'started' : 'already-started';
  }

  /** An admin replay: a new run of the same id, accepted only after a failed run. */
  async replayIssuance(issuance: IssuanceStartRecord, run: number): Promise<'started' | 'already-open'> {
    return (await this.startIssuanceRun(issuance, run, 'ALLOW_DUPLICATE_FAILED_ONLY')) ? 'started' : 'already-open';
  }

  /** "Changes up to `seq` are waiting": signal-with-start, so a running workflow hears it or a new one starts. */
  async signalCampaignChanges(campaign: CampaignRecord, seq: number, requestId?: string): Promise<void> {
    const input: CampaignWorkflowInput = { campaignId: campaign.id, merchantId: campaign.merchantId };
    await this.client.workflow.signalWithStart(campaignWorkflowType, {
      workflowId: campaignWorkflowId(campaign.id),
      taskQueue: this.settings.taskQueue,
      args: [input],
      signal: campaignChangeSignal,
      signalArgs: [{ seq }],
      staticSummary: `Campaign ${campaign.id} on the campaign contract`,
      staticDetails: `merchant ${campaign.merchantId}, contract ${this.settings.campaignContractId ?? ''}`,
      memo: { merchantId: campaign.merchantId, campaignId: campaign.id, ...(requestId ? { requestId } : {}) },
      typedSearchAttributes: [
        { key: searchAttributes.merchantId, value: campaign.merchantId },
        { key: searchAttributes.campaignId, value: campaign.id },
        ...(requestId ? [{ key: searchAttributes.requestId, value: requestId }] : []),
      ],
    });
  }

  /**
   * A webhook delivery run, by its business id (event and endpoint). Run 1 is REJECT_DUPLICATE,
   * so two relays of one event never deliver it twice; a redelivery (run > 1) is accepted only
   * while no run is open. A duplicate start of a run that already ended finds its read model
   * settled and sends nothing.
   */
  async startWebhookDelivery(delivery: WebhookDeliveryStartRecord): Promise<'started' | 'already-started'> {
    const input: WebhookDeliveryWorkflowInput = {
      deliveryId: delivery.id,
      eventId: delivery.eventId,
      endpointId: delivery.endpointId,
      merchantId: delivery.merchantId,
      eventType: delivery.eventType,
      run: delivery.run,
    };
    return await this.startOnce(webhookDeliveryWorkflowType, {
      workflowId: delivery.workflowId,
      taskQueue: this.settings.webhookTaskQueue,
      args: [input],
      workflowIdReusePolicy: delivery.run === 1 ? 'REJECT_DUPLICATE' : 'ALLOW_DUPLICATE',
      staticSummary: `Webhook ${delivery.eventType} to endpoint ${delivery.endpointId}`,
      staticDetails: `merchant ${delivery.merchantId}, delivery ${delivery.id}, run ${delivery.run}`,
      memo: {
        merchantId: delivery.merchantId,
        deliveryId: delivery.id,
        eventId: delivery.eventId,
        run: delivery.run,
      },
      typedSearchAttributes: [
        { key: searchAttributes.merchantId, value: delivery.merchantId },
        { key: searchAttributes.webhookEndpointId, value: delivery.endpointId },
        { key: searchAttributes.webhookEventType, value: delivery.eventType },
        { key: searchAttributes.webhookDeliveryStatus, value: 'pending' },
      ],
    });
  }

  /**
   * A redemption's run, by its business id. REJECT_DUPLICATE: a repeated hand-off (the API's
   * and the reconciler's) never starts a second run, whatever became of the first.
   */
  async startRedemption(redemption: RedemptionStartRecord): Promise<'started' | 'already-started'> {
    const price = fromStroops(redemption.priceStroops);
    const input: RedemptionWorkflowInput = {
      redemptionId: redemption.id,
      merchantId: redemption.merchantId,
      itemId: redemption.itemId,
      walletAddress: redemption.walletAddress,
      price,
      priceStroops: redemption.priceStroops.toString(),
      fulfilment: redemption.fulfilment === 'manual' ? 'manual' : 'automatic',
      signedEnvelopeXdr: redemption.signedEnvelopeXdr,
      fulfilmentDeadlineSeconds: this.settings.fulfilmentDeadlineSeconds,
      refundMemo: redemptionRefundMemo(redemption.id),
      ...(redemption.requestId ? { requestId: redemption.requestId } : {}),
    };
    return await this.startOnce(redemptionWorkflowType, {
      workflowId: redemptionWorkflowId(redemption.id),
      taskQueue: this.settings.taskQueue,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `Redemption of item ${redemption.itemId} for ${price} ${this.settings.assetCode} by ${redemption.walletAddress}`,
      staticDetails: `merchant ${redemption.merchantId}, ${input.fulfilment} fulfilment`,
      memo: {
        merchantId: redemption.merchantId,
        itemId: redemption.itemId,
        walletAddress: redemption.walletAddress,
        price,
        requestId: redemption.requestId,
      },
      typedSearchAttributes: [
        { key: searchAttributes.merchantId, value: redemption.merchantId },
        { key: searchAttributes.walletAddress, value: redemption.walletAddress },
        { key: searchAttributes.redemptionStatus, value: 'pending' },
        ...(redemption.requestId ? [{ key: searchAttributes.requestId, value: redemption.requestId }] : []),
      ],
    });
  }

  /**
   * A vesting schedule's workflow, by its business id, for its whole life (continue-as-new keeps
   * the id). REJECT_DUPLICATE: a repeated hand-off never starts a second keeper of the schedule.
   */
  async startVesting(schedule: VestingStartRecord): Promise<'started' | 'already-started'> {
    const total = fromStroops(schedule.totalStroops);
    const input: VestingWorkflowInput = {
      scheduleId: schedule.id,
      merchantId: schedule.merchantId,
      campaignId: schedule.campaignId,
      beneficiary: schedule.beneficiary,
      totalStroops: schedule.totalStroops.toString(),
      startAt: schedule.startAt.toISOString(),
      cliffAt: schedule.cliffAt.toISOString(),
      endAt: schedule.endAt.toISOString(),
      interval: schedule.interval,
      revocable: schedule.revocable,
      memoStem: vestingMemoStem(schedule.id),
      ...(this.settings.vestingRetry ?? {}),
      ...(schedule.requestId ? { requestId: schedule.requestId } : {}),
    };
    return await this.startOnce(vestingWorkflowType, {
      workflowId: vestingWorkflowId(schedule.id),
      taskQueue: this.settings.taskQueue,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `Vesting of ${total} ${this.settings.assetCode} to ${schedule.beneficiary}, ${input.cliffAt} to ${input.endAt}`,
      staticDetails: `merchant ${schedule.merchantId}, campaign ${schedule.campaignId}, every ${schedule.interval}${schedule.revocable ? ', revocable' : ''}`,
      memo: {
        merchantId: schedule.merchantId,
        campaignId: schedule.campaignId,
        beneficiary: schedule.beneficiary,
        total,
        requestId: schedule.requestId,
      },
      typedSearchAttributes: [
        { key: searchAttributes.merchantId, value: schedule.merchantId },
        { key: searchAttributes.campaignId, value: schedule.campaignId },
        { key: searchAttributes.walletAddress, value: schedule.beneficiary },
        { key: searchAttributes.vestingStatus, value: 'active' },
        ...(schedule.requestId ? [{ key: searchAttributes.requestId, value: schedule.requestId }] : []),
      ],
    });
  }

  /**
   * A contract's indexer, by its business id (`contract-indexer/<task queue>/<contract>`): started when no
   * run is open, left as it is when one is (USE_EXISTING: every worker asks at boot, and the
   * running indexer keeps its position in the database anyway). A run that ended (terminated
   * by an operator, failed) is started again.
   */
  async ensureContractIndexer(indexer: {
    contract: IndexedContract;
    contractId: string;
    pageSize: number;
    pollSeconds: number;
  }): Promise<{ workflowId: string; runId: string }> {
    const input: ContractIndexerInput = { ...indexer };
    const handle = await this.client.workflow.start(contractIndexerWorkflowType, {
      workflowId: contractIndexerWorkflowId(indexer.contract, this.settings.taskQueue),
      taskQueue: this.settings.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `Indexes the ${indexer.contract} contract's events`,
      staticDetails: `contract ${indexer.contractId}, ${indexer.pageSize} events a page`,
      memo: { contract: indexer.contract, contractId: indexer.contractId },
    });
    // The open run's id: the one started now, or the one already running.
    return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
  }

  /**
   * An admin's reconciliation of a window, by its report's id. REJECT_DUPLICATE: the API's start
   * and the reconciler's never make two runs of one report.
   */
  async startReconciliation(reconciliation: ReconciliationStartRecord): Promise<'started' | 'already-started'> {
    const input: ChainReconciliationInput = {
      trigger: 'admin',
      reconciliationId: reconciliation.id,
      from: reconciliation.windowFrom.toISOString(),
      to: reconciliation.windowTo.toISOString(),
    };
    return await this.startOnce(chainReconciliationWorkflowType, {
      workflowId: reconciliationWorkflowId(reconciliation.id),
      taskQueue: this.settings.taskQueue,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `Reconciliation of the chain from ${input.from} to ${input.to}`,
      memo: { reconciliationId: reconciliation.id, requestId: reconciliation.requestId },
      typedSearchAttributes: reconciliation.requestId
        ? [{ key: searchAttributes.requestId, value: reconciliation.requestId }]
        : [],
    });
  }

  /**
   * The highest change the campaign's open workflow run has been told about; undefined when no
   * run is open (a closed run, even a terminated one, hears nothing more).
   */
  async campaignKnownSeq(campaignId: string): Promise<number | undefined> {
    const handle = this.client.workflow.getHandle(campaignWorkflowId(campaignId));
    try {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') return undefined;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
    const progress = await this.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
      handle.query(campaignSyncQuery),
    );
    return progress.requestedSeq;
  }

  /** A start Temporal refuses as a duplicate (under the id reuse policy given) was taken before: already-started. */
  private async startOnce(
    workflowType: string,
    options: Parameters<Client['workflow']['start']>[1],
  ): Promise<'started' | 'already-started'> {
    try {
      await this.client.workflow.start(workflowType, options);
      return 'started';
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already-started';
      throw error;
    }
  }

  /** @returns false when Temporal refused the start under `policy` (nothing new was started). */
  private async startIssuanceRun(
    issuance: IssuanceStartRecord,
    run: number,
    policy: WorkflowIdReusePolicy,
  ): Promise<boolean> {
    const amount = fromStroops(issuance.amountStroops);
    const input: IssuanceWorkflowInput = {
      issuanceId: issuance.id,
      merchantId: issuance.merchantId,
      campaignId: issuance.campaignId,
      walletAddress: issuance.walletAddress,
      amount,
      amountStroops: issuance.amountStroops.toString(),
      memo: issuanceMemo(issuance.id),
      run,
      paymentBudgetSeconds: this.settings.paymentBudgetSeconds,
      ...(issuance.requestId ? { requestId: issuance.requestId } : {}),
    };
    try {
      await this.client.workflow.start(issuanceWorkflowType, {
        workflowId: issuanceWorkflowId(issuance.id),
        taskQueue: this.settings.taskQueue,
        args: [input],
        workflowIdReusePolicy: policy,
        staticSummary: `Reward ${amount} ${this.settings.assetCode} to ${issuance.walletAddress}`,
        staticDetails: `merchant ${issuance.merchantId}, campaign ${issuance.campaignId}, run ${run}`,
        memo: {
          merchantId: issuance.merchantId,
          campaignId: issuance.campaignId,
          walletAddress: issuance.walletAddress,
          amount,
          run,
          requestId: issuance.requestId,
        },
        typedSearchAttributes: [
          { key: searchAttributes.merchantId, value: issuance.merchantId },
          { key: searchAttributes.campaignId, value: issuance.campaignId },
          { key: searchAttributes.walletAddress, value: issuance.walletAddress },
          { key: searchAttributes.issuanceStatus, value: 'pending' },
          ...(issuance.requestId ? [{ key: searchAttributes.requestId, value: issuance.requestId }] : []),
        ],
      });
      return true;
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw error;
    }
  }
}
