/**
 * Light probes taken during the measured window, to tell a slow component from a busy one:
 * the API's liveness route (its event loop and HTTP stack, no database), a `SELECT 1` on the
 * benchmark's database, Temporal's GetSystemInfo, and what the database's sessions are doing
 * (pg_stat_activity: running, waiting on a lock, idle inside a transaction).
 */
import type { Connection } from '@temporalio/client';
import { createPrismaClient } from '@nova/db';

const PROBE_INTERVAL_MS = 500;

export interface ProbeFigures {
  /** Round trip in ms of each probe, by probe name. */
  latencies: Map<string, number[]>;
  /** Mean number of the database's sessions (the probe's own left out) per state. */
  sessions: Map<string, number>;
}

export class ComponentProbes {
  private readonly latencies = new Map<string, number[]>();
  private readonly sessionCounts = new Map<string, number>();
  private sessionSamples = 0;
  private readonly db;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    databaseUrl: string,
    private readonly apiUrl: string,
    private readonly temporal: Connection,
  ) {
    this.db = createPrismaClient({ databaseUrl, poolSize: 1 });
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const started = Date.now();
        await Promise.all([
          this.time('api GET /health', async () => {
            const response = await fetch(`${this.apiUrl}/health`, { signal: AbortSignal.timeout(30_000) });
            await response.arrayBuffer();
          }),
          this.time('postgres SELECT 1', async () => {
            await this.db.$queryRaw`SELECT 1`;
          }),
          this.time('temporal GetSystemInfo', async () => {
            await this.temporal.workflowService.getSystemInfo({});
          }),
        ]);
        await this.sampleSessions();
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, PROBE_INTERVAL_MS - (Date.now() - started))));
      }
    })();
  }

  async stop(): Promise<ProbeFigures> {
    this.running = false;
    await this.loop;
    await this.db.$disconnect();
    const sessions = new Map<string, number>();
    for (const [state, count] of this.sessionCounts) sessions.set(state, count / Math.max(1, this.sessionSamples));
    return { latencies: this.latencies, sessions };
  }

  private async time(name: string, probe: () => Promise<void>): Promise<void> {
    const started = performance.now();
    try {
      await probe();
    } catch {
      return; // A failed probe says nothing about latency; the benchmark's own checks report failures.
    }
    let values = this.latencies.get(name);
    if (!values) this.latencies.set(name, (values = []));
    values.push(performance.now() - started);
  }

  private async sampleSessions(): Promise<void> {
    try {
      const rows = await this.db.$queryRaw<{ state: string; count: bigint }[]>`
        SELECT CASE
                 WHEN state = 'active' AND wait_event_type = 'Lock'
                   THEN 'waiting on a lock (' || left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 60) || ')'
                 WHEN state = 'active' THEN 'running a query'
                 WHEN state = 'idle in transaction' THEN 'idle in a transaction'
                 ELSE coalesce(state, 'unknown')
               END AS state,
               count(*) AS count
          FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()
         GROUP BY 1`;
      this.sessionSamples += 1;
      for (const row of rows)
        this.sessionCounts.set(row.state, (this.sessionCounts.get(row.state) ?? 0) + Number(row.count));
    } catch {
      // A missed sample only thins the mean.
    }
  }
}
