import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PaymentActivities, RedemptionContractActivities, RedemptionLedgerActivities } from '@nova/activities';
import {
  HOLDER_PAYMENT_REFUSALS,
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

/** The holder payment's failures the journal reports only once the envelope can never land. */
const HOLDER_PAYMENT_FINAL = new Set<string>([
  ...Object.values(HOLDER_PAYMENT_REFUSALS),
  'QuoteExpired',
  'PaymentRefused',
]);

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
    if (progress.step !== 'awaiting-fulfilment' || decision !== undefined) {
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

  const paymentKey = redemptionKeys.payment(redemptionId);
  // Everything that moves money or must be undone runs to its end, whatever is cancelled.
  const settled = <T>(step: () => Promise<T>) => CancellationScope.nonCancellable(step);
  const fail = async (
    type: RedemptionFailureType,
    message: string,
    extra: { alert?: string; refundTxHash?: string } = {},
  ) => {
    await settled(() => readModel.failRedemption({ redemptionId, failureType: type, message, ...extra }));
    progress.step = 'done';
    progress.failureType = type;
    setStatus('failed');
    return ApplicationFailure.nonRetryable(message, type);
  };
  // An operator's cancellation (Web UI, CLI) is heard as "undo": before the payment landed the
  // steps are compensated; after it, the price is refunded.
  let cancelled = false;

  // Newest first: unshift before or after each step, as its undoing is safe.
  const compensations: Compensation[] = [];
  let paymentTxHash: string | undefined;
  let paymentStarted = false;
  let failure: { type: RedemptionFailureType; message: string } | undefined;
  try {
    const { held } = await readModel.holdRedemptionStock({ redemptionId });
    if (!held) throw ApplicationFailure.nonRetryable(`redemption ${redemptionId} holds no stock`, 'RedemptionFailed');
    compensations.unshift({
      undoes: 'release the reserved unit',
      run: () => readModel.releaseRedemptionStock({ redemptionId }),
    });

    progress.step = 'opening';
    // Pushed before the call: cancelling a record never opened is done, so an open that landed
    // without its answer reaching us is undone too.
    compensations.unshift({
      undoes: 'cancel the on-chain record',
      run: async () => {
        const cancelled = await chain.cancelRedemptionOnChain({
          redemptionId,
          reason: REDEMPTION_CANCEL_REASONS.paymentFailed,
        });
        // A record that was never opened stays `none` in the read model.
        if (cancelled.found !== 'missing')
          await readModel.recordRedemptionChainState({ redemptionId, state: 'cancelled' });
      },
    });
    await chain.openRedemptionOnChain({
      redemptionId,
      merchantId: input.merchantId,
      walletAddress: input.walletAddress,
      priceStroops: input.priceStroops,
    });
    await readModel.recordRedemptionChainState({ redemptionId, state: 'open' });

    progress.step = 'paying';
    paymentStarted = true;
    paymentTxHash = (await stellar.submitHolderPayment({ redemptionId, envelopeXdr: input.signedEnvelopeXdr })).txHash;
  } catch (error) {
    if (isCancellation(error)) {
      cancelled = true;
      failure = { type: 'Cancelled', message: 'the redemption was cancelled before its payment landed' };
    } else failure = failureOf(error);
  }

  if (paymentTxHash === undefined && paymentStarted && !HOLDER_PAYMENT_FINAL.has(failure?.type ?? '')) {
    // Never compensate while the holder's envelope might still land: settle it first (the
    // journal answers once it has landed, or can no longer).
    const resolution = await settled(() => stellar.resolvePayment({ businessKey: paymentKey }));
    if (resolution.paid) paymentTxHash = resolution.txHash;
  }
  if (paymentTxHash === undefined) {
    const { type, message } = failure ?? { type: 'RedemptionFailed' as const, message: 'no payment' };
    progress.step = 'compensating';
    const alert = await compensate(compensations);
    throw await fail(
      alert ? 'CompensationFailed' : type,
      alert ? `${type}: ${message}` : message,
      alert ? { alert } : {},
    );
  }

  progress.paymentTxHash = paymentTxHash;
  const paid = await settled(() =>
    readModel.markRedemptionPaid({
      redemptionId,
      txHash: paymentTxHash,
      ...(input.fulfilment === 'manual' ? { fulfilmentDeadlineSeconds: input.fulfilmentDeadlineSeconds } : {}),
    }),
  );
  if (paid.fulfilmentDeadline) progress.fulfilmentDeadline = paid.fulfilmentDeadline;
  setStatus('paid');

  let refund: { reason: RedemptionRefundReason; message: string } | undefined;
  if (!cancelled && input.fulfilment === 'manual') {
    progress.step = 'awaiting-fulfilment';
    try {
      await condition(() => decision !== undefined, `${input.fulfilmentDeadlineSeconds} seconds`);
    } catch (error) {
      if (!isCancellation(error)) throw error;
      cancelled = decision === undefined;
    }
    if (!cancelled && decision === undefined) {
      refund = {
        reason: 'FulfilmentDeadlinePassed',
        message: `not fulfilled within ${input.fulfilmentDeadlineSeconds} seconds of payment`,
      };
    } else if (decision?.decision === 'reject') {
      refund = { reason: 'RejectedByMerchant', message: decision.reason };
    }
  }
  if (cancelled && decision === undefined) {
    refund = { reason: 'CancelledByOperator', message: 'the redemption was cancelled after its payment landed' };
  }

  if (!refund) {
    progress.step = 'fulfilling';
    // The holder has paid and the item is theirs: a confirmation the contract refuses for good
    // does not undo that; the redemption is fulfilled with an alert for an operator.
    let alert: string | undefined;
    try {
      await settled(() => chain.confirmRedemptionOnChain({ redemptionId }));
    } catch (error) {
      alert = `could not confirm the on-chain record: ${failureOf(error).message}`;
      log.error('redemption confirmation failed: an operator must finish it', { redemptionId, alert });
    }
    await settled(() =>
      readModel.fulfilRedemption({ redemptionId, confirmedOnChain: !alert, ...(alert ? { alert } : {}) }),
    );
    progress.step = 'done';
    setStatus('fulfilled');
    return { status: 'fulfilled', paymentTxHash };
  }

  progress.step = 'refunding';
  let refundTxHash: string;
  try {
    const refunded = await settled(() =>
      stellar.submitPayment({
        businessKey: redemptionKeys.refund(redemptionId),
        walletAddress: input.walletAddress,
        amountStroops: input.priceStroops,
        memo: input.refundMemo,
      }),
    );
    refundTxHash = refunded.txHash;
  } catch (error) {
    // The refund cannot be paid (the holder dropped the trustline, say): the unit goes back,
    // the on-chain record stays open (the holder has paid), and an operator settles it.
    const { message } = failureOf(error);
    progress.step = 'compensating';
    const released = await compensate([
      { undoes: 'release the reserved unit', run: () => readModel.releaseRedemptionStock({ redemptionId }) },
    ]);
    log.error('redemption refund failed: an operator must finish it', { redemptionId, error: message });
    const alert = [`could not refund ${input.price} to ${input.walletAddress}: ${causeTypeOf(error)}`, released]
      .filter(Boolean)
      .join('; ');
    throw await fail('CompensationFailed', `${refund.reason}: the refund failed: ${message}`, { alert });
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
    { undoes: 'release the reserved unit', run: () => readModel.releaseRedemptionStock({ redemptionId }) },
  ]);
  if (alert) {
    throw await fail('CompensationFailed', `${refund.reason}: refunded in ${refundTxHash}, but ${alert}`, {
      alert,
      refundTxHash,
    });
  }
  await settled(() =>
    readModel.refundRedemption({ redemptionId, refundTxHash, reason: refund.reason, message: refund.message }),
  );
  progress.step = 'done';
  setStatus('refunded');
  return { status: 'refunded', paymentTxHash, refundTxHash };
}
