import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { PrismaClient, type Issuance } from '@nova/db';
import { IssuanceWorkflows } from './issuance-workflows';

/**
 * The fast path of an issuance's hand-off to Temporal, without holding up the 202: the issuance
 * and its row in `issuance_workflow_starts` are inserted in one statement; right after,
 * `startSoon` starts the first run in the background and deletes the row once Temporal has it
 * (started now, or refused as a duplicate). A start that does not go through (Temporal
 * unreachable, the API stopping) leaves the row to the worker's reconciler, which starts it
 * the same way. No lock: Temporal refuses a second first run of the id.
 */
@Injectable()
export class IssuanceStarter implements BeforeApplicationShutdown {
  private readonly logger = new Logger(IssuanceStarter.name);
  /** Starts this process has under way, by issuance id. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Issuances Temporal has taken whose rows are not deleted yet (one DELETE per batch). */
  private accepted: string[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    private readonly workflows: IssuanceWorkflows,
  ) {}

  /** Before the database and Temporal connections close: lets started calls finish and clears their rows. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight.values()]);
    await this.flushAccepted();
  }

  /** Starts the first run in the background; a start that fails is left to the reconciler. */
  startSoon(issuance: Issuance): void {
    if (this.closed || this.inFlight.has(issuance.id)) return;
    const start = this.workflows
      .startFirstRun(issuance)
      .then(
        () => {
          this.accepted.push(issuance.id);
          if (this.accepted.length === 1) setImmediate(() => void this.flushAccepted());
        },
        (error: unknown) =>
          this.logger.warn(
            `Temporal did not take the workflow of issuance ${issuance.id} (the reconciler starts it): ${(error as Error).message}`,
          ),
      )
      .finally(() => this.inFlight.delete(issuance.id));
    this.inFlight.set(issuance.id, start);
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
        // The rows stay; the reconciler finds the runs started and deletes them.
        this.logger.warn(`could not clear ${ids.length} started issuance(s): ${(error as Error).message}`);
      }
    })();
    await this.flushing;
  }
}
