// @ts-check
'use strict';
const net = require('node:net');
const { run } = require('./exec');

/**
 * The platform's custom search attributes, read from the compiled workflow definitions so
 * that the server registers exactly what the workflows upsert.
 * @param {string} root
 * @returns {{ name: string, type: string }[]}
 */
function platformSearchAttributes(root) {
  const definitions = require(require.resolve('@nova/workflows/definitions', { paths: [root] }));
  return definitions.platformSearchAttributes;
}

/**
 * Arguments for `temporal server start-dev`: loopback only, optional SQLite file with WAL
 * (so workflows survive a restart), and the platform's search attributes registered.
 * @param {{ port: number, uiPort: number, dbFile?: string, namespace: string, searchAttributes: { name: string, type: string }[], headless?: boolean }} options
 */
function devServerArgs(options) {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--namespace',
    options.namespace,
    // Its warnings are mostly shutdown chatter; errors still reach .data/logs/temporal.log.
    '--log-level',
    'error',
    '--log-format',
    'json',
    // An activity the workflow task schedules on its own task queue goes straight back to the
    // worker that completed the task when it has a free slot (no poll round trip).
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
  ];
  if (options.headless) args.push('--headless');
  if (options.dbFile) {
    args.push(
      '--db-filename',
      options.dbFile,
      '--sqlite-pragma',
      'journal_mode=WAL',
      '--sqlite-pragma',
      'synchronous=NORMAL',
    );
  }
  for (const attribute of options.searchAttributes)
    args.push('--search-attribute', `${attribute.name}=${cliType(attribute.type)}`);
  return args;
}

/** The CLI's name of a search attribute type (the SDK's KEYWORD_LIST is KeywordList there). @param {string} type */
function cliType(type) {
  return type.replace(/_/g, '');
}

/**
 * Waits until the frontend accepts gRPC calls, then makes sure every platform search
 * attribute exists (a data file made by an older version may lack newer ones).
 * @param {{ cli: string, address: string, namespace: string, searchAttributes: { name: string, type: string }[], timeoutMs: number }} options
 */
async function waitForTemporal(options) {
  const deadline = Date.now() + options.timeoutMs;
  const common = ['--address', options.address, '--namespace', options.namespace];
  let lastError = new Error('not tried');
  while (Date.now() < deadline) {
    try {
      const listed = await run(options.cli, ['operator', 'search-attribute', 'list', ...common, '--output', 'json'], {
        timeoutMs: 10_000,
      });
      const names = new Set(Object.keys(JSON.parse(listed).customAttributes ?? {}));
      for (const attribute of options.searchAttributes) {
        if (names.has(attribute.name)) continue;
        await run(
          options.cli,
          [
            'operator',
            'search-attribute',
            'create',
            ...common,
            '--name',
            attribute.name,
            '--type',
            cliType(attribute.type),
          ],
          { timeoutMs: 10_000 },
        );
      }
      return;
    } catch (error) {
      lastError = /** @type {Error} */ (error);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  throw new Error(`Temporal at ${options.address} did not become ready: ${lastError.message}`);
}

/** A free TCP port on 127.0.0.1 (for servers started by tests). @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** @param {number} port @param {string} [host] */
function isPortInUse(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

module.exports = { platformSearchAttributes, devServerArgs, waitForTemporal, freePort, isPortInUse };
