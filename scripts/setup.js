// @ts-check
'use strict';
/**
 * Setup: installs and prepares whatever is missing, one progress line per step. Idempotent
 * and quick when nothing is missing. Used by START and TEST; `npm run setup` runs it alone.
 *
 * Node's own modules only until `npm ci` has run.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { withHint } = require('./lib/hints');
const { step } = require('./lib/progress');
const { run } = require('./lib/exec');
const { root, dataDir } = require('./lib/paths');

const LOCAL_PG_PORT = Number(process.env.NOVA_PG_PORT || 54329);
const LOCAL_DATABASE = 'nova';

async function ensureNodeDependencies() {
  const lock = fs.readFileSync(path.join(root, 'package-lock.json'));
  const hash = crypto.createHash('sha256').update(lock).update(process.version).digest('hex');
  const stamp = path.join(root, 'node_modules', '.nova-lock-hash');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hash) return 'up to date';
  await run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root });
  fs.writeFileSync(stamp, hash);
  return 'installed from package-lock.json';
}

async function build() {
  await run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], { cwd: root });
}

/** Regenerates the typed client's types from the OpenAPI document; rebuilds when they changed. */
async function regenerateClient() {
  const changed = await require('./lib/client').writeClientSchema();
  if (changed) await build();
  return changed ? 'regenerated from the OpenAPI document' : 'up to date';
}

async function bundleWorkflows() {
  const out = await run(process.execPath, [path.join(root, 'apps', 'worker', 'dist', 'bundle.js')], { cwd: root });
  return out.trim().replace(/^workflow bundle: \S+ /, '');
}

/**
 * The deployment validators TEST runs (helm, kubernetes-validate, docker-compose).
 * @param {string} scope
 */
async function prepareDeployTools(scope) {
  const deployTools = require('./lib/deploy-tools');
  await step(
    scope,
    `helm ${deployTools.HELM_VERSION} (go install)`,
    // A first build takes minutes: a package counter every 50 packages shows it is moving.
    () => deployTools.ensureHelm({ onCompiled: (n) => n % 50 === 0 && process.stdout.write(` ${n}`) }),
    deployTools.describeTool,
  );
  await step(scope, 'kubernetes-validate', deployTools.ensureKubernetesValidate, deployTools.describeTool);
  await step(scope, 'docker-compose (validator)', deployTools.ensureDockerCompose, deployTools.describeTool);
}

/**
 * Node dependencies, Temporal binaries, schemathesis, the deployment validators when asked
 * (helm, kubernetes-validate, docker-compose), Prisma client, the native contract host, build, the
 * typed client's types (and the workflow bundle).
 * @param {{ scope?: string, bundle?: boolean, deployTools?: boolean, writeClient?: boolean }} [options]
 *   writeClient false: leave the typed client's generated types as they are (TEST checks them)
 * @returns {Promise<{ cli: string, testServer: string }>} the Temporal binaries
 */
async function prepareToolchain(options = {}) {
  const scope = options.scope ?? 'setup';
  await step(scope, 'node dependencies', ensureNodeDependencies);
  const { ensureTemporalBinaries } = require('./lib/temporal-binaries');
  const temporal = await step(scope, 'Temporal CLI and test server', ensureTemporalBinaries, (found) => found.source);
  await step(scope, 'schemathesis', require('./lib/schemathesis').ensureSchemathesis, (found) => found.source);
  // TEST's and setup's alone: START has no use for the validators (helm's first build takes minutes).
  if (options.deployTools) await prepareDeployTools(scope);
  await step(scope, 'Prisma client', require('./lib/prisma').ensurePrismaClient);
  const contractHost = require('./lib/contract-host');
  await step(
    scope,
    'contract host (cargo build)',
    // A build from scratch takes minutes: a crate counter every 25 crates shows it is moving.
    () => contractHost.ensureContractHost({ onCompiled: (n) => n % 25 === 0 && process.stdout.write(` ${n}`) }),
    contractHost.describeContractHost,
  );
  await step(scope, 'TypeScript build', build);
  if (options.writeClient !== false) await step(scope, 'typed client (clients/typescript)', regenerateClient);
  if (options.bundle) await step(scope, 'workflow bundle', bundleWorkflows);
  return temporal;
}

/**
 * @typedef {{ url: string, cluster?: import('./lib/postgres').Cluster, startedCluster: boolean }} PreparedDatabase
 */

/**
 * The local PostgreSQL cluster (unless DATABASE_URL names a server), its database, migrations.
 * @param {{ scope?: string }} [options]
 * @returns {Promise<PreparedDatabase>}
 */
async function prepareDatabase(options = {}) {
  const scope = options.scope ?? 'setup';
  const { applyMigrations } = require('./lib/prisma');
  if (process.env.DATABASE_URL) {
    const url = process.env.DATABASE_URL;
    await step(scope, 'migrations (DATABASE_URL)', () => applyMigrations(url));
    return { url, startedCluster: false };
  }
  const postgres = require('./lib/postgres');
  const { binDir } = await step(scope, 'PostgreSQL server', postgres.ensurePostgresInstalled, (found) =>
    found.installed ? `installed (${found.binDir})` : found.binDir,
  );
  /** @type {import('./lib/postgres').Cluster} */
  const cluster = {
    binDir,
    dataDir: path.join(dataDir, 'postgres'),
    port: LOCAL_PG_PORT,
    logFile: path.join(dataDir, 'logs', 'postgres.log'),
  };
  const state = await step(scope, `PostgreSQL cluster on 127.0.0.1:${cluster.port}`, () =>
    postgres.startCluster(cluster),
  );
  const url = postgres.localDatabaseUrl(cluster.port, LOCAL_DATABASE);
  try {
    await step(scope, `database ${LOCAL_DATABASE}`, () => postgres.ensureDatabase(cluster, LOCAL_DATABASE));
    await step(scope, 'migrations', () => applyMigrations(url));
  } catch (error) {
    if (state === 'started') await postgres.stopCluster(cluster);
    throw error;
  }
  return { url, cluster, startedCluster: state === 'started' };
}

module.exports = { prepareToolchain, prepareDatabase };

if (require.main === module) {
  prepareToolchain({ bundle: true, deployTools: true })
    .then(() => prepareDatabase())
    .then(async (database) => {
      // Standalone setup leaves nothing running: START starts the cluster again.
      const cluster = database.cluster;
      if (cluster && database.startedCluster) {
        await step('setup', 'stopping PostgreSQL', () => require('./lib/postgres').stopCluster(cluster));
      }
      process.stdout.write('[setup] done\n');
    })
    .catch((error) => {
      process.stderr.write(`[setup] ${withHint(error instanceof Error ? error.message : String(error))}\n`);
      process.exit(1);
    });
}
