import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { IssuanceLedgerActivities, PaymentActivities } from '@nova/activities';
import { activityProfiles, localActivityProfiles } from './definitions/activity-profiles';
import { searchAttributes } from './definitions/search-attributes';
import { isIssuanceFailureType, issuancePaymentKey, TRUSTLINE_FAILURES, type IssuanceFailureType } from '@nova/domain';
import {
  issuanceProgressQuery,
  type IssuanceOutcome,
  type IssuanceProgress,
  type IssuanceWorkflowInput,
} from './definitions/issuance';

const stellar = (activityId: string, scheduleToCloseSeconds?: number) =>
  proxyActivities<PaymentActivities>({
    ...activityProfiles.stellarSubmit,
    activityId,
    ...(scheduleToCloseSeconds ? { scheduleToCloseTimeout: `${scheduleToCloseSeconds} seconds` } : {}),
  });
// The short steps run as local activities: markers in the history, named after the activity
// (the read model's writes in PostgreSQL, the trustline check on Horizon).
const readModel = proxyLocalActivities<IssuanceLedgerActivities>(localActivityProfiles.dbWrite);
const horizon = proxyLocalActivities<PaymentActivities>(localActivityProfiles.stellarRead);

/** The failure type an issuance ends with: the activity's business type, or RetriesExhausted. */
function failureOf(error: unknown): { type: IssuanceFailureType; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  const gaveUp =
    error instanceof ActivityFailure &&
    (error.retryState === 'TIMEOUT' || error.retryState === 'MAXIMUM_ATTEMPTS_REACHED');
  if (gaveUp && !(cause instanceof ApplicationFailure && cause.nonRetryable)) {
    const last = cause instanceof Error ? cause.message : 'timed out';
    return {
      type: 'RetriesExhausted',
      message: `retryable errors did not clear within the payment budget (last: ${last})`,
    };
  }
  if (cause instanceof TimeoutFailure) {
    return {
      type: 'RetriesExhausted',
      message: `retryable errors did not clear within the payment budget (${cause.message})`,
    };
  }
  if (cause instanceof ApplicationFailure) {
    // A type outside the issuance's vocabulary (e.g. IssuanceMissing, StellarRequestRefused) is named in the message.
    const type = cause.type ?? undefined;
    if (isIssuanceFailureType(type)) return { type, message: cause.message };
    return { type: 'IssuanceFailed', message: `${cause.type ?? 'Error'}: ${cause.message}` };
  }
  return { type: 'IssuanceFailed', message: error instanceof Error ? error.message : String(error) };
}

/**
 * One reward issuance: reserve budget, check the trustline, pay exactly once, confirm; or
 * compensate (release the reservation) and fail with a typed reason. Replays are new runs of
 * the same workflow id; the payment step finds any earlier payment before building a new one.
 */
export async function issuanceWorkflow(input: IssuanceWorkflowInput): Promise<IssuanceOutcome> {
  const progress: IssuanceProgress = { status: 'pending', step: 'reserving' };
  setHandler(issuanceProgressQuery, () => progress);
  const setStatus = (status: IssuanceProgress['status']) => {
    progress.status = status;
    upsertSearchAttributes([{ key: searchAttributes.issuanceStatus, value: status }]);
  };

  let paymentStarted = false;
  try {
    // The run begins with its reservation: status pending and the run number, in one transaction.
    await readModel.reserveBudget({ issuanceId: input.issuanceId, run: input.run });

    progress.step = 'checking-trustline';
    const trustline = await horizon.checkTrustline({
      walletAddress: input.walletAddress,
      amountStroops: input.amountStroops,
    });
    if (trustline.status !== 'ok') {
      throw ApplicationFailure.nonRetryable(
        `wallet ${input.walletAddress}: ${trustline.status}`,
        TRUSTLINE_FAILURES[trustline.status],
      );
    }

    progress.step = 'paying';
    await readModel.markIssuanceSubmitted({ issuanceId: input.issuanceId });
    setStatus('submitted');
    paymentStarted = true;
    const payment = await stellar('submit-payment', input.paymentBudgetSeconds).submitPayment({
      businessKey: issuancePaymentKey(input.issuanceId),
      walletAddress: input.walletAddress,
      amountStroops: input.amountStroops,
      memo: input.memo,
    });

    progress.step = 'confirming';
    await readModel.confirmIssuance({
      issuanceId: input.issuanceId,
      txHash: payment.txHash,
      ledger: payment.ledger,
    });
    progress.txHash = payment.txHash;
    progress.step = 'done';
    setStatus('confirmed');
    return { status: 'confirmed', txHash: payment.txHash, ledger: payment.ledger, alreadyPaid: payment.alreadyPaid };
  } catch (error) {
    const failure = failureOf(error);
    progress.step = 'compensating';
    // Compensation must run even if the workflow is being cancelled.
    const resolved = await CancellationScope.nonCancellable(async () => {
      if (paymentStarted) {
        // Never report failure while an envelope might still land: settle it first.
        const settled = await stellar('resolve-payment').resolvePayment({
          businessKey: issuancePaymentKey(input.issuanceId),
        });
        if (settled.paid) {
          await readModel.confirmIssuance({
            issuanceId: input.issuanceId,
            txHash: settled.txHash,
            ledger: settled.ledger,
          });
          return settled;
        }
      }
      await readModel.failIssuance({
        issuanceId: input.issuanceId,
        run: input.run,
        failureType: failure.type,
        message: failure.message,
      });
      return undefined;
    });
    progress.step = 'done';
    if (resolved?.paid) {
      progress.txHash = resolved.txHash;
      setStatus('confirmed');
      return { status: 'confirmed', txHash: resolved.txHash, ledger: resolved.ledger, alreadyPaid: true };
    }
    progress.failureType = failure.type;
    setStatus('failed');
    // The run fails, so operators see it as failed in the Web UI and admins may replay it.
    throw ApplicationFailure.nonRetryable(failure.message, failure.type);
  }
}
