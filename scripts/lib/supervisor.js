// @ts-check
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { withNice } = require('./priority');

/**
 * Starts long-running child processes, copies their output to a log file (and, optionally,
 * the console with a name prefix), and stops them in reverse order: SIGTERM, then SIGKILL
 * after a grace period. Children get their own process group, so a Ctrl-C reaches only the
 * supervisor, which then shuts them down in order (API before worker before servers).
 */
class Supervisor {
  /** @param {{ logDir: string, echo: boolean }} options */
  constructor(options) {
    this.options = options;
    /** @type {{ name: string, child: import('node:child_process').ChildProcess, exited: Promise<number | null> }[]} */
    this.children = [];
    this.stopping = false;
    /** @type {(name: string, code: number | null) => void} */
    this.onUnexpectedExit = () => {};
  }

  /**
   * @param {string} name
   * @param {string} command
   * @param {string[]} args
   * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, nice?: number }} [options] nice: a lower CPU priority (see priority.js)
   */
  start(name, command, args, options = {}) {
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
        if (!this.stopping) this.onUnexpectedExit(name, code ?? (signal ? 128 : null));
        resolve(code);
      });
      child.on('error', (error) => {
        log.write(`failed to start: ${error.message}\n`);
        resolve(null);
      });
    });
    this.children.push({ name, child, exited });
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

module.exports = { Supervisor };
