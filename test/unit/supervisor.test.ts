import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface SupervisorLike {
  onRestart: (name: string, code: number | null, delayMs: number, restarts: number) => void;
  onGiveUp: (name: string, code: number | null, exits: number) => void;
  start(name: string, command: string, args: string[]): { pid?: number };
  tail(name: string, count: number): string;
  stopAll(graceMs: number): Promise<void>;
}
type SupervisorClass = new (options: {
  logDir: string;
  echo: boolean;
  restart?: { maxExits?: number; windowMs?: number; firstDelayMs?: number; maxDelayMs?: number };
}) => SupervisorLike;

// START's supervisor (scripts/lib/supervisor.js), with real child processes.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Supervisor } = require(resolve(__dirname, '..', '..', 'scripts', 'lib', 'supervisor.js')) as {
  Supervisor: SupervisorClass;
};

describe("START's supervisor", () => {
  it('starts a child that died again, with backoff, and it stays up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nova-supervisor-'));
    const marker = join(dir, 'crashed-once');
    const supervisor = new Supervisor({ logDir: dir, echo: false, restart: { firstDelayMs: 50 } });
    const restarts: [string, number | null, number, number][] = [];
    supervisor.onRestart = (...args) => restarts.push(args);
    supervisor.onGiveUp = () => assert.fail('a child that recovers is never given up on');
    // Dies the first time (as a kill -9 would leave it), runs for good the second.
    const script = `const fs=require('fs');if(!fs.existsSync(${JSON.stringify(marker)})){fs.writeFileSync(${JSON.stringify(marker)},'');console.log('crashing');process.exit(9)}console.log('up again');setInterval(()=>{},1000)`;
    try {
      supervisor.start('part', process.execPath, ['-e', script]);
      const deadline = Date.now() + 20_000;
      while (!supervisor.tail('part', 5).includes('up again') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(existsSync(marker));
      assert.deepEqual(restarts, [['part', 9, 50, 1]]);
      assert.match(supervisor.tail('part', 5), /crashing\nup again/);
    } finally {
      await supervisor.stopAll(2_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up on a child that keeps dying within the window, its last log lines at hand', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nova-supervisor-'));
    const supervisor = new Supervisor({
      logDir: dir,
      echo: false,
      restart: { maxExits: 3, windowMs: 30_000, firstDelayMs: 20, maxDelayMs: 40 },
    });
    const delays: number[] = [];
    supervisor.onRestart = (_name, _code, delayMs) => delays.push(delayMs);
    try {
      const gaveUp = new Promise<[string, number | null, number]>((resolve) => {
        supervisor.onGiveUp = (...args) => resolve(args);
      });
      supervisor.start('broken', process.execPath, ['-e', "console.error('cannot bind port 5432'); process.exit(2)"]);
      assert.deepEqual(await gaveUp, ['broken', 2, 3]);
      assert.deepEqual(delays, [20, 40], 'backoff doubles, capped');
      assert.match(supervisor.tail('broken', 20), /cannot bind port 5432/);
    } finally {
      await supervisor.stopAll(2_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
