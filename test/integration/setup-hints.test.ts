import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { required } from '../support/environment';

interface Cluster {
  binDir: string;
  dataDir: string;
  port: number;
  logFile: string;
  durable?: boolean;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const postgres = require(resolve(__dirname, '..', '..', 'scripts', 'lib', 'postgres.js')) as {
  startCluster(cluster: Cluster): Promise<string>;
  stopCluster(cluster: Cluster): Promise<void>;
};

// Setup's failures say what went wrong and what to do, not only "examine the log output".
describe('setup failure hints', () => {
  it('a PostgreSQL port already in use: the log lines of that start and a hint naming NOVA_PG_PORT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nova-hints-'));
    chmodSync(dir, 0o755); // PostgreSQL runs as its own user and must reach its folder
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const port = (taken.address() as { port: number }).port;
    const cluster: Cluster = {
      binDir: required('NOVA_PG_BIN_DIR'),
      dataDir: join(dir, 'postgres'),
      port,
      logFile: join(dir, 'logs', 'postgres.log'),
      durable: false,
    };
    try {
      const failure = await postgres.startCluster(cluster).then(
        () => assert.fail('the port is taken: the start must fail'),
        (error: Error) => error,
      );
      assert.match(failure.message, /pg_ctl .* exited with 1/);
      assert.match(failure.message, new RegExp(`last lines of ${cluster.logFile.replace(/[.]/g, '\\.')}:`));
      assert.match(failure.message, /Address already in use/);
      assert.match(failure.message, /\nhint: the PostgreSQL port is taken .*set NOVA_PG_PORT to a free port/);
    } finally {
      await new Promise<void>((done) => taken.close(() => done()));
      await postgres.stopCluster(cluster).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
