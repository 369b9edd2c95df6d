import { ApplicationFailure } from '@temporalio/common';
import { Prisma, type PrismaClient } from '@nova/db';
import type { Clock } from '../clock';

export interface SelfCheckInput {
  selfCheckId: string;
}

export interface SelfCheckOutcome {
  selfCheckId: string;
  status: 'completed';
  workerIdentity: string;
  completedAt: string;
}

/**
 * Activities of the self-check workflow: they prove that a worker picked the workflow up
 * and can write to the read models.
 */
export function createSelfCheckActivities(deps: { db: PrismaClient; clock: Clock; workerIdentity: string }) {
  return {
    async completeSelfCheck(input: SelfCheckInput): Promise<SelfCheckOutcome> {
      const completedAt = deps.clock.now();
      // Idempotent on retry: a second completion rewrites the same values.
      let row;
      try {
        row = await deps.db.selfCheck.update({
          where: { id: input.selfCheckId },
          data: { status: 'completed', workerIdentity: deps.workerIdentity, completedAt },
        });
      } catch (error) {
        // The API creates the record before starting the workflow; without it there is nothing to retry.
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025') {
          throw ApplicationFailure.nonRetryable(`self-check ${input.selfCheckId} does not exist`, 'SelfCheckMissing');
        }
        throw error;
      }
      return {
        selfCheckId: row.id,
        status: 'completed',
        workerIdentity: deps.workerIdentity,
        completedAt: completedAt.toISOString(),
      };
    },
  };
}

export type SelfCheckActivities = ReturnType<typeof createSelfCheckActivities>;
