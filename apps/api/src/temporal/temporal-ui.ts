import type { TemporalConfig } from '@nova/config';
import { temporalUiLink as link } from '@nova/domain';

/** The Web UI page of a workflow, for operators following a link from an API response. */
export function temporalUiLink(temporal: TemporalConfig, workflowId: string): string {
  return link(temporal, workflowId);
}
