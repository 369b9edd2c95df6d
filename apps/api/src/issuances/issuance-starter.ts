import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { PrismaClient, type Issuance } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { InjectConfig } from '../config/config.module';
import { IssuanceWorkflows } from './issuance-workflows';

/** Rows one retry pass takes (the oldest first); the rest wait for the next pass. */
const RETRY_BATCH = 50;

/**
 * Starts the first workflow run of new issuances without holding up the 202: the issuance and
 * its row in `issuance_workflow_starts` are inserted in one statement, so an accepted issuance
 * is never left without its workflow.
 *
 * - Right after the insert, `startSoon` starts the run in the background and deletes the row
 *   once Temporal has it (started now, or already open).
 * - Every `startRetrySeconds` (and when the API boots) the rows older than that are started
 *   again: Temporal was unreachable, or an API stopped before its start went through.
 *
 * Never a second run: a retry holds the row's lock while it starts the run, and the run's first
 * step (and its failure step) delete the row in their own transactions, so a run that has begun
 * either makes the retry find no row or waits until the retry's start answered "already open".
 * A row whose issuance shows a begun run is deleted without starting anything.
 */
@Injectable()
export class IssuanceStarter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(IssuanceStarter.name);
  /** Starts this process has under way, by issuance id. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Issuances Temporal has accepted whose rows are not deleted yet (one DELETE per batch). */
  private accepted: string[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private retrying: Promise<void> | undefined;
  private closed = false;

  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    private readonly workflows: IssuanceWorkflows,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  onApplicationBootstrap(): void {
    const everyMs = this.config.issuance.startRetrySeconds * 1000;
    this.retryTimer = setInterval(() => this.retrySoon(), everyMs);
    this.retryTimer.unref();
    this.retrySoon();
  }

  /** Before the database and Temporal connections close: lets started calls finish and clears their rows. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.retryTimer);
    await Promise.allSettled([...this.inFlight.values()]);
    await this.retrying;
    await this.flushAccepted();
  }

  /**
   * Starts the first run in the background; a start that fails is left to the retry pass. Only
   * for an issuance this request just inserted: no run of it can exist yet, so no lock is needed.
   */
  startSoon(issuance: Issuance): void {
    if (this.closed || this.inFlight.has(issuance.id)) return;
    const start = this.workflows
      .start(issuance, 1)
      .then(
        () => {
          this.accepted.push(issuance.id);
          if (this.accepted.length === 1) setImmediate(() => void this.flushAccepted());
        },
        (error: unknown) =>
          this.logger.warn(
            `Temporal did not accept the workflow of issuance ${issuance.id} (retried within ${this.config.issuance.startRetrySeconds} s): ${(error as Error).message}`,
          ),
      )
      .finally(() => this.inFlight.delete(issuance.id));
    this.inFlight.set(issuance.id, start);
  }

  /** Runs one retry pass now (also what the timer does); resolves when it is over. */
  async retryPending(): Promise<{ started: number; alreadyOpen: number; failed: number }> {
    const ageSeconds = this.config.issuance.startRetrySeconds;
    return await this.db.$transaction(
      async (tx) => {
        const due = await tx.$queryRaw<{ id: string }[]>`
          SELECT issuance_id::text AS id FROM issuance_workflow_starts
           WHERE created_at < now() - make_interval(secs => ${ageSeconds})
           ORDER BY created_at LIMIT ${RETRY_BATCH} FOR UPDATE SKIP LOCKED`;
        if (due.length === 0) return { started: 0, alreadyOpen: 0, failed: 0 };
        const issuances = await tx.issuance.findMany({ where: { id: { in: due.map((row) => row.id) } } });
        const done: string[] = [];
        let started = 0;
        let failed = 0;
        await Promise.all(
          issuances.map(async (issuance) => {
            if (issuance.attempts > 0 || issuance.status !== 'pending') {
              done.push(issuance.id); // its run has begun (counted as already open): nothing to start
              return;
            }
            try {
              if (await this.workflows.start(issuance, 1)) started += 1;
              done.push(issuance.id);
            } catch (error) {
              failed += 1;
              this.logger.warn(
                `Temporal still does not accept the workflow of issuance ${issuance.id}: ${(error as Error).message}`,
              );
            }
          }),
        );
        await tx.$executeRaw`DELETE FROM issuance_workflow_starts WHERE issuance_id = ANY(${done}::uuid[])`;
        if (started > 0) this.logger.log(`started ${started} issuance workflow(s) that had not gone through`);
        return { started, alreadyOpen: done.length - started, failed };
      },
      // Starts wait for Temporal's answer while the rows stay locked.
      { timeout: 120_000, maxWait: 10_000 },
    );
  }

  private retrySoon(): void {
    if (this.closed || this.retrying) return;
    this.retrying = this.retryPending()
      .then(
        () => undefined,
        (error: unknown) => this.logger.warn(`retrying issuance workflow starts failed: ${(error as Error).message}`),
      )
      .finally(() => (this.retrying = undefined));
  }

  private async flushAccepted(): Promise<void> {
    const previous = this.flushing;
    const ids = this.accepted;
    this.accepted = [];
    this.flushing = (async () => {
      await previous;
      if (ids.length === 0) return;
      try {
        await this.db.$executeRaw`DELETE FROM issuance_workflow_starts WHERE issuance_id = ANY(${ids}::uuid[])`;
      } catch (error) {
        // The rows stay; the retry pass finds the runs open and deletes them.
        this.logger.warn(`could not clear ${ids.length} started issuance(s): ${(error as Error).message}`);
      }
    })();
    await this.flushing;
  }
}
