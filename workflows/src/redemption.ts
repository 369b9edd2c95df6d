import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PaymentActivities, RedemptionContractActivities, RedemptionLedgerActivities } from '@nova/activities';
import {
  isRedemptionFailureType,
  redemptionKeys,
  REDEMPTION_CANCEL_REASONS,
  type FulfilmentDecision,
  type RedemptionFailureType,
  type RedemptionRefundReason,
} from '@nova/domain';
import { activityProfiles, localActivityProfiles } from './definitions/activity-profiles';
import { searchAttributes } from './definitions/search-attributes';
import {
  fulfilRedemptionUpdate,
  NOT_AWAITING_FULFILMENT,
  redemptionProgressQuery,
  rejectRedemptionUpdate,
  type RedemptionOutcome,
  type RedemptionProgress,
  type RedemptionWorkflowInput,
} from './definitions/redemption';

// Every Stellar step retries its retryable errors without limit: the journal keeps each exactly
// once, the holder's envelope has its own time bound, and a compensation must not give up.
const chain = proxyActivities<RedemptionContractActivities>(activityProfiles.stellarSubmit);
const stellar = proxyActivities<PaymentActivities>(activityProfiles.stellarSubmit);
const readModel = proxyLocalActivities<RedemptionLedgerActivities>(localActivityProfiles.dbWrite);

/** The failure type a redemption ends with: the activity's business type, or RedemptionFailed naming the cause. */
function failureOf(error: unknown): { type: RedemptionFailureType; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const type = cause.type ?? undefined;
    if (isRedemptionFailureType(type)) return { type, message: cause.message };
    return { type: 'RedemptionFailed', message: `${cause.type ?? 'Error'}: ${cause.message}` };
  }
  return { type: 'RedemptionFailed', message: error instanceof Error ? error.message : String(error) };
}

/** The failure's own type (e.g. a refund's TrustlineMissing), whatever the redemption's vocabulary. */
function causeTypeOf(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return (cause instanceof ApplicationFailure && cause.type) || 'Error';
}

interface Compensation {
  /** What it undoes, for the alert when it cannot. */
  undoes: string;
  run(): Promise<void>;
}

/**
 * Runs the compensations in reverse order of the steps they undo (the stack is kept newest
 * first), even while the workflow is being cancelled. Each retries until it succeeds; one that
 * fails for good does not stop the others, and is reported: the redemption must not look
 * cleanly undone when it is not.
 */
async function compensate(stack: Compensation[]): Promise<string | undefined> {
  const left: string[] = [];
  await CancellationScope.nonCancellable(async () => {
    for (const compensation of stack) {
      try {
        await compensation.run();
      } catch (error) {
        const { message } = failureOf(error);
        log.error('redemption compensation failed: an operator must finish it', {
          undoes: compensation.undoes,
          error: message,
        });
        left.push(`${compensation.undoes}: ${message}`);
      }
    }
  });
  return left.length > 0 ? `could not ${left.join('; could not ')}` : undefined;
}

/**
 * One redemption, as a saga: reserve the item's unit, open the record on the redemption
 * contract, submit the holder's signed payment exactly once; then fulfil (at once, or when the
 * merchant says so for a manual item) or refund. Each step that must be undone when a later one
 * fails pushes its compensation; on failure they run in reverse. A refund is a payment back to
 * the holder through the journal (exactly once), then the on-chain record is cancelled and the
 * unit released.
 */
export async function redemptionWorkflow(input: RedemptionWorkflowInput): Promise<RedemptionOutcome> {
  const { redemptionId } = input;
  const progress: RedemptionProgress = { status: 'pending', step: 'reserving' };
  setHandler(redemptionProgressQuery, () => progress);
  const setStatus = (status: RedemptionProgress['status']) => {
    progress.status = status;
    upsertSearchAttributes([{ key: searchAttributes.redemptionStatus, value: status }]);
  };

  let decision: FulfilmentDecision | undefined;
  const mustBeAwaiting = () => {
    if (progress.step !== 'awaiting-fulfilment' || decision) {
      throw ApplicationFailure.nonRetryable(
        `redemption ${redemptionId} is not waiting for fulfilment (it is ${progress.status}, ${progress.step})`,
        NOT_AWAITING_FULFILMENT,
      );
    }
  };
  setHandler(
    fulfilRedemptionUpdate,
    () => {
      decision = { decision: 'fulfil' };
      return progress;
    },
    { validator: mustBeAwaiting },
  );
  setHandler(
    rejectRedemptionUpdate,
    ({ reason }) => {
      decision = { decision: 'reject', reason };
      return progress;
    },
    {
      validator: ({ reason }: { reason: string }) => {
        mustBeAwaiting();
        if (typeof reason !== 'string' || reason.trim() === '') {
          throw ApplicationFailure.nonRetryable('a rejection needs a reason', 'InvalidRejection');
        }
      },
    },
  );

  // Newest first: unshift after each step that succeeded.
  const compensations: Compensation[] = [];
  let paymentTxHash: string;
  try {
    const { held } = await readModel.holdRedemptionStock({ redemptionId });
    if (!held) throw ApplicationFailure.nonRetryable(`redemption ${redemptionId} holds no stock`, 'RedemptionFailed');
    compensations.unshift({
      undoes: 'release the reserved unit',
      run: () => readModel.releaseRedemptionStock({ redemptionId }),
    });

    progress.step = 'opening';
    await chain.openRedemptionOnChain({
      redemptionId,
      merchantId: input.merchantId,
      walletAddress: input.walletAddress,
      priceStroops: input.priceStroops,
    });
    await readModel.recordRedemptionChainState({ redemptionId, state: 'open' });
    compensations.unshift({
      undoes: 'cancel the on-chain record',
      run: async () => {
        await chain.cancelRedemptionOnChain({ redemptionId, reason: REDEMPTION_CANCEL_REASONS.paymentFailed });
        await readModel.recordRedemptionChainState({ redemptionId, state: 'cancelled' });
      },
    });

    progress.step = 'paying';
    const payment = await stellar.submitHolderPayment({ redemptionId, envelopeXdr: input.signedEnvelopeXdr });
    paymentTxHash = payment.txHash;
  } catch (error) {
    const failure = failureOf(error);
    progress.step = 'compensating';
    const alert = await compensate(compensations);
    await CancellationScope.nonCancellable(() =>
      readModel.failRedemption({
        redemptionId,
        failureType: alert ? 'CompensationFailed' : failure.type,
        message: failure.message,
        ...(alert ? { alert } : {}),
      }),
    );
    progress.step = 'done';
    progress.failureType = alert ? 'CompensationFailed' : failure.type;
    setStatus('failed');
    throw ApplicationFailure.nonRetryable(failure.message, progress.failureType);
  }

  progress.paymentTxHash = paymentTxHash;
  await readModel.markRedemptionPaid({
    redemptionId,
    txHash: paymentTxHash,
    ...(input.fulfilment === 'manual' ? { fulfilmentDeadlineSeconds: input.fulfilmentDeadlineSeconds } : {}),
  });
  setStatus('paid');

  let refund: { reason: RedemptionRefundReason; message: string } | undefined;
  if (input.fulfilment === 'manual') {
    progress.step = 'awaiting-fulfilment';
    const decided = await condition(() => decision !== undefined, `${input.fulfilmentDeadlineSeconds} seconds`);
    if (!decided || !decision) {
      decision = { decision: 'reject', reason: 'deadline' };
      refund = {
        reason: 'FulfilmentDeadlinePassed',
        message: `not fulfilled within ${input.fulfilmentDeadlineSeconds} seconds of payment`,
      };
    } else if (decision.decision === 'reject') {
      refund = { reason: 'RejectedByMerchant', message: decision.reason };
    }
  }

  if (!refund) {
    progress.step = 'fulfilling';
    await chain.confirmRedemptionOnChain({ redemptionId });
    await readModel.fulfilRedemption({ redemptionId });
    progress.step = 'done';
    setStatus('fulfilled');
    return { status: 'fulfilled', paymentTxHash };
  }

  progress.step = 'refunding';
  let refundTxHash: string;
  try {
    const paid = await stellar.submitPayment({
      businessKey: redemptionKeys.refund(redemptionId),
      walletAddress: input.walletAddress,
      amountStroops: input.priceStroops,
      memo: input.refundMemo,
    });
    refundTxHash = paid.txHash;
  } catch (error) {
    // The refund cannot be paid (the holder dropped the trustline, say): the unit goes back,
    // the on-chain record stays open (the holder has paid), and an operator settles it.
    const failure = failureOf(error);
    progress.step = 'compensating';
    const alert = await compensate([
      { undoes: 'release the reserved unit', run: () => readModel.releaseRedemptionStock({ redemptionId }) },
    ]);
    await readModel.failRedemption({
      redemptionId,
      failureType: 'CompensationFailed',
      message: `${refund.reason}: the refund failed: ${failure.message}`,
      alert: [`could not refund ${input.price} to ${input.walletAddress}: ${causeTypeOf(error)}`, alert]
        .filter(Boolean)
        .join('; '),
    });
    log.error('redemption refund failed: an operator must finish it', { redemptionId, error: failure.message });
    progress.step = 'done';
    progress.failureType = 'CompensationFailed';
    setStatus('failed');
    throw ApplicationFailure.nonRetryable(failure.message, 'CompensationFailed');
  }
  progress.refundTxHash = refundTxHash;
  const alert = await compensate([
    {
      undoes: 'cancel the on-chain record',
      run: async () => {
        await chain.cancelRedemptionOnChain({ redemptionId, reason: REDEMPTION_CANCEL_REASONS[refund.reason] });
        await readModel.recordRedemptionChainState({ redemptionId, state: 'cancelled' });
      },
    },
  ]);
  if (alert) {
    await readModel.failRedemption({
      redemptionId,
      failureType: 'CompensationFailed',
      message: `${refund.reason}: refunded in ${refundTxHash}, but the on-chain record was not cancelled`,
      alert,
      refundTxHash,
    });
    progress.step = 'done';
    progress.failureType = 'CompensationFailed';
    setStatus('failed');
    throw ApplicationFailure.nonRetryable(alert, 'CompensationFailed');
  }
  await readModel.refundRedemption({ redemptionId, refundTxHash, reason: refund.reason, message: refund.message });
  progress.step = 'done';
  setStatus('refunded');
  return { status: 'refunded', paymentTxHash, refundTxHash };
}
