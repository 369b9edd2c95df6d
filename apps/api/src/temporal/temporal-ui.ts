import type { TemporalConfig } from '@nova/config';

/** The Web UI page of a workflow, for operators following a link from an API response. */
export function temporalUiLink(temporal: TemporalConfig, workflowId: string): string {
  return `${temporal.uiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
