/**
 * The Temporal dev server's own view of a run, from its Prometheus endpoint (--metrics-port):
 * time spent per gRPC operation (service_latency) and per persistence operation
 * (persistence_latency), and how often a poll found a task waiting for it. Two scrapes, the
 * difference is the run.
 */

/** `${metric}|${service}:${operation}` -> value, summed over every other label. */
export type MetricsScrape = Map<string, number>;

const WANTED = new Set([
  'service_latency_sum',
  'service_latency_count',
  'persistence_latency_sum',
  'persistence_latency_count',
  'poll_success',
  'poll_success_sync',
  'poll_timeouts',
]);

export async function scrapeTemporalMetrics(url: string): Promise<MetricsScrape> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  const scrape: MetricsScrape = new Map();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || !WANTED.has(match[1]!)) continue;
    const operation = /(?:^|,)operation="([^"]*)"/.exec(match[2] ?? '')?.[1] ?? '';
    const service = /(?:^|,)service_name="([^"]*)"/.exec(match[2] ?? '')?.[1] ?? '';
    const key = `${match[1]}|${service}:${operation}`;
    scrape.set(key, (scrape.get(key) ?? 0) + Number(match[3]));
  }
  return scrape;
}

export interface OperationFigures {
  operation: string;
  count: number;
  totalMs: number;
  meanMs: number;
}

export interface TemporalFigures {
  /** gRPC calls the frontend served (what clients and workers wait for), busiest first; long polls left out. */
  service: OperationFigures[];
  /** Persistence (SQLite in the dev server) operations, busiest first. */
  persistence: OperationFigures[];
  /** Share of task polls answered by a task handed over directly (sync match). */
  polls: { answered: number; sync: number; timedOut: number };
}

function operations(before: MetricsScrape, after: MetricsScrape, metric: string, service?: string): OperationFigures[] {
  const figures: OperationFigures[] = [];
  for (const [key, value] of after) {
    const [name, operation = ''] = key.split('|');
    if (name !== `${metric}_sum` || /:Poll/.test(operation)) continue;
    if (service !== undefined && !operation.startsWith(`${service}:`)) continue;
    const count = (after.get(`${metric}_count|${operation}`) ?? 0) - (before.get(`${metric}_count|${operation}`) ?? 0);
    const totalMs = (value - (before.get(key) ?? 0)) * 1000;
    if (count > 0) figures.push({ operation, count, totalMs, meanMs: totalMs / count });
  }
  return figures.sort((a, b) => b.totalMs - a.totalMs);
}

export function compareScrapes(before: MetricsScrape, after: MetricsScrape): TemporalFigures {
  const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
  const sum = (metric: string) =>
    [...after.keys()].filter((key) => key.startsWith(`${metric}|`)).reduce((total, key) => total + delta(key), 0);
  return {
    service: operations(before, after, 'service_latency', 'frontend'),
    persistence: operations(before, after, 'persistence_latency'),
    polls: { answered: sum('poll_success'), sync: sum('poll_success_sync'), timedOut: sum('poll_timeouts') },
  };
}
