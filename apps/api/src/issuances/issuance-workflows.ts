import { Inject, Injectable } from '@nestjs/common';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Issuance } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { fromStroops, issuanceWorkflowId } from '@nova/domain';
import { issuanceMemo } from '@nova/domain/memos';
import { issuanceWorkflowType, searchAttributes, type IssuanceWorkflowInput } from '@nova/workflows/definitions';
import { InjectConfig } from '../config/config.module';
import { temporalUiLink } from '../temporal/temporal-ui';

/** Starts issuance workflow runs: the first one, and admin replays (new runs of the same id). */
@Injectable()
export class IssuanceWorkflows {
  constructor(
    @Inject(Client) private readonly temporal: Client,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  /** @returns false when a run of this issuance is already open (nothing new was started). */
  async start(issuance: Issuance, run: number): Promise<boolean> {
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
      paymentBudgetSeconds: this.config.issuance.paymentBudgetSeconds,
      ...(issuance.requestId ? { requestId: issuance.requestId } : {}),
    };
    try {
      await this.temporal.workflow.start(issuanceWorkflowType, {
        workflowId: issuanceWorkflowId(issuance.id),
        taskQueue: this.config.temporal.taskQueue,
        args: [input],
        // A business key never gets a second run while one is open or after it succeeded;
        // only a failed issuance may run again (admin replay).
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        staticSummary: `Reward ${amount} ${this.config.stellar.assetCode} to ${issuance.walletAddress}`,
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

  temporalUiLink(workflowId: string): string {
    return temporalUiLink(this.config.temporal, workflowId);
  }
}
