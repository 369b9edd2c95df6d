import type { SelfCheckInput, SelfCheckOutcome } from '@nova/activities';

export type { SelfCheckInput, SelfCheckOutcome };

export const selfCheckWorkflowType = 'selfCheckWorkflow';
