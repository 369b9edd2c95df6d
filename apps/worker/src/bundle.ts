import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from './worker';

/** Build step: the production worker loads this bundle, made with the same SDK version it runs. */
async function main(): Promise<void> {
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('@nova/workflows'),
    // The tracing interceptors, which touch only runs started with a trace context (workflow-interceptors.ts).
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  const target = join(__dirname, 'workflow-bundle.js');
  writeFileSync(target, code);
  console.log(`workflow bundle: ${target} (${Math.round(code.length / 1024)} KiB, ${Date.now() - started} ms)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
