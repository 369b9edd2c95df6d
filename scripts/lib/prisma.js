// @ts-check
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { run } = require('./exec');
const { root } = require('./paths');

const prismaDir = path.join(root, 'prisma');
const generatedDir = path.join(prismaDir, 'generated', 'client');
const stampFile = path.join(prismaDir, 'generated', '.schema-hash');
const prismaCli = path.join(root, 'node_modules', 'prisma', 'build', 'index.js');

/**
 * Prisma 6.19 offline: with engineType "client" no query engine is used at run time, but the
 * CLI still looks for one while generating; pointing it at any existing file skips the
 * download (there is no network here). Migrations run on the WebAssembly schema engine
 * through the pg adapter configured in prisma/prisma.config.ts.
 */
function prismaEnv(/** @type {NodeJS.ProcessEnv} */ extra = {}) {
  return {
    ...process.env,
    PRISMA_QUERY_ENGINE_LIBRARY: path.join(prismaDir, 'schema.prisma'),
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
    ...extra,
  };
}

function schemaHash() {
  return crypto
    .createHash('sha256')
    .update(fs.readFileSync(path.join(prismaDir, 'schema.prisma')))
    .digest('hex');
}

/** Generates the client when the schema changed since the last generation. */
async function ensurePrismaClient() {
  const hash = schemaHash();
  if (
    fs.existsSync(stampFile) &&
    fs.readFileSync(stampFile, 'utf8') === hash &&
    fs.existsSync(path.join(generatedDir, 'client.ts'))
  ) {
    return 'up to date';
  }
  await run(process.execPath, [prismaCli, 'generate'], { cwd: prismaDir, env: prismaEnv() });
  fs.writeFileSync(stampFile, hash);
  return 'generated';
}

function migrationNames() {
  const dir = path.join(prismaDir, 'migrations');
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/**
 * Applies pending migrations with `prisma migrate deploy`; skips the (slow) engine start when
 * every migration folder is already recorded as finished in the database.
 * @param {string} databaseUrl
 */
async function applyMigrations(databaseUrl) {
  const { Client } = require(require.resolve('pg', { paths: [prismaDir] }));
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  let applied = new Set();
  try {
    const table = await client.query("SELECT to_regclass('public._prisma_migrations') AS t");
    if (table.rows[0]?.t) {
      const rows = await client.query(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
      );
      applied = new Set(rows.rows.map((/** @type {{ migration_name: string }} */ r) => r.migration_name));
    }
  } finally {
    await client.end();
  }
  const pending = migrationNames().filter((name) => !applied.has(name));
  if (pending.length === 0) return 'up to date';
  await run(process.execPath, [prismaCli, 'migrate', 'deploy'], {
    cwd: prismaDir,
    env: prismaEnv({ DATABASE_URL: databaseUrl }),
  });
  return `${pending.length} applied`;
}

module.exports = { ensurePrismaClient, applyMigrations, prismaEnv };
