import './tracing';
import { ConfigError, loadApiConfig } from '@nova/config';
import { Logger } from 'nestjs-pino';
import { createApp } from './app';

async function main(): Promise<void> {
  let config;
  try {
    config = loadApiConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`nova-api: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const app = await createApp(config);
  await app.listen(config.http.port, config.http.host);
  app.get(Logger).log(`API listening on http://${config.http.host}:${config.http.port} (docs at /docs)`);
}

main().catch((error: unknown) => {
  process.stderr.write(`nova-api: fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
