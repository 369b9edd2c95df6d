// @ts-check
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { run, which } = require('./exec');
const { lastLines, withHint } = require('./hints');

/**
 * A project-local PostgreSQL cluster on 127.0.0.1 (TCP only, no Unix socket), managed with
 * Debian's server binaries. Installed with apt when missing. As root, the server runs as the
 * unprivileged `postgres` user, since PostgreSQL refuses to run as root.
 */

function findBinDir() {
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter((v) => fs.existsSync(path.join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(debian, versions[0], 'bin');
  }
  const initdb = which('initdb');
  return initdb ? path.dirname(fs.realpathSync(initdb)) : undefined;
}

/** @returns {Promise<{ binDir: string, installed: boolean }>} */
async function ensurePostgresInstalled() {
  const found = findBinDir();
  if (found) return { binDir: found, installed: false };
  if (process.getuid?.() !== 0) {
    throw new Error('PostgreSQL server binaries not found; install the postgresql package or set DATABASE_URL');
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql'], { env });
  // Debian's package starts a system cluster on 5432; the project never uses it.
  const binDir = findBinDir();
  if (!binDir) throw new Error('apt-get installed postgresql but initdb was not found');
  return { binDir, installed: true };
}

function serverUser() {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    try {
      require('node:child_process').execFileSync('id', ['-u', user], { stdio: 'ignore' });
      return user;
    } catch {
      // try the next candidate
    }
  }
  throw new Error('running as root, but neither a postgres nor a nobody user exists to run PostgreSQL');
}

/**
 * @param {string} binDir
 * @param {string} tool
 * @param {string[]} args
 * @param {{ timeoutMs?: number }} [options]
 */
function asServerUser(binDir, tool, args, options = {}) {
  const user = serverUser();
  const executable = path.join(binDir, tool);
  return user ? run('runuser', ['-u', user, '--', executable, ...args], options) : run(executable, args, options);
}

/** @param {string} dir */
function ownByServerUser(dir) {
  const user = serverUser();
  if (!user) return;
  fs.mkdirSync(dir, { recursive: true });
  require('node:child_process').execFileSync('chown', ['-R', `${user}:`, dir]);
}

/**
 * @typedef {{ binDir: string, dataDir: string, port: number, logFile: string, durable?: boolean }} Cluster
 */

/**
 * Creates the cluster if needed and starts it if it is not running. Idempotent.
 * @param {Cluster} cluster
 * @returns {Promise<'started' | 'already running'>}
 */
async function startCluster(cluster) {
  const { binDir, dataDir, logFile } = cluster;
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    ownByServerUser(dataDir);
    await asServerUser(binDir, 'initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--no-sync',
    ]);
  }
  if (await isRunning(cluster)) return 'already running';
  ownByServerUser(path.dirname(logFile));
  const logStart = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  try {
    await startServer(cluster);
  } catch (error) {
    // pg_ctl only says "examine the log output": show it (this start's lines only), with a hint.
    const tail = lastLines(logFile, 12, logStart);
    const message = /** @type {Error} */ (error).message.split('\n')[0];
    throw new Error(withHint(`${message}${tail ? `\nlast lines of ${logFile}:\n${tail}` : ''}`));
  }
  return 'started';
}

/** @param {Cluster} cluster */
async function startServer(cluster) {
  const { binDir, dataDir, port, logFile } = cluster;
  await asServerUser(binDir, 'pg_ctl', [
    '-D',
    dataDir,
    '-l',
    logFile,
    '-w',
    '-t',
    '60',
    '-o',
    `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=${cluster.durable === false ? 'off' : 'on'}`,
    'start',
  ]);
}

/** @param {Cluster} cluster */
async function isRunning(cluster) {
  try {
    await asServerUser(cluster.binDir, 'pg_ctl', ['-D', cluster.dataDir, 'status']);
    return true;
  } catch {
    return false;
  }
}

/** @param {Cluster} cluster */
async function stopCluster(cluster) {
  if (!(await isRunning(cluster))) return;
  await asServerUser(cluster.binDir, 'pg_ctl', ['-D', cluster.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
}

/**
 * @param {Cluster} cluster
 * @param {string} database
 */
async function ensureDatabase(cluster, database) {
  const psql = path.join(cluster.binDir, 'psql');
  const base = [
    '-h',
    '127.0.0.1',
    '-p',
    String(cluster.port),
    '-U',
    'postgres',
    '-d',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-tA',
  ];
  const exists = await run(psql, [...base, '-c', `SELECT 1 FROM pg_database WHERE datname = '${database}'`]);
  if (exists.trim() !== '1') await run(psql, [...base, '-c', `CREATE DATABASE "${database}"`]);
}

/** @param {number} port @param {string} database */
function localDatabaseUrl(port, database) {
  return `postgresql://postgres@127.0.0.1:${port}/${database}`;
}

module.exports = { ensurePostgresInstalled, startCluster, stopCluster, isRunning, ensureDatabase, localDatabaseUrl };
