/**
 * Optional CPU profiles of the API and the worker (BENCH_CPU_PROFILE=worker,api): node's
 * --cpu-prof writes a .cpuprofile when the process exits; this sums its self time by the
 * package (or workspace folder) the code belongs to, over the measured window only (profile
 * timestamps and process.hrtime both read the monotonic clock), so "where does the CPU go" is
 * measured rather than guessed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which package or workspace folder a script URL belongs to. */
function ownerOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: built-ins';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1]!;
  const inRepo = /\/(apps\/[^/]+|activities|workflows|config|prisma)\//.exec(url);
  if (inRepo) return inRepo[1]!;
  return url.replace(/^file:\/\//, '').slice(-60);
}

export interface ProfileSummary {
  file: string;
  /** Milliseconds of samples that were not idle. */
  busyMs: number;
  /** Owner -> share of the busy time, largest first. */
  shares: Array<[string, number]>;
}

/** The monotonic clock in microseconds, as profile timestamps count it. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function summariseProfiles(directory: string, window: { start: number; end: number }): ProfileSummary[] {
  let files: string[];
  try {
    files = readdirSync(directory).filter((name) => name.endsWith('.cpuprofile'));
  } catch {
    return [];
  }
  return files.map((file) => {
    const profile = JSON.parse(readFileSync(join(directory, file), 'utf8')) as CpuProfile;
    const owners = new Map(
      profile.nodes.map((node) => [node.id, ownerOf(node.callFrame.url, node.callFrame.functionName)]),
    );
    // Each sample is the node on top of the stack for the time until the next sample.
    const byOwner = new Map<string, number>();
    let at = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      at += profile.timeDeltas[i] ?? 0;
      const next = at + (profile.timeDeltas[i + 1] ?? 0);
      if (at < window.start || at > window.end) continue;
      const owner = owners.get(profile.samples[i]!) ?? '(unknown)';
      if (owner === '(idle)') continue;
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + (next - at));
    }
    const busyMicros = [...byOwner.values()].reduce((sum, micros) => sum + micros, 0);
    return {
      file,
      busyMs: busyMicros / 1000,
      shares: [...byOwner]
        .map(([owner, micros]): [string, number] => [owner, micros / Math.max(1, busyMicros)])
        .sort((a, b) => b[1] - a[1]),
    };
  });
}
