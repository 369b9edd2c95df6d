/**
 * CPU and memory of the benchmark's processes, read from /proc (Linux): VmRSS and CPU ticks
 * sampled every second, VmHWM (peak RSS) read at the end, the PostgreSQL backends that serve
 * the benchmark's database (found by the database name in their process title), and the
 * whole machine's CPU, so that load from anything else on the machine shows up too.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = (() => {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number(result.stdout?.trim());
  return Number.isInteger(value) && value > 0 ? value : 100;
})();

export interface MemoryStatus {
  rssKiB: number;
  /** The kernel's high-water mark of the resident set: the process's peak RSS. */
  hwmKiB: number;
}

export function readMemory(pid: number): MemoryStatus | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

/** User + system CPU time of a process, in clock ticks. */
function readCpuTicks(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
}

/** Busy and total CPU ticks of the whole machine (all cores). */
function readMachineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** PostgreSQL backends whose process title names `database` ("postgres: user db host(port) state"). */
function postgresBackendsOf(database: string): number[] {
  const pids: number[] = [];
  const title = new RegExp(`^postgres: \\S+ ${database.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (title.test(cmdline)) pids.push(Number(entry));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return pids;
}

interface Sample {
  at: number;
  /** Per watched process: resident set (KiB) and CPU ticks so far. */
  processes: Map<string, { rssKiB: number; ticks: number }>;
  machine: { busy: number; total: number };
}

export interface CpuFigures {
  /** Mean CPU over the window, in percent of one core. */
  meanPercent: number;
  /** The busiest 5 s within the window, in percent of one core. */
  peakPercent: number;
}

export const POSTGRES = 'postgres';
export const MACHINE = 'machine';

export class ResourceSampler {
  private readonly samples: Sample[] = [];
  private readonly postgresTicks = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Name -> pid of the processes to watch. */
    private readonly watched: ReadonlyMap<string, number>,
    /** The benchmark's database: its backends' CPU is summed as POSTGRES. */
    private readonly database: string,
  ) {}

  start(intervalMs = 1_000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  /** Takes a sample now (e.g. at the edge of the measured window) and returns its time. */
  sample(): number {
    const processes = new Map<string, { rssKiB: number; ticks: number }>();
    for (const [name, pid] of this.watched) {
      const memory = readMemory(pid);
      const ticks = readCpuTicks(pid);
      if (memory && ticks !== undefined) processes.set(name, { rssKiB: memory.rssKiB, ticks });
    }
    // Backends come and go with the pools; a gone backend keeps its last count, so the sum only grows.
    for (const pid of postgresBackendsOf(this.database)) {
      const ticks = readCpuTicks(pid);
      if (ticks !== undefined) this.postgresTicks.set(pid, ticks);
    }
    let postgres = 0;
    for (const ticks of this.postgresTicks.values()) postgres += ticks;
    processes.set(POSTGRES, { rssKiB: NaN, ticks: postgres });
    const at = Date.now();
    this.samples.push({ at, processes, machine: readMachineTicks() });
    return at;
  }

  /** The largest VmRSS sampled for `name` (KiB). */
  maxSampledRss(name: string): number {
    let max = NaN;
    for (const sample of this.samples) {
      const rss = sample.processes.get(name)?.rssKiB;
      if (rss !== undefined && !(rss <= max)) max = rss;
    }
    return max;
  }

  /** CPU of a watched process, POSTGRES, or MACHINE (all cores, everything running) between two instants. */
  cpu(name: string, from: number, to: number): CpuFigures {
    const window = this.samples.filter((sample) => sample.at >= from && sample.at <= to);
    const ticksOf = (sample: Sample) =>
      name === MACHINE ? sample.machine.busy : (sample.processes.get(name)?.ticks ?? NaN);
    const percent = (a: Sample, b: Sample) => {
      const seconds = (b.at - a.at) / 1000;
      return seconds > 0 ? ((ticksOf(b) - ticksOf(a)) / CLOCK_TICKS_PER_SECOND / seconds) * 100 : NaN;
    };
    const first = window[0];
    const last = window[window.length - 1];
    if (!first || !last || first === last) return { meanPercent: NaN, peakPercent: NaN };
    let peakPercent = NaN;
    for (let i = 0, j = 0; i < window.length; i++) {
      while (j < window.length - 1 && window[j]!.at - window[i]!.at < 5_000) j++;
      if (window[j]!.at - window[i]!.at < 4_500) break;
      const value = percent(window[i]!, window[j]!);
      if (!(value <= peakPercent)) peakPercent = value;
    }
    return { meanPercent: percent(first, last), peakPercent };
  }
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}
