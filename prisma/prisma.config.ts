import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

/*
 * Offline Prisma 6.19: the WebAssembly schema engine runs migrations through the pg driver
 * adapter, so no engine binary is downloaded. See shared TOOLCHAIN notes.
 */

// Work around prisma/orm#27403: the pg adapter refuses PostgreSQL `name` columns (oid 19),
// which the schema engine reads from the catalog during `migrate deploy`. Report them as text
// (oid 25). Only this migration config carries the shim; the application client never sees it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PgResult = require('pg/lib/result') as { prototype: { addFields(fields: { dataTypeID: number }[]): void } };
const addFields = PgResult.prototype.addFields;
PgResult.prototype.addFields = function (fields) {
  for (const field of fields) if (field.dataTypeID === 19) field.dataTypeID = 25;
  return addFields.call(this, fields);
};

type MigrationAdapter = {
  executeScript(script: string): Promise<void>;
  underlyingDriver(): { query(sql: string): Promise<unknown> };
  onError(error: unknown): never;
};

// The pg adapter runs a migration by splitting its script at every ";" (@prisma/adapter-pg 6.19,
// executeScript), which cuts a PL/pgSQL function body apart (prisma/orm#22495: "unterminated
// dollar-quoted string"). Send each script whole instead: PostgreSQL runs a multi-statement query
// as one implicit transaction, so a migration is also applied entirely or not at all, as the
// tests apply them (psql --single-transaction). Migration config only, like the shim above.
function wholeScripts(factory: PrismaPg): PrismaPg {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const connected = await connect();
    const adapter = connected as unknown as MigrationAdapter;
    adapter.executeScript = async (script) => {
      try {
        await adapter.underlyingDriver().query(script);
      } catch (error) {
        adapter.onError(error);
      }
    };
    return connected;
  };
  return factory;
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'schema.prisma',
  migrations: { path: 'migrations' },
  async adapter() {
    const connectionString = process.env.DATABASE_URL;
    if (!connectionString) throw new Error('DATABASE_URL is required to run migrations');
    return wholeScripts(new PrismaPg({ connectionString }));
  },
});
