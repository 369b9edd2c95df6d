import type { PrismaClient } from '@nova/db';
import type { Clock } from './clock';
import { createSelfCheckActivities } from './ledger/self-check';

export * from './clock';
export * from './ledger/self-check';
export * from './ledger/payment-envelopes';
export * from './ledger/channel-pool';
export * from './stellar';

export interface ActivityDependencies {
  db: PrismaClient;
  clock: Clock;
  workerIdentity: string;
}

/** Every activity the platform's worker registers, built from its dependencies. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createSelfCheckActivities(deps),
  };
}

export type PlatformActivities = ReturnType<typeof createActivities>;
