/**
 * Child processes of the issuance benchmark (see issuance-throughput.ts): start them with
 * their output kept (the tail only), wait for them, and stop every one of them at the end,
 * also when the benchmark fails or is interrupted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { withNice } from '../support/launcher';

/** Enough of a process's output to explain a failure, without holding a long run's logs. */
const OUTPUT_TAIL_BYTES = 64 * 1024;

export interface StackProcess {
  readonly name: string;
  readonly pid: number;
  /** The last OUTPUT_TAIL_BYTES of stdout and stderr, interleaved. */
  output(): string;
  /** Calls `listener` with every complete line of stdout. */
  onStdoutLine(listener: (line: string) => void): void;
  /** Calls `listener` with every complete line of stderr. */
  onStderrLine(listener: (line: string) => void): void;
  exitCode(): number | null;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last resort when the benchmark dies without its cleanup: no child outlives it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
}

function lineSplitter(listeners: Array<(line: string) => void>): (chunk: Buffer) => void {
  let partial = '';
  return (chunk) => {
    if (listeners.length === 0) return;
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) for (const listener of listeners) listener(line);
  };
}

export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; nice?: number },
): StackProcess {
  installExitHook();
  const line = withNice(command, args, options.nice ?? 0);
  const child = spawn(line.command, line.args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  running.add(child);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail += chunk.toString('utf8');
    if (tail.length > OUTPUT_TAIL_BYTES * 2) tail = tail.slice(-OUTPUT_TAIL_BYTES);
  };
  const stdoutListeners: Array<(line: string) => void> = [];
  const stderrListeners: Array<(line: string) => void> = [];
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.stdout.on('data', lineSplitter(stdoutListeners));
  child.stderr.on('data', lineSplitter(stderrListeners));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });
  const pid = child.pid;
  return {
    name,
    pid,
    output: () => tail.slice(-OUTPUT_TAIL_BYTES),
    onStdoutLine: (listener) => stdoutListeners.push(listener),
    onStderrLine: (listener) => stderrListeners.push(listener),
    exitCode: () => child.exitCode ?? (child.signalCode ? -1 : null),
    async stop(graceMs) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * Polls `probe` until it returns a value; fails early when one of `watched` exits (with its
 * output), or after `timeoutMs`.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; watched?: readonly StackProcess[] },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    for (const watched of options.watched ?? []) {
      if (watched.exitCode() !== null) {
        throw new Error(
          `${watched.name} exited (code ${watched.exitCode()}) while waiting for ${what}:\n${watched.output().slice(-4000)}`,
        );
      }
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `${what} did not happen within ${options.timeoutMs} ms${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}
