import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The API's Prometheus metrics (GET /metrics): every HTTP request by route template (never the
 * raw path, so ids do not make new series), method and status, with its latency; and Node's
 * process metrics. One registry per process, whatever number of Nest apps it builds (the
 * e2e tests build several).
 */
export const apiMetrics = new Registry();
collectDefaultMetrics({ register: apiMetrics });

const requestDuration = new Histogram({
  name: 'nova_http_request_duration_seconds',
  help: 'HTTP requests the API answered, by route template, method and status code (the _count series counts requests).',
  labelNames: ['route', 'method', 'status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [apiMetrics],
});

/** A request that matched no route (404, or refused by the request contract first): one series for all of them. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Express middleware, installed before Nest's router: it times every request, including the
 * ones a guard, pipe or the request contract refuses. Express keeps the matched route on the
 * request (`req.route.path`, e.g. /v1/rewards/issuances/:id).
 */
export function recordHttpRequests(req: Request, res: Response, next: NextFunction): void {
  const started = process.hrtime.bigint();
  res.once('finish', () => {
    const route = (req.route as { path?: unknown } | undefined)?.path;
    requestDuration.observe(
      {
        route: typeof route === 'string' ? route : UNMATCHED_ROUTE,
        method: req.method,
        status_code: String(res.statusCode),
      },
      Number(process.hrtime.bigint() - started) / 1e9,
    );
  });
  next();
}
