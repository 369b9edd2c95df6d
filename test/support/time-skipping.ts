import { TestWorkflowEnvironment } from '@temporalio/testing';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { platformSearchAttributes } from '@nova/workflows/definitions';
import { required } from './environment';

/**
 * The time-skipping test server with the platform's search attributes registered (workflows
 * upsert them; an unknown one fails the workflow task).
 */
export async function createTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: required('TEMPORAL_TEST_SERVER_PATH') } },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      platformSearchAttributes.map((a) => [a.name, encodeSearchAttributeIndexedValueType(a.type)!]),
    ),
  });
  return env;
}
