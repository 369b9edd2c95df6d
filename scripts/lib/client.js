// @ts-check
'use strict';
/**
 * The typed client (clients/typescript, @nova/client): its types are generated from the
 * OpenAPI document the API serves, which apps/api/dist/openapi-cli.js prints without serving
 * it, by openapi-typescript. The build writes them; TEST checks that the committed ones are
 * what the document gives now (a DTO changed without regenerating fails TEST).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { run } = require('./exec');
const { root } = require('./paths');

const CLIENT_DIR = path.join(root, 'clients', 'typescript');
/** The generated file, committed: the API's paths, operations and schemas as types. */
const SCHEMA_FILE = path.join(CLIENT_DIR, 'src', 'schema.ts');

/** The client's types generated from the API as built now (apps/api/dist). */
async function generatedSchema() {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nova-client-'));
  try {
    const documentFile = path.join(workDir, 'openapi.json');
    const schemaFile = path.join(workDir, 'schema.ts');
    fs.writeFileSync(
      documentFile,
      await run(process.execPath, [path.join(root, 'apps', 'api', 'dist', 'openapi-cli.js')], { cwd: root }),
    );
    await run(
      process.execPath,
      [path.join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), documentFile, '-o', schemaFile],
      { cwd: root },
    );
    return fs.readFileSync(schemaFile, 'utf8');
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** Regenerates clients/typescript/src/schema.ts; true when it changed. */
async function writeClientSchema() {
  const schema = await generatedSchema();
  const current = fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, 'utf8') : '';
  if (schema === current) return false;
  fs.writeFileSync(SCHEMA_FILE, schema);
  return true;
}

/** Fails when clients/typescript/src/schema.ts is not what the OpenAPI document gives now. */
async function checkClientSchema() {
  const schema = await generatedSchema();
  const current = fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, 'utf8') : '';
  if (schema === current) return;
  const ours = current.split('\n');
  const theirs = schema.split('\n');
  const line = ours.findIndex((text, i) => text !== theirs[i]);
  throw new Error(
    `${path.relative(root, SCHEMA_FILE)} is not what the API's OpenAPI document gives (first difference at line ${
      line + 1
    }: ${JSON.stringify(theirs[line] ?? '')}): run \`npm run build\` and commit it`,
  );
}

module.exports = { SCHEMA_FILE, writeClientSchema, checkClientSchema };
