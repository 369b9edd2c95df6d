/**
 * Where the issuance benchmark's time went, read after the measured window: the workflow
 * histories (task and activity waits and runs), the payment envelopes (how long a channel is
 * held per payment) and the ledger itself (one successful payment to each issuance's wallet).
 */
import { Client, type Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { issuanceWorkflowId } from '@nova/domain';
import { createPrismaClient } from '@nova/db';
import { expectStatus, http } from './issuance-common';
import type { IssuanceRecord } from './issuance-tracker';

const MAX_HISTORIES = 300;
const { EventType } = temporal.api.enums.v1;

export interface StepTimes {
  /** Scheduled -> started of the last attempt: queueing, plus earlier attempts and their backoff. */
  waitMs: number[];
  /** Started -> closed of the last attempt. */
  runMs: number[];
  attempts: number[];
  lastFailures: Map<string, number>;
}

export interface HistoryFigures {
  workflows: number;
  /** Issuance id -> when Temporal recorded its workflow's start (server clock, same machine). */
  startedAt: Map<string, number>;
  workflowMs: number[];
  /** The first workflow task goes to the task queue itself; later ones to the worker's sticky queue. */
  firstWorkflowTaskWaitMs: number[];
  workflowTaskWaitMs: number[];
  workflowTaskRunMs: number[];
  workflowTasksPerWorkflow: number[];
  steps: Map<string, StepTimes>;
}

export async function analyseHistories(connection: Connection, ids: readonly string[]): Promise<HistoryFigures> {
  const client = new Client({ connection });
  const stride = Math.max(1, ids.length / MAX_HISTORIES);
  const sample: string[] = [];
  for (let at = 0; Math.floor(at) < ids.length && sample.length < MAX_HISTORIES; at += stride) {
    sample.push(ids[Math.floor(at)]!);
  }
  const figures: HistoryFigures = {
    workflows: sample.length,
    startedAt: new Map(),
    workflowMs: [],
    firstWorkflowTaskWaitMs: [],
    workflowTaskWaitMs: [],
    workflowTaskRunMs: [],
    workflowTasksPerWorkflow: [],
    steps: new Map(),
  };
  const stepOf = (name: string): StepTimes => {
    let times = figures.steps.get(name);
    if (!times) {
      times = { waitMs: [], runMs: [], attempts: [], lastFailures: new Map() };
      figures.steps.set(name, times);
    }
    return times;
  };
  for (let at = 0; at < sample.length; at += 10) {
    const batch = sample.slice(at, at + 10);
    const histories = await Promise.all(
      batch.map((id) => client.workflow.getHandle(issuanceWorkflowId(id)).fetchHistory()),
    );
    for (const [index, history] of histories.entries()) {
      const issuanceId = batch[index]!;
      const events = history.events ?? [];
      const times = new Map<string, number>();
      const activities = new Map<string, { name: string; scheduled: number; started?: number }>();
      let workflowTasks = 0;
      let workflowStarted = NaN;
      for (const event of events) {
        const time = tsToMs(event.eventTime);
        const id = String(event.eventId);
        times.set(id, time);
        switch (event.eventType) {
          case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            workflowStarted = time;
            figures.startedAt.set(issuanceId, time);
            break;
          case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
          case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            figures.workflowMs.push(time - workflowStarted);
            break;
          case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
            workflowTasks += 1;
            const scheduled = times.get(String(event.workflowTaskStartedEventAttributes?.scheduledEventId));
            if (scheduled !== undefined) {
              (workflowTasks === 1 ? figures.firstWorkflowTaskWaitMs : figures.workflowTaskWaitMs).push(
                time - scheduled,
              );
            }
            break;
          }
          case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
            const started = times.get(String(event.workflowTaskCompletedEventAttributes?.startedEventId));
            if (started !== undefined) figures.workflowTaskRunMs.push(time - started);
            break;
          }
          case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
            const attributes = event.activityTaskScheduledEventAttributes;
            activities.set(id, {
              name: attributes?.activityId ?? attributes?.activityType?.name ?? '?',
              scheduled: time,
            });
            break;
          }
          case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
            const attributes = event.activityTaskStartedEventAttributes;
            const activity = activities.get(String(attributes?.scheduledEventId));
            if (!activity) break;
            activity.started = time;
            const times = stepOf(activity.name);
            times.waitMs.push(time - activity.scheduled);
            times.attempts.push(attributes?.attempt ?? 1);
            const message = attributes?.lastFailure?.message;
            if (message) {
              const key = message.slice(0, 80);
              times.lastFailures.set(key, (times.lastFailures.get(key) ?? 0) + 1);
            }
            break;
          }
          case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
          case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
          case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
            const attributes =
              event.activityTaskCompletedEventAttributes ??
              event.activityTaskFailedEventAttributes ??
              event.activityTaskTimedOutEventAttributes;
            const activity = activities.get(String(attributes?.scheduledEventId));
            if (activity?.started !== undefined) stepOf(activity.name).runMs.push(time - activity.started);
            break;
          }
          default:
            break;
        }
      }
      figures.workflowTasksPerWorkflow.push(workflowTasks);
    }
  }
  return figures;
}

export interface EnvelopeFigures {
  envelopes: number;
  confirmedEnvelopes: number;
  /** Payments (operations) per confirmed envelope. */
  paymentsPerEnvelope: number[];
  channelsUsed: number;
  /** Envelope built -> confirmed: how long a channel is held per envelope (the lease starts a little earlier). */
  holdMs: number[];
  attemptOutcomes: Map<string, number>;
  leaseCounts: number[];
}

export async function analyseEnvelopes(
  databaseUrl: string,
  ids: readonly string[],
  /** Rows of the lease table that are not payment channels (the contract-call source lock). */
  notChannels: readonly string[],
): Promise<EnvelopeFigures> {
  const db = createPrismaClient({ databaseUrl, poolSize: 2 });
  try {
    const keys = ids.map((id) => `issuance/${id}`);
    const envelopes = await db.journalTransaction.findMany({
      where: { items: { some: { businessKey: { in: keys } } } },
      select: {
        id: true,
        sourceAccount: true,
        status: true,
        createdAt: true,
        updatedAt: true,
        _count: { select: { items: true } },
      },
    });
    const attempts = await db.journalAttempt.groupBy({
      by: ['action', 'outcome'],
      where: { transactionId: { in: envelopes.map((envelope) => envelope.id) } },
      _count: { _all: true },
    });
    const channels = await db.channelAccount.findMany({
      where: { publicKey: { notIn: [...notChannels] } },
      select: { leasedCount: true },
    });
    const confirmed = envelopes.filter((envelope) => envelope.status === 'landed');
    return {
      envelopes: envelopes.length,
      confirmedEnvelopes: confirmed.length,
      paymentsPerEnvelope: confirmed.map((envelope) => envelope._count.items),
      channelsUsed: new Set(envelopes.map((envelope) => envelope.sourceAccount)).size,
      holdMs: confirmed.map((envelope) => envelope.updatedAt.getTime() - envelope.createdAt.getTime()),
      attemptOutcomes: new Map(attempts.map((row) => [`${row.action}:${row.outcome}`, row._count._all])),
      leaseCounts: channels.map((channel) => Number(channel.leasedCount)),
    };
  } finally {
    await db.$disconnect();
  }
}

// ---------------------------------------------------------------- correctness

export interface LedgerCheck {
  checked: number;
  wrong: string[];
}

export async function checkLedger(horizonUrl: string, records: readonly IssuanceRecord[]): Promise<LedgerCheck> {
  const wrong: string[] = [];
  const accepted = records.filter((record) => record.id !== undefined);
  for (let at = 0; at < accepted.length; at += 25) {
    await Promise.all(
      accepted.slice(at, at + 25).map(async (record) => {
        // Every issuance pays its own wallet: its successful payments, one record per operation.
        const page = await expectStatus(
          'GET /accounts/:id/payments',
          200,
          http<{ _embedded: { records: { type: string; to?: string; transaction_hash: string }[] } }>(
            'GET',
            `${horizonUrl}/accounts/${record.wallet}/payments?limit=10`,
          ),
        );
        const paid = page._embedded.records.filter((r) => r.type === 'payment' && r.to === record.wallet);
        if (paid.length !== 1) {
          wrong.push(`${record.id} (${record.wallet}): ${paid.length} payments received`);
        } else if (record.txHash !== undefined && paid[0]!.transaction_hash !== record.txHash) {
          wrong.push(`${record.id}: the API says ${record.txHash}, the ledger holds ${paid[0]!.transaction_hash}`);
        }
      }),
    );
  }
  return { checked: accepted.length, wrong };
}
