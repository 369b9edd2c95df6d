import { Keypair } from '@stellar/stellar-sdk';
import { loadApiConfig } from '@nova/config';
import { createApp, openApiDocument } from './app';

/**
 * Prints the OpenAPI document the API serves at /docs-json, without serving it: nothing is
 * reached (the database and Temporal clients connect lazily), so the build can run it. The
 * configuration is the embedded defaults (server http://localhost:3000) with placeholders for
 * what has no default; none of them appears in the document.
 */
async function main(): Promise<void> {
  const config = loadApiConfig({
    DATABASE_URL: 'postgresql://127.0.0.1:1/openapi-document',
    ADMIN_API_KEY: 'openapi-document-placeholder-admin-key',
    DISTRIBUTION_ACCOUNT: Keypair.random().publicKey(),
    NOVA_ASSET_ISSUER: Keypair.random().publicKey(),
    LOG_LEVEL: 'silent',
  });
  const app = await createApp(config);
  const document = openApiDocument(app, config);
  await app.close();
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`openapi-cli: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
