// @ts-check
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { spawn } = require('node:child_process');
const { withNice } = require('./priority');

/**
 * @typedef {{ env?: NodeJS.ProcessEnv, cwd?: string, nice?: number }} ChildOptions
 * @typedef {{ maxExits: number, windowMs: number, firstDelayMs: number, maxDelayMs: number }} RestartPolicy
 */

/** A child that dies is started again after 1 s, 2 s, 4 s ... (at most 15 s); 5 deaths within a minute: give up. */
const DEFAULT_RESTART = { maxExits: 5, windowMs: 60_000, firstDelayMs: 1_000, maxDelayMs: 15_000 };

/**
 * Starts long-running child processes, copies their output to a log file (and, optionally,
 * the console with a name prefix), and stops them in reverse order: SIGTERM, then SIGKILL
 * after a grace period. Children get their own process group, so a Ctrl-C reaches only the
 * supervisor, which then shuts them down in order (API before worker before servers).
 *
 * A child that exits on its own is started again with backoff (onRestart tells), so one
 * crashing part never takes the others down; one that keeps dying (maxExits within windowMs)
 * is given up on (onGiveUp), and the caller decides what that means.
 */
class Supervisor {
  /** @param {{ logDir: string, echo: boolean, restart?: Partial<RestartPolicy> }} options */
  constructor(options) {
    this.options = options;
    /** @type {RestartPolicy} */
    this.restart = { ...DEFAULT_RESTART, ...options.restart };
    /** @type {{ name: string, child: import('node:child_process').ChildProcess, exited: Promise<number | null> }[]} */
    this.children = [];
    /** @type {Map<string, { command: string, args: string[], options: ChildOptions, exits: number[], timer?: NodeJS.Timeout }>} */
    this.specs = new Map();
    this.stopping = false;
    /** @type {(name: string, code: number | null, delayMs: number, restarts: number) => void} */
    this.onRestart = () => {};
    /** @type {(name: string, code: number | null, exits: number) => void} */
    this.onGiveUp = () => {};
  }

  /**
   * @param {string} name
   * @param {string} command
   * @param {string[]} args
   * @param {ChildOptions} [options] nice: a lower CPU priority (see priority.js)
   */
  start(name, command, args, options = {}) {
    this.specs.set(name, { command, args, options, exits: [] });
    return this.spawnChild(name);
  }

  /** @param {string} name @param {number | null} code */
  childDied(name, code) {
    const spec = this.specs.get(name);
    if (!spec || this.stopping) return;
    const now = Date.now();
    spec.exits = [...spec.exits.filter((at) => now - at < this.restart.windowMs), now];
    if (spec.exits.length >= this.restart.maxExits) {
      this.onGiveUp(name, code, spec.exits.length);
      return;
    }
    const delayMs = Math.min(this.restart.firstDelayMs * 2 ** (spec.exits.length - 1), this.restart.maxDelayMs);
    this.onRestart(name, code, delayMs, spec.exits.length);
    spec.timer = setTimeout(() => {
      spec.timer = undefined;
      if (!this.stopping) this.spawnChild(name);
    }, delayMs);
  }

  /** @param {string} name */
  spawnChild(name) {
    const spec = /** @type {NonNullable<ReturnType<Supervisor['specs']['get']>>} */ (this.specs.get(name));
    const { command, args, options } = spec;
    fs.mkdirSync(this.options.logDir, { recursive: true });
    const log = fs.createWriteStream(path.join(this.options.logDir, `${name}.log`), { flags: 'a' });
    const line = withNice(command, args, options.nice ?? 0);
    const child = spawn(line.command, line.args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const prefix = `${name.padEnd(8)}| `;
    let pending = '';
    /** @param {Buffer} chunk */
    const forward = (chunk) => {
      log.write(chunk);
      if (!this.options.echo) return;
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) process.stdout.write(prefix + line + '\n');
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    const exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        log.end();
        resolve(code);
        if (!this.stopping) this.childDied(name, code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : null));
      });
      child.on('error', (error) => {
        log.write(`failed to start: ${error.message}\n`);
        resolve(null);
      });
    });
    const entry = { name, child, exited };
    const index = this.children.findIndex((c) => c.name === name);
    if (index >= 0) this.children[index] = entry;
    else this.children.push(entry);
    return child;
  }

  /** @param {string} name */
  logFile(name) {
    return path.join(this.options.logDir, `${name}.log`);
  }

  /** The last lines a child wrote, or '' if it wrote nothing. @param {string} name @param {number} count */
  tail(name, count) {
    try {
      return fs.readFileSync(this.logFile(name), 'utf8').trimEnd().split('\n').slice(-count).join('\n');
    } catch {
      return '';
    }
  }

  /** Stops every child, last started first. @param {number} graceMs */
  async stopAll(graceMs) {
    this.stopping = true;
    for (const spec of this.specs.values()) if (spec.timer) clearTimeout(spec.timer);
    for (const { child, exited } of [...this.children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        continue;
      }
      const timer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, graceMs);
      await exited;
      clearTimeout(timer);
    }
    this.children = [];
  }
}

module.exports = { Supervisor, DEFAULT_RESTART };
