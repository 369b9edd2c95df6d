import type { SelfCheckInput, SelfCheckOutcome } from '@nova/activities';

export type { SelfCheckInput, SelfCheckOutcome };

export const selfCheckWorkflowType = 'selfCheckWorkflow';

/** Workflow ids are business keys: one self-check record, one workflow. */
export function selfCheckWorkflowId(selfCheckId: string): string {
  return `self-check/${selfCheckId}`;
}
