import { proxyActivities } from '@temporalio/workflow';
import type { SelfCheckActivities } from '@nova/activities';
import { activityProfiles } from './definitions/activity-profiles';
import type { SelfCheckInput, SelfCheckOutcome } from './definitions/self-check';

const { completeSelfCheck } = proxyActivities<SelfCheckActivities>({
  ...activityProfiles.dbWrite,
  scheduleToCloseTimeout: '5 minutes',
});

/** Proves the whole path: a worker runs this workflow and its activity writes the read model. */
export async function selfCheckWorkflow(input: SelfCheckInput): Promise<SelfCheckOutcome> {
  return await completeSelfCheck(input);
}
