import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { required } from './environment';
import { repositoryRoot } from './repository-root';

const run = promisify(execFile);
const migrationsDir = resolve(repositoryRoot, 'prisma', 'migrations');

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

async function psql(url: string, args: string[]): Promise<void> {
  await run(join(required('NOVA_PG_BIN_DIR'), 'psql'), [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...args]);
}

/**
 * A database of the test file's own on the suite's PostgreSQL server, with the migrations
 * applied (the same SQL files `prisma migrate deploy` applies). For files that run a reconciler:
 * it re-drives whatever its database holds, as a deployment's does with its own, so it must not
 * see the hand-offs of other test files running at the same time against other workers.
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const shared = required('DATABASE_URL');
  const name = `nova_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomUUID().slice(0, 8)}`;
  await psql(shared, ['-c', `CREATE DATABASE "${name}"`]);
  const url = new URL(shared);
  url.pathname = `/${name}`;
  const files = readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .flatMap((migration) => ['-f', join(migrationsDir, migration, 'migration.sql')]);
  await psql(url.toString(), ['--single-transaction', ...files]);
  return {
    url: url.toString(),
    drop: () => psql(shared, ['-c', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`]),
  };
}
