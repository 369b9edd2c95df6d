import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { contractDeployer } from '@nova/stellar-sandbox';
import { repositoryRoot } from './repository-root';

const repoRoot = repositoryRoot;

/** Where setup builds the native contract host (scripts/lib/contract-host.js), or NOVA_CONTRACT_HOST_BIN. */
export function contractHostBinary(): string | undefined {
  const target = process.env.CARGO_TARGET_DIR
    ? resolve(repoRoot, process.env.CARGO_TARGET_DIR)
    : resolve(repoRoot, 'target');
  const binary = process.env.NOVA_CONTRACT_HOST_BIN || resolve(target, 'host-release', 'nova-contract-host');
  return existsSync(binary) ? binary : undefined;
}

export interface RunningContractHost {
  url: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// Last resort if the test process dies without running its after hooks.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts nova-contract-host on a free loopback port, serving the real contracts at the ids a
 * sandbox with `networkPassphrase` deploys them at; resolves once it says where it listens.
 */
export async function startContractHost(options: {
  binary: string;
  statePath: string;
  networkPassphrase: string;
}): Promise<RunningContractHost> {
  const args = [
    '--port',
    '0',
    '--state',
    options.statePath,
    '--deployer',
    contractDeployer(options.networkPassphrase),
    '--network-passphrase',
    options.networkPassphrase,
  ];
  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  void exited.then(() => running.delete(child));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const port = await new Promise<string>((found, fail) => {
      let stdout = '';
      const timer = setTimeout(() => fail(new Error(`nova-contract-host did not start: ${stderr}`)), 15_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
        if (match?.[1]) {
          clearTimeout(timer);
          found(match[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`nova-contract-host exited with ${String(code)}: ${stderr}`));
      });
    });
    return { url: `http://127.0.0.1:${port}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
