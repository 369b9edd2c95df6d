import type { PrismaClient } from '@nova/db';
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
      const row = await deps.db.selfCheck.update({
        where: { id: input.selfCheckId },
        data: { status: 'completed', workerIdentity: deps.workerIdentity, completedAt },
      });
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
