// @ts-check
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { prepareToolchain } = require('./setup');
const { step } = require('./lib/progress');
const { withHint } = require('./lib/hints');
const { freePort } = require('./lib/temporal-server');
const { root } = require('./lib/paths');

const SCOPE = 'bench';

/**
 * `npm run bench:issuance`: the whole-stack issuance benchmark (test/bench/issuance-throughput.ts)
 * on a database of its own: a throwaway PostgreSQL cluster (durable writes, as in production)
 * with the migrations applied, removed afterwards. BENCH_* variables pass through (see the
 * script's header); BENCH_DATABASE_URL names an existing empty database instead.
 */
async function main() {
  const temporal = await prepareToolchain({ scope: SCOPE });
  const postgres = require('./lib/postgres');
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nova-bench-'));
  fs.chmodSync(tempDir, 0o755); // PostgreSQL runs as its own user and must reach its folder
  /** @type {import('./lib/postgres').Cluster | undefined} */
  let cluster;
  let code = 1;
  try {
    let url = process.env.BENCH_DATABASE_URL;
    if (!url) {
      const { binDir } = await step(SCOPE, 'PostgreSQL server', postgres.ensurePostgresInstalled, (f) => f.binDir);
      const port = await freePort();
      const own = {
        binDir,
        dataDir: path.join(tempDir, 'postgres'),
        port,
        logFile: path.join(tempDir, 'postgres.log'),
      };
      cluster = own;
      await step(SCOPE, `throwaway PostgreSQL on 127.0.0.1:${port}`, () => postgres.startCluster(own));
      await postgres.ensureDatabase(own, 'nova_bench');
      url = postgres.localDatabaseUrl(port, 'nova_bench');
    }
    const databaseUrl = url;
    await step(SCOPE, 'migrations', () => require('./lib/prisma').applyMigrations(databaseUrl));
    code = await new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(root, 'test', 'dist', 'bench', 'issuance-throughput.js')], {
        stdio: 'inherit',
        env: { ...process.env, DATABASE_URL: databaseUrl, TEMPORAL_CLI_PATH: temporal.cli },
      });
      child.on('exit', (exitCode) => resolve(exitCode ?? 1));
    });
  } finally {
    const started = cluster;
    if (started) await step(SCOPE, 'stopping PostgreSQL', () => postgres.stopCluster(started));
    fs.rmSync(tempDir, { recursive: true, force: true });
  }
  process.exit(code);
}

main().catch((error) => {
  process.stderr.write(`[bench] ${withHint(error instanceof Error ? error.message : String(error))}\n`);
  process.exit(1);
});
