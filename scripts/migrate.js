// @ts-check
'use strict';
/** Applies pending migrations to DATABASE_URL (a deployment step: run before new API/worker versions). */
const { step } = require('./lib/progress');
const { applyMigrations } = require('./lib/prisma');

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('[migrate] DATABASE_URL is required\n');
  process.exit(78);
}
step('migrate', 'migrations', () => applyMigrations(url)).catch((error) => {
  process.stderr.write(`[migrate] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
