import { Inject, Injectable } from '@nestjs/common';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { PrismaClient } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { InjectConfig } from '../config/config.module';

export interface DependencyStatus {
  status: 'up' | 'down';
  latencyMs: number;
  detail?: string;
}

export interface Readiness {
  status: 'ready' | 'not-ready';
  checks: {
    database: DependencyStatus;
    temporal: DependencyStatus;
    worker: DependencyStatus;
    stellar: DependencyStatus;
  };
}

/** Each probe answers within this budget, so a hung dependency cannot hang the probe. */
const PROBE_TIMEOUT_MS = 3_000;
/**
 * A poller's last access is refreshed at each long poll (at most ~70 s apart on an idle
 * queue), so a worker is considered polling if the server saw it within this window.
 */
const POLLER_FRESHNESS_MS = 90_000;

async function probe(run: () => Promise<string | undefined>): Promise<DependencyStatus> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
    });
    const detail = await Promise.race([run(), timeout]);
    return { status: 'up', latencyMs: Date.now() - started, ...(detail ? { detail } : {}) };
  } catch (error) {
    return { status: 'down', latencyMs: Date.now() - started, detail: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

@Injectable()
export class ReadinessService {
  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    @Inject(Client) private readonly temporal: Client,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  async check(): Promise<Readiness> {
    const [database, temporalStatus, worker, stellar] = await Promise.all([
      probe(async () => {
        await this.db.$queryRaw`SELECT 1`;
        return undefined;
      }),
      probe(async () => {
        await this.temporal.connection.ensureConnected();
        const info = await this.temporal.workflowService.getSystemInfo({});
        return `server ${info.serverVersion ?? 'unknown'}`;
      }),
      probe(() => this.workerPolling()),
      probe(() => this.horizonAnswers()),
    ]);
    const ready = [database, temporalStatus, worker, stellar].every((c) => c.status === 'up');
    return { status: ready ? 'ready' : 'not-ready', checks: { database, temporal: temporalStatus, worker, stellar } };
  }

  /** Horizon answers its root document for the configured network. */
  private async horizonAnswers(): Promise<string> {
    const { horizonUrl, networkPassphrase } = this.config.stellar;
    const response = await fetch(`${horizonUrl}/`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`Horizon ${horizonUrl} answered ${response.status}`);
    const root = (await response.json()) as { network_passphrase?: string; history_latest_ledger?: number };
    if (root.network_passphrase !== networkPassphrase) {
      throw new Error(`Horizon ${horizonUrl} serves another network: ${root.network_passphrase ?? 'unknown'}`);
    }
    return `ledger ${root.history_latest_ledger ?? '?'} at ${horizonUrl}`;
  }

  /** A worker is polling when both the workflow and the activity side of the task queue have fresh pollers. */
  private async workerPolling(): Promise<string> {
    const { namespace, taskQueue } = this.config.temporal;
    const types = [
      ['workflow', temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
      ['activity', temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
    ] as const;
    const counts: string[] = [];
    for (const [label, taskQueueType] of types) {
      const response = await this.temporal.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType,
      });
      const now = Date.now();
      const fresh = (response.pollers ?? []).filter((poller) => {
        const seconds = Number(poller.lastAccessTime?.seconds ?? 0);
        return now - seconds * 1000 <= POLLER_FRESHNESS_MS;
      });
      if (fresh.length === 0) throw new Error(`no ${label} pollers on task queue ${taskQueue}`);
      counts.push(`${fresh.length} ${label} poller(s)`);
    }
    return `${counts.join(', ')} on ${taskQueue}`;
  }
}
