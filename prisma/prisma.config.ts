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

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'schema.prisma',
  migrations: { path: 'migrations' },
  async adapter() {
    const connectionString = process.env.DATABASE_URL;
    if (!connectionString) throw new Error('DATABASE_URL is required to run migrations');
    return new PrismaPg({ connectionString });
  },
});
