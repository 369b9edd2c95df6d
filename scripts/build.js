// @ts-check
'use strict';
/**
 * Production build: Prisma client, TypeScript, the typed client's types generated from the API's
 * OpenAPI document (clients/typescript), and the workflow bundle the production worker
 * loads (made here, with the same SDK version the worker runs). Run after `npm ci`.
 */
const path = require('node:path');
const { step } = require('./lib/progress');
const { run } = require('./lib/exec');
const { root } = require('./lib/paths');
const { ensurePrismaClient } = require('./lib/prisma');

async function main() {
  await step('build', 'Prisma client', ensurePrismaClient);
  await step('build', 'TypeScript', () =>
    run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: root }),
  );
  await step('build', 'typed client (clients/typescript)', async () => {
    const changed = await require('./lib/client').writeClientSchema();
    if (changed) await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: root });
    return changed ? 'regenerated from the OpenAPI document' : 'up to date';
  });
  await step('build', 'workflow bundle', () =>
    run(process.execPath, [path.join(root, 'apps/worker/dist/bundle.js')], { cwd: root }),
  );
}

main().catch((error) => {
  process.stderr.write(`[build] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
