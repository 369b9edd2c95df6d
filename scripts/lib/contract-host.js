// @ts-check
'use strict';
/**
 * The native contract host (apps/stellar-sandbox/contract-host, `nova-contract-host`): the
 * platform's Rust contracts on soroban-sdk's host behind a loopback HTTP API, which the Stellar
 * sandbox calls to run the real contracts. A development tool, so a Cargo workspace of its own
 * beside the sandbox, depending on the contract crates of contracts/ by path. Built once by
 * setup with cargo; without a Rust toolchain the sandbox runs the contracts interface-only.
 *
 * Profile `host-release` (the host's Cargo.toml): optimised like `release` but with
 * panic = "unwind", which the host needs to turn a failing contract into an error answer
 * (`release` aborts the process on the first contract error). From a clean target it takes
 * about 3 to 4 minutes on 2 cores; the host then answers an invocation about 4 times faster
 * than a `dev` build.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { which } = require('./exec');
const { root } = require('./paths');

const CONTRACTS_DIR = path.join(root, 'contracts');
const HOST_DIR = path.join(root, 'apps', 'stellar-sandbox', 'contract-host');
const MANIFEST = path.join(HOST_DIR, 'Cargo.toml');
const PACKAGE = 'nova-contract-host';
const PROFILE = 'host-release';

/**
 * The repository's Cargo workspaces, in the order TEST runs their `cargo test`: the host's
 * `dev` build then finds the Soroban crates the contracts' tests compiled into the shared
 * target directory.
 */
const CARGO_WORKSPACES = [
  { name: 'contracts', dir: CONTRACTS_DIR },
  { name: 'contract host', dir: HOST_DIR },
];

/** cargo on PATH, else rustup's default location, else undefined. */
function findCargo() {
  const onPath = which('cargo');
  if (onPath) return onPath;
  const rustup = path.join(os.homedir(), '.cargo', 'bin', 'cargo');
  return fs.existsSync(rustup) ? rustup : undefined;
}

/**
 * Where cargo puts the host: the repository's one target directory (`target/`, set in
 * .cargo/config.toml for both workspaces), or CARGO_TARGET_DIR (relative to the repository).
 */
function contractHostBinary() {
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(root, process.env.CARGO_TARGET_DIR)
    : path.join(root, 'target');
  return path.join(target, PROFILE, PACKAGE);
}

/** @param {string} file */
function mtimeMs(file) {
  return fs.statSync(file).mtimeMs;
}

/**
 * The newest modification time of what the host is built from: its manifest, Cargo.lock and
 * src/, the contracts' workspace manifest and every contract crate's Cargo.toml and src/, and
 * the cargo configuration.
 */
function newestSourceMtimeMs() {
  let newest = 0;
  /** @param {string} file */
  const consider = (file) => {
    if (fs.existsSync(file)) newest = Math.max(newest, mtimeMs(file));
  };
  /** @param {string} dir */
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) consider(full);
    }
  };
  /** @param {string} crate */
  const considerCrate = (crate) => {
    consider(path.join(crate, 'Cargo.toml'));
    if (fs.existsSync(path.join(crate, 'src'))) walk(path.join(crate, 'src'));
  };
  considerCrate(HOST_DIR);
  consider(path.join(HOST_DIR, 'Cargo.lock'));
  consider(path.join(CONTRACTS_DIR, 'Cargo.toml'));
  consider(path.join(root, '.cargo', 'config.toml'));
  for (const entry of fs.readdirSync(CONTRACTS_DIR, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== 'target') considerCrate(path.join(CONTRACTS_DIR, entry.name));
  }
  return newest;
}

/** @param {string} binary */
function isFresh(binary) {
  return fs.existsSync(binary) && mtimeMs(binary) > newestSourceMtimeMs();
}

/**
 * @typedef {{ available: true, binary: string, built: boolean }} ContractHostFound
 * @typedef {{ available: false, reason: string }} ContractHostMissing
 * @typedef {ContractHostFound | ContractHostMissing} ContractHost
 */

/**
 * The built host if it is up to date with its sources, without building anything.
 * @returns {ContractHost}
 */
function findContractHost() {
  if (!fs.existsSync(MANIFEST)) return { available: false, reason: `no ${path.relative(root, MANIFEST)}` };
  const binary = contractHostBinary();
  if (isFresh(binary)) return { available: true, binary, built: false };
  if (!findCargo()) return { available: false, reason: 'no Rust toolchain' };
  return {
    available: false,
    reason: `${path.relative(root, binary)} is missing or older than its sources: run npm run setup`,
  };
}

/**
 * Builds the host when it is missing or older than any of its sources (a quick mtime check
 * otherwise), or answers why it cannot be.
 * @param {{ onCompiled?: (crates: number) => void }} [options] called after each crate cargo compiles
 * @returns {Promise<ContractHost>}
 */
async function ensureContractHost(options = {}) {
  if (!fs.existsSync(MANIFEST)) return { available: false, reason: `no ${path.relative(root, MANIFEST)}` };
  const binary = contractHostBinary();
  if (isFresh(binary)) return { available: true, binary, built: false };
  const cargo = findCargo();
  if (!cargo) return { available: false, reason: 'no Rust toolchain' };
  const args = ['build', '--locked', '--profile', PROFILE, '-p', PACKAGE, '--manifest-path', MANIFEST];
  await new Promise((resolve, reject) => {
    const child = spawn(cargo, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let compiled = 0;
    /** @param {Buffer} chunk */
    const collect = (chunk) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-20_000);
      for (const line of text.split('\n')) {
        if (/^\s*Compiling /.test(line)) options.onCompiled?.((compiled += 1));
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(undefined);
      const tail = output.trim().split('\n').slice(-30).join('\n');
      reject(new Error(`cargo ${args.join(' ')} exited with ${signal ?? code}\n${tail}`));
    });
  });
  if (!fs.existsSync(binary)) throw new Error(`cargo built no ${binary}`);
  // cargo leaves an up-to-date binary untouched (e.g. after a change to test-only code): mark it
  // checked so the next setup skips cargo altogether.
  const now = new Date();
  fs.utimesSync(binary, now, now);
  return { available: true, binary, built: true };
}

/** One line for setup's progress output. @param {ContractHost} host */
function describeContractHost(host) {
  if (!host.available) return `skipped: ${host.reason}`;
  const where = path.relative(root, host.binary);
  return host.built ? `built ${where} (profile ${PROFILE})` : `up to date (${where})`;
}

/**
 * Command-line arguments that make the host serve the contracts at a sandbox's contract ids.
 * @param {{ port: number, statePath: string, deployer: string, networkPassphrase: string }} options
 */
function contractHostArgs(options) {
  return [
    '--port',
    String(options.port),
    '--state',
    options.statePath,
    '--deployer',
    options.deployer,
    '--network-passphrase',
    options.networkPassphrase,
  ];
}

module.exports = {
  CARGO_WORKSPACES,
  contractHostArgs,
  contractHostBinary,
  describeContractHost,
  ensureContractHost,
  findCargo,
  findContractHost,
};
