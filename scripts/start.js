// @ts-check
'use strict';
/**
 * START: the whole platform on embedded defaults, on one machine.
 *   PostgreSQL (project-local cluster) -> Temporal dev server (SQLite in .data, Web UI)
 *   -> worker -> API. Ctrl-C / SIGTERM stops everything in reverse order; data persists.
 *
 * Environment (all optional): PORT (3000), TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233),
 * NOVA_PG_PORT (54329), STELLAR_SANDBOX_PORT (8000), NOVA_DATA_DIR (.data), NOVA_BACKGROUND_NICE (5: the
 * worker's and dev server's lower CPU priority, see lib/priority.js), ADMIN_API_KEY, LOG_LEVEL, and any platform
 * variable; DATABASE_URL or TEMPORAL_ADDRESS point at external services instead.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { prepareToolchain, prepareDatabase } = require('./setup');
const { step, say } = require('./lib/progress');
const { root, dataDir } = require('./lib/paths');
const { Supervisor } = require('./lib/supervisor');
const { withHint } = require('./lib/hints');
const {
  devServerArgs,
  waitForTemporal,
  platformSearchAttributes,
  isPortInUse,
  freePort,
} = require('./lib/temporal-server');
const { contractHostArgs, findContractHost } = require('./lib/contract-host');
const { backgroundNice } = require('./lib/priority');

const SCOPE = 'start';
const apiPort = Number(process.env.PORT || 3000);
// As config/ reads it: unset or empty is the default, 0 turns the worker's metrics server off.
const workerMetricsPort = Number(process.env.WORKER_METRICS_PORT || 9464);
const temporalPort = Number(process.env.TEMPORAL_PORT || 7233);
const temporalUiPort = Number(process.env.TEMPORAL_UI_PORT || 8233);
const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
const sandboxPort = Number(process.env.STELLAR_SANDBOX_PORT || 8000);
// The local sandbox network runs unless a real network (or another Horizon) is configured.
const runSandbox = (process.env.STELLAR_NETWORK || 'sandbox') === 'sandbox' && !process.env.HORIZON_URL;
const STOP_GRACE_MS = 35_000;
const READY_TIMEOUT_MS = 180_000;

/** The bootstrap admin key: ADMIN_API_KEY if set, else generated once and kept in the data folder. */
function adminApiKey() {
  if (process.env.ADMIN_API_KEY) return { key: process.env.ADMIN_API_KEY, source: 'ADMIN_API_KEY' };
  const file = path.join(dataDir, 'admin-api-key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, `nova_admin_${crypto.randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  }
  return { key: fs.readFileSync(file, 'utf8').trim(), source: path.relative(root, file) || file };
}

/** @param {string} url @param {number} timeoutMs @param {() => boolean} aborted */
async function waitForReady(url, timeoutMs, aborted) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline && !aborted()) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = /** @type {Error} */ (error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s: ${last}`);
}

async function main() {
  // Checked before anything starts: the worker and the dev server run at this lower priority.
  const nice = backgroundNice();
  const temporal = await prepareToolchain({ scope: SCOPE });
  const admin = adminApiKey();
  const temporalAddress = process.env.TEMPORAL_ADDRESS || `127.0.0.1:${temporalPort}`;
  /** @type {NodeJS.ProcessEnv} */
  const env = {
    ...process.env,
    // The local cluster's URL is set once it runs; until then a well-formed stand-in lets the
    // configuration check below judge every other variable.
    DATABASE_URL: process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1/nova',
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_UI_URL: process.env.TEMPORAL_UI_URL || `http://127.0.0.1:${temporalUiPort}`,
    ADMIN_API_KEY: admin.key,
    PORT: String(apiPort),
  };
  // Bad configuration stops everything here, naming the variable, before any process starts.
  const config = require(require.resolve('@nova/config', { paths: [root] }));
  await step(SCOPE, 'configuration', () => {
    config.validateEnvironment('api', env);
    config.validateEnvironment('worker', env);
  });
  const database = await prepareDatabase({ scope: SCOPE });
  env.DATABASE_URL = database.url;

  // Children's output goes to .data/logs; the console shows it once the platform is up.
  const supervisor = new Supervisor({ logDir: path.join(dataDir, 'logs'), echo: false });
  let shuttingDown = false;
  /** @param {number} code */
  const shutdown = async (code) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say(SCOPE, 'stopping ...');
    await supervisor.stopAll(STOP_GRACE_MS);
    if (database.cluster)
      await step(SCOPE, 'stopping PostgreSQL', () =>
        require('./lib/postgres').stopCluster(/** @type {import('./lib/postgres').Cluster} */ (database.cluster)),
      );
    say(SCOPE, 'stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // A part that dies is restarted (the API answers 503 from /health/ready meanwhile); one that
  // keeps dying stops START, showing what it last said.
  supervisor.onRestart = (name, code, delayMs, restarts) => {
    say(
      SCOPE,
      `${name} exited unexpectedly (${code}); restarting it in ${delayMs / 1000} s (restart ${restarts}); see ${supervisor.logFile(name)}`,
    );
  };
  supervisor.onGiveUp = (name, code, exits) => {
    const window = supervisor.restart.windowMs / 1000;
    say(SCOPE, `${name} exited (${code}) ${exits} times within ${window} s: giving up`);
    const tail = supervisor.tail(name, 20);
    if (tail) say(SCOPE, `last lines of ${supervisor.logFile(name)}:\n${tail}`);
    void shutdown(1);
  };

  try {
    if (!process.env.TEMPORAL_ADDRESS) {
      for (const port of [temporalPort, temporalUiPort]) {
        if (await isPortInUse(port))
          throw new Error(`port ${port} is in use: is another Temporal server or START running?`);
      }
      const searchAttributes = platformSearchAttributes(root);
      const dbFile = path.join(dataDir, 'temporal', 'temporal.db');
      fs.mkdirSync(path.dirname(dbFile), { recursive: true });
      await step(SCOPE, `Temporal dev server on ${temporalAddress}, Web UI :${temporalUiPort}`, async () => {
        supervisor.start(
          'temporal',
          temporal.cli,
          devServerArgs({ port: temporalPort, uiPort: temporalUiPort, dbFile, namespace, searchAttributes }),
          { nice },
        );
        await waitForTemporal({
          cli: temporal.cli,
          address: temporalAddress,
          namespace,
          searchAttributes,
          timeoutMs: 60_000,
        });
      });
    }
    if (runSandbox) {
      if (await isPortInUse(sandboxPort))
        throw new Error(`port ${sandboxPort} is in use: set STELLAR_SANDBOX_PORT to another port`);
      const sandboxDir = path.join(dataDir, 'stellar-sandbox');
      /** @type {NodeJS.ProcessEnv} */
      const sandboxEnv = {
        ...process.env,
        SANDBOX_DATA_DIR: sandboxDir,
        SANDBOX_PORT: String(sandboxPort),
        SANDBOX_HOST: '127.0.0.1',
      };
      // The real contracts run on the native contract host (built by setup) when there is one.
      const contractHost = findContractHost();
      if (contractHost.available) {
        const binary = contractHost.binary;
        /** @type {{ DEFAULT_NETWORK_PASSPHRASE: string, contractDeployer(networkPassphrase: string): string }} */
        const sandboxLibrary = require(require.resolve('@nova/stellar-sandbox', { paths: [root] }));
        const networkPassphrase = process.env.SANDBOX_NETWORK_PASSPHRASE || sandboxLibrary.DEFAULT_NETWORK_PASSPHRASE;
        const port = await freePort();
        await step(SCOPE, `contract host on :${port}`, async () => {
          supervisor.start(
            'contracts',
            binary,
            contractHostArgs({
              port,
              statePath: path.join(sandboxDir, 'contracts-state.json'),
              // The sandbox deploys from the network's root account: the host serves the same ids.
              deployer: sandboxLibrary.contractDeployer(networkPassphrase),
              networkPassphrase,
            }),
          );
          try {
            await waitForReady(`http://127.0.0.1:${port}/health`, 30_000, () => shuttingDown);
          } catch (error) {
            const tail = supervisor.tail('contracts', 15);
            throw new Error(`${/** @type {Error} */ (error).message}${tail ? `\n${tail}` : ''}`);
          }
        });
        sandboxEnv.SANDBOX_CONTRACT_HOST_URL = `http://127.0.0.1:${port}`;
      } else {
        say(SCOPE, `contract host: not available (${contractHost.reason}): contracts run interface-only`);
      }
      await step(SCOPE, `Stellar sandbox on :${sandboxPort}`, async () => {
        supervisor.start(
          'stellar',
          process.execPath,
          ['--enable-source-maps', path.join(root, 'apps/stellar-sandbox/dist/src/main.js')],
          { env: sandboxEnv },
        );
        await waitForReady(`http://127.0.0.1:${sandboxPort}/`, 60_000, () => shuttingDown);
      });
      Object.assign(env, {
        HORIZON_URL: `http://127.0.0.1:${sandboxPort}`,
        SOROBAN_RPC_URL: `http://127.0.0.1:${sandboxPort}/soroban/rpc`,
        STELLAR_KEYS_FILE: path.join(sandboxDir, 'keys.json'),
        // The contract ids the sandbox deployed: campaigns go on its campaign contract.
        STELLAR_CONTRACTS_FILE: path.join(sandboxDir, 'contracts.json'),
      });
    }
    await step(SCOPE, 'Stellar configuration', () => {
      config.loadApiConfig(env);
      config.loadWorkerConfig(env);
    });
    if (await isPortInUse(apiPort)) throw new Error(`port ${apiPort} is in use: set PORT to another port`);
    if (workerMetricsPort !== 0 && (await isPortInUse(workerMetricsPort))) {
      throw new Error(`port ${workerMetricsPort} is in use: set WORKER_METRICS_PORT to another port (0: none)`);
    }
    await step(SCOPE, 'worker', () => {
      supervisor.start(
        'worker',
        process.execPath,
        ['--enable-source-maps', path.join(root, 'apps/worker/dist/main.js')],
        { env, nice },
      );
    });
    await step(SCOPE, `API on :${apiPort}`, () => {
      supervisor.start('api', process.execPath, ['--enable-source-maps', path.join(root, 'apps/api/dist/main.js')], {
        env,
      });
    });
    await step(SCOPE, 'waiting for /health/ready', () =>
      waitForReady(`http://127.0.0.1:${apiPort}/health/ready`, READY_TIMEOUT_MS, () => shuttingDown),
    );
  } catch (error) {
    say(SCOPE, `failed: ${withHint(/** @type {Error} */ (error).message)}`);
    for (const name of ['api', 'worker', 'stellar', 'contracts', 'temporal']) {
      const tail = supervisor.tail(name, 15);
      if (tail) say(SCOPE, `last lines of ${supervisor.logFile(name)}:\n${tail}`);
    }
    await shutdown(1);
    return;
  }

  const uiUrl = env.TEMPORAL_UI_URL;
  const lines = [
    '',
    'Nova Rewards is running',
    `  API             http://127.0.0.1:${apiPort}`,
    `  Swagger UI      http://127.0.0.1:${apiPort}/docs`,
    `  OpenAPI JSON    http://127.0.0.1:${apiPort}/docs-json`,
    `  Readiness       http://127.0.0.1:${apiPort}/health/ready`,
    `  Metrics         http://127.0.0.1:${apiPort}/metrics (API)${workerMetricsPort ? `, http://127.0.0.1:${workerMetricsPort}/metrics (worker)` : ''}`,
    `  Temporal Web UI ${uiUrl}`,
    `  Temporal        ${temporalAddress} (namespace ${namespace})`,
    `  Stellar         ${env.HORIZON_URL || `${process.env.STELLAR_NETWORK} network`}${runSandbox ? ' (local sandbox; Soroban RPC at /soroban/rpc)' : ''}`,
    `  PostgreSQL      ${database.url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@')}`,
    `  Admin API key   ${admin.key}  (${admin.source})`,
    `  Logs            ${path.join(dataDir, 'logs')}`,
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  supervisor.options.echo = process.env.NOVA_QUIET !== '1';
}

main().catch((error) => {
  process.stderr.write(`[start] ${withHint(error instanceof Error ? error.message : String(error))}\n`);
  process.exit(1);
});
