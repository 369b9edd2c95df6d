/**
 * CLI: `node apps/stellar-sandbox/dist/src/main.js`, configured by SANDBOX_* variables.
 * stdout carries exactly one line (the listening URL) so scripts can wait for it; the JSON
 * log lines go to stderr.
 */
import { ConfigError, optionsFromEnv, startSandbox, type LogRecord, type SandboxOptions } from './index';

function writeLog(record: LogRecord): void {
  process.stderr.write(`${JSON.stringify(record)}\n`);
}

async function main(): Promise<void> {
  let options: SandboxOptions;
  try {
    options = optionsFromEnv(process.env, process.cwd());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`stellar-sandbox: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({ ...options, log: writeLog });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') {
      process.stderr.write(
        `stellar-sandbox: cannot listen on SANDBOX_HOST=${options.host ?? ''} SANDBOX_PORT=${String(options.port)}: ${(error as Error).message}\n`,
      );
      process.exit(2);
    }
    throw error;
  }
  process.stdout.write(`stellar-sandbox listening on ${sandbox.url}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    writeLog({ level: 'info', msg: 'shutting down', signal, time: new Date().toISOString() });
    sandbox.close().then(
      () => process.exit(0),
      (error: unknown) => {
        writeLog({
          level: 'error',
          msg: 'shutdown failed',
          error: (error as Error).message,
          time: new Date().toISOString(),
        });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  writeLog({
    level: 'error',
    msg: 'stellar-sandbox failed to start',
    error: (error as Error).message,
    time: new Date().toISOString(),
  });
  process.exit(1);
});
