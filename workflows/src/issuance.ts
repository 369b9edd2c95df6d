import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  TimeoutFailure,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { IssuanceLedgerActivities, PaymentActivities } from '@nova/activities';
import { activityProfiles, localActivityProfiles } from './definitions/activity-profiles';
import { searchAttributes } from './definitions/search-attributes';
import { issuancePaymentKey, TRUSTLINE_FAILURES } from '@nova/domain';
import {
  issuanceProgressQuery,
  type IssuanceOutcome,
  type IssuanceProgress,
  type IssuanceWorkflowInput,
} from './definitions/issuance';

const ledger = (activityId: string) =>
  proxyActivities<IssuanceLedgerActivities>({ ...activityProfiles.dbWrite, activityId });
const stellar = (activityId: string, scheduleToCloseSeconds?: number) =>
  proxyActivities<PaymentActivities>({
    ...activityProfiles.stellarSubmit,
    activityId,
    ...(scheduleToCloseSeconds ? { scheduleToCloseTimeout: `${scheduleToCloseSeconds} seconds` } : {}),
  });
const localLedger = proxyLocalActivities<IssuanceLedgerActivities>(localActivityProfiles.dbWrite);
const localStellar = proxyLocalActivities<PaymentActivities>(localActivityProfiles.stellarRead);

/**
 * Histories recorded before this patch ran every step as a normal activity (with step ids such
 * as "reserve-budget"); newer runs run the short steps as local activities. Both replay.
 */
export const LOCAL_STEPS_PATCH = 'issuance-local-steps';

/** The short steps of a run: local activities (markers named after the activity) or, for old histories, activities. */
function shortSteps(local: boolean) {
  if (local) {
    return {
      reserveBudget: localLedger.reserveBudget,
      checkTrustline: localStellar.checkTrustline,
      markIssuanceSubmitted: localLedger.markIssuanceSubmitted,
      confirmIssuance: localLedger.confirmIssuance,
      failIssuance: localLedger.failIssuance,
    };
  }
  return {
    reserveBudget: ledger('reserve-budget').reserveBudget,
    checkTrustline: stellar('check-trustline').checkTrustline,
    markIssuanceSubmitted: ledger('mark-submitted').markIssuanceSubmitted,
    confirmIssuance: ledger('confirm').confirmIssuance,
    failIssuance: ledger('compensate').failIssuance,
  };
}

/** The failure type an issuance ends with: the activity's business type, or RetriesExhausted. */
function failureOf(error: unknown): { type: string; message: string } {
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
    return { type: cause.type ?? 'IssuanceFailed', message: cause.message };
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
  const local = patched(LOCAL_STEPS_PATCH);
  const steps = shortSteps(local);
  if (!local) {
    // The API starts runs with IssuanceStatus "pending" and the run in the memo; old runs set them here.
    upsertMemo({ run: input.run });
    setStatus('pending');
  }

  let paymentStarted = false;
  try {
    if (local) {
      await steps.reserveBudget({ issuanceId: input.issuanceId, run: input.run });
    } else {
      await ledger('begin-run').beginIssuanceRun({ issuanceId: input.issuanceId, run: input.run });
      await steps.reserveBudget({ issuanceId: input.issuanceId });
    }

    progress.step = 'checking-trustline';
    const trustline = await steps.checkTrustline({
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
    await steps.markIssuanceSubmitted({ issuanceId: input.issuanceId });
    setStatus('submitted');
    paymentStarted = true;
    const payment = await stellar('submit-payment', input.paymentBudgetSeconds).submitPayment({
      businessKey: issuancePaymentKey(input.issuanceId),
      walletAddress: input.walletAddress,
      amountStroops: input.amountStroops,
      memo: input.memo,
    });

    progress.step = 'confirming';
    await steps.confirmIssuance({
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
          await steps.confirmIssuance({
            issuanceId: input.issuanceId,
            txHash: settled.txHash,
            ledger: settled.ledger,
          });
          return settled;
        }
      }
      await steps.failIssuance({
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
