// @ts-check
'use strict';
/**
 * Production build: Prisma client, TypeScript, and the workflow bundle the production worker
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
  await step('build', 'workflow bundle', () =>
    run(process.execPath, [path.join(root, 'apps/worker/dist/bundle.js')], { cwd: root }),
  );
}

main().catch((error) => {
  process.stderr.write(`[build] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
