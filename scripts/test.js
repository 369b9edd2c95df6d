// @ts-check
'use strict';
/**
 * TEST: sets up what is missing, then runs lint, typecheck, the whole Node suite on jest (unit,
 * workflow tests on the time-skipping server, replay, integration and end to end against a real
 * Temporal dev server and a real PostgreSQL) and `cargo test` of the contracts and of the
 * native contract host. Ends with "N passed, N failed[, N skipped]" and exits non-zero on any
 * failure. Every server it starts listens on 127.0.0.1 and is stopped, whatever happened.
 *
 * Usage: npm test [-- <test file substring> ...]   (a filter runs only matching files, and the
 * `cargo test` of a Cargo workspace whose folder's path contains it)
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { prepareToolchain } = require('./setup');
const { CARGO_WORKSPACES, findCargo } = require('./lib/contract-host');
const { step, say } = require('./lib/progress');
const { run } = require('./lib/exec');
const { root } = require('./lib/paths');
const postgres = require('./lib/postgres');
const { Supervisor } = require('./lib/supervisor');
const { devServerArgs, waitForTemporal, platformSearchAttributes, freePort } = require('./lib/temporal-server');

const SCOPE = 'test';
const filters = process.argv.slice(2);
const totals = { passed: 0, failed: 0, skipped: 0 };
/** @type {string[]} */
const failures = [];

/** @param {string} name @param {() => Promise<unknown>} check */
async function countedCheck(name, check) {
  try {
    await step(SCOPE, name, check);
    totals.passed += 1;
  } catch (error) {
    totals.failed += 1;
    failures.push(name);
    say(SCOPE, /** @type {Error} */ (error).message);
  }
}

/** Every *.test.ts of the workspaces (jest runs the sources), in a stable order. */
function testFiles() {
  const workspaces = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).workspaces;
  /** @type {string[]} */
  const files = [];
  /** @param {string} dir */
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'dist') walk(full);
      else if (entry.isFile() && entry.name.endsWith('.test.ts')) files.push(full);
    }
  };
  for (const workspace of workspaces) walk(path.join(root, workspace));
  return files.sort().filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)));
}

/**
 * Runs jest (jest.config.js: one project per layer) on the given files, two at a time; its
 * reporter goes to the console, the JSON summary to a file that is read for the counts.
 * @param {string[]} files
 * @param {NodeJS.ProcessEnv} env
 */
async function runJest(files, env) {
  const resultFile = path.join(os.tmpdir(), `nova-test-${process.pid}.json`);
  const code = await new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        // ESLint (the workflow-boundary test) loads its flat config with import(), which jest's
        // vm contexts allow only with this flag; jest's workers inherit it.
        '--experimental-vm-modules',
        '--disable-warning=ExperimentalWarning',
        path.join(root, 'node_modules/jest/bin/jest.js'),
        '--config',
        path.join(root, 'jest.config.js'),
        '--maxWorkers=2',
        '--json',
        `--outputFile=${resultFile}`,
        '--runTestsByPath',
        ...files,
      ],
      { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.on('close', resolve);
  });
  /** @type {{ numPassedTests: number, numFailedTests: number, numPendingTests: number, numTodoTests: number, testResults: { name: string, status: string, assertionResults: { status: string }[], failureMessage?: string }[] } | undefined} */
  let result;
  try {
    result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  } catch {
    result = undefined;
  }
  fs.rmSync(resultFile, { force: true });
  if (!result) {
    totals.failed += 1;
    failures.push(`jest (exit ${code}, no results)`);
    return;
  }
  // A file that failed outside its tests (it did not load, or a beforeAll/afterAll threw
  // with no test failing) counts as one failure.
  const fileFailures = result.testResults.filter(
    (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
  );
  for (const file of fileFailures) failures.push(`${path.relative(root, file.name)} (outside its tests)`);
  // A file no project of jest.config.js covers is not run at all: that is a failure too.
  const ran = new Set(result.testResults.map((file) => file.name));
  const notRun = files.filter((file) => !ran.has(file));
  for (const file of notRun) failures.push(`${path.relative(root, file)} (no jest project runs it: jest.config.js)`);
  const failed = result.numFailedTests + fileFailures.length + notRun.length;
  totals.passed += result.numPassedTests;
  totals.failed += failed;
  totals.skipped += result.numPendingTests + result.numTodoTests;
  if (failed > 0 || code !== 0) failures.push(`jest (exit ${code})`);
  if (code !== 0 && failed === 0) totals.failed += 1; // the runner itself failed
}

/**
 * `cargo test` of each Cargo workspace (the contracts, then the contract host) that the filters
 * select: every one without filters, else those whose folder's path contains a filter.
 */
async function runCargoTests() {
  const workspaces = CARGO_WORKSPACES.filter((workspace) => {
    const folder = `${path.relative(root, workspace.dir)}/`;
    return (
      fs.existsSync(path.join(workspace.dir, 'Cargo.toml')) &&
      (filters.length === 0 || filters.some((f) => folder.includes(f)))
    );
  });
  if (workspaces.length === 0) return;
  const cargo = findCargo();
  if (!cargo) {
    totals.failed += 1;
    failures.push('cargo test (no Rust toolchain)');
    return;
  }
  for (const workspace of workspaces) await runCargoTest(cargo, workspace);
}

/** @param {string} cargo @param {{ name: string, dir: string }} workspace */
async function runCargoTest(cargo, workspace) {
  const folder = path.relative(root, workspace.dir);
  say(SCOPE, `cargo test (${folder}/) ...`);
  let output = '';
  const code = await new Promise((resolve) => {
    // From the repository root, so cargo reads .cargo/config.toml (the shared target directory).
    const child = spawn(cargo, ['test', '--locked', '--manifest-path', path.join(workspace.dir, 'Cargo.toml')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    /** @param {Buffer} chunk */
    const collect = (chunk) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('close', resolve);
  });
  for (const match of output.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/g)) {
    totals.passed += Number(match[1]);
    totals.failed += Number(match[2]);
    totals.skipped += Number(match[3]);
  }
  if (code !== 0) {
    failures.push(`cargo test (${workspace.name})`);
    if (!/test result: FAILED/.test(output)) totals.failed += 1; // did not compile or crashed
  }
}

/** The deployment validators setup installed (cached by now), for test/deploy. */
async function deployToolsEnv() {
  const tools = require('./lib/deploy-tools');
  return tools.deployToolsEnv({
    helm: await tools.ensureHelm(),
    kubernetesValidate: await tools.ensureKubernetesValidate(),
    dockerCompose: await tools.ensureDockerCompose(),
  });
}

async function main() {
  const supervisor = new Supervisor({ logDir: path.join(os.tmpdir(), `nova-test-logs-${process.pid}`), echo: false });
  /** @type {import('./lib/postgres').Cluster | undefined} */
  let cluster;
  let tempDir = '';
  const cleanup = async () => {
    await supervisor.stopAll(10_000);
    if (cluster) await postgres.stopCluster(cluster).catch(() => undefined);
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  };
  let interrupted = false;
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.on(signal, () => {
      interrupted = true;
      void cleanup().then(() => process.exit(130));
    });
  }

  try {
    const temporal = await prepareToolchain({ scope: SCOPE, bundle: true, deployTools: true, writeClient: false });
    await countedCheck('lint (eslint)', () =>
      run(path.join(root, 'node_modules', '.bin', 'eslint'), ['.', '--max-warnings', '0'], { cwd: root }),
    );
    await countedCheck('format (prettier --check)', () =>
      run(path.join(root, 'node_modules', '.bin', 'prettier'), ['--check', '--log-level', 'warn', '.'], { cwd: root }),
    );
    // `tsc -b` already type-checked every workspace during the build; the scripts are plain JS checked here.
    await countedCheck('typecheck (tsc)', () =>
      run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'scripts/tsconfig.json'], {
        cwd: root,
      }),
    );

    // The build regenerates the client; here a DTO changed without regenerating it fails.
    await countedCheck('typed client matches the OpenAPI document (clients/typescript)', () =>
      require('./lib/client').checkClientSchema(),
    );

    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nova-test-'));
    fs.chmodSync(tempDir, 0o755); // PostgreSQL runs as its own user and must reach its folder
    const { binDir } = await step(
      SCOPE,
      'PostgreSQL server',
      postgres.ensurePostgresInstalled,
      (found) => found.binDir,
    );
    let databaseUrl = process.env.TEST_DATABASE_URL;
    if (!databaseUrl) {
      const port = await freePort();
      cluster = {
        binDir,
        dataDir: path.join(tempDir, 'postgres'),
        port,
        logFile: path.join(tempDir, 'postgres.log'),
        durable: false,
      };
      const started = /** @type {import('./lib/postgres').Cluster} */ (cluster);
      await step(SCOPE, `throwaway PostgreSQL on 127.0.0.1:${port}`, () => postgres.startCluster(started));
      await postgres.ensureDatabase(started, 'nova_test');
      databaseUrl = postgres.localDatabaseUrl(port, 'nova_test');
    }
    const url = databaseUrl;
    await step(SCOPE, 'migrations', () => require('./lib/prisma').applyMigrations(url));

    const temporalPort = await freePort();
    const searchAttributes = platformSearchAttributes(root);
    await step(SCOPE, `Temporal dev server on 127.0.0.1:${temporalPort}`, async () => {
      const uiPort = await freePort();
      supervisor.start(
        'temporal',
        temporal.cli,
        devServerArgs({ port: temporalPort, uiPort, namespace: 'default', searchAttributes, headless: true }),
      );
      await waitForTemporal({
        cli: temporal.cli,
        address: `127.0.0.1:${temporalPort}`,
        namespace: 'default',
        searchAttributes,
        timeoutMs: 60_000,
      });
    });

    const files = testFiles();
    say(SCOPE, `running ${files.length} test files`);
    // A filter may select cargo tests only.
    if (files.length > 0)
      await runJest(files, {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: process.env.LOG_LEVEL || 'silent',
        DATABASE_URL: url,
        TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
        TEMPORAL_CLI_PATH: temporal.cli,
        TEMPORAL_TEST_SERVER_PATH: temporal.testServer,
        NOVA_PG_BIN_DIR: binDir,
        SCHEMATHESIS_PATH: (await require('./lib/schemathesis').ensureSchemathesis()).path,
        ...(await deployToolsEnv()),
      });
    await runCargoTests();
  } catch (error) {
    totals.failed += 1;
    failures.push(`setup: ${/** @type {Error} */ (error).message.split('\n')[0]}`);
    say(SCOPE, /** @type {Error} */ (error).message);
  } finally {
    if (!interrupted) await step(SCOPE, 'stopping test servers', cleanup);
  }
  if (failures.length) say(SCOPE, `failed: ${failures.join('; ')}`);
  const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
  process.stdout.write(`${totals.passed} passed, ${totals.failed} failed${skipped}\n`);
  process.exit(totals.failed > 0 || failures.length > 0 ? 1 : 0);
}

void main();
