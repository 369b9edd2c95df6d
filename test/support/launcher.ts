import { resolve } from 'node:path';
import { repositoryRoot } from './repository-root';

/**
 * The launcher's own helpers (scripts/lib, plain JavaScript), typed for the tests and benchmarks,
 * so that they start servers exactly as `npm start` does.
 */
const lib = resolve(repositoryRoot, 'scripts/lib');

/* eslint-disable @typescript-eslint/no-require-imports */
export const { freePort, devServerArgs } = require(`${lib}/temporal-server.js`) as {
  /** A loopback port that was free a moment ago: for servers a test starts, or a refused connection. */
  freePort(): Promise<number>;
  /** Arguments for `temporal server start-dev` as START passes them. */
  devServerArgs(options: {
    port: number;
    uiPort: number;
    dbFile?: string;
    namespace: string;
    searchAttributes: readonly { name: string; type: string }[];
    headless?: boolean;
  }): string[];
};

export const { backgroundNice, withNice } = require(`${lib}/priority.js`) as {
  /** NOVA_BACKGROUND_NICE: the worker's and dev server's lower CPU priority under START. */
  backgroundNice(env?: NodeJS.ProcessEnv): number;
  /** The command line that starts `command` at niceness `nice`. */
  withNice(command: string, args: readonly string[], nice: number): { command: string; args: string[] };
};
/* eslint-enable @typescript-eslint/no-require-imports */
