import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The worker's one scrape target (GET /metrics on WORKER_METRICS_PORT): the platform's domain
 * metrics (@nova/activities `domainMetrics`), the database backlog gauges, Node's process
 * metrics, and the Temporal SDK's own worker metrics. Core (the SDK's Rust layer) serves those
 * from its own Prometheus exporter, which the worker binds to a loopback port of its own and
 * reads at each scrape, so Prometheus has one target per process, and Core's port is never
 * exposed.
 */
let processRegistry: Registry | undefined;

/** Node's process metrics (CPU, memory, event loop, GC), set up once per process on first use. */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** A loopback port free a moment ago, for Core's exporter (Core cannot report the port it bound). */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Core's Prometheus text, or a comment saying why it is missing (the rest of the scrape still counts). */
function readTemporalMetrics(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve(res.statusCode === 200 ? body : `# Temporal SDK metrics unavailable: HTTP ${res.statusCode}\n`),
      );
      res.on('error', (error) => resolve(`# Temporal SDK metrics unavailable: ${error.message}\n`));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve(`# Temporal SDK metrics unavailable: ${error.message}\n`));
    req.end();
  });
}

export interface MetricsServer {
  /** The port it listens on (the configured one, or the one the system chose for port 0 in tests). */
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: {
  host: string;
  port: number;
  registries: readonly Registry[];
  /** Core's exporter, e.g. http://127.0.0.1:40111/metrics. */
  temporalMetricsUrl?: string;
  onError?: (error: unknown) => void;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain' });
      res.end(path === '/metrics' ? 'GET only\n' : 'not found: metrics are at /metrics\n');
      return;
    }
    void (async () => {
      try {
        // A registry that cannot be read (the backlog gauges while PostgreSQL is down) leaves a
        // comment: the rest of the scrape, the Temporal SDK's pollers included, still counts.
        const parts = await Promise.all([
          ...options.registries.map((registry) =>
            registry.metrics().catch((error: unknown) => {
              options.onError?.(error);
              return `# metrics unavailable: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`;
            }),
          ),
          options.temporalMetricsUrl ? readTemporalMetrics(options.temporalMetricsUrl, 5_000) : Promise.resolve(''),
        ]);
        res.writeHead(200, { 'content-type': Registry.PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' });
        res.end(parts.map((part) => (part.endsWith('\n') || part === '' ? part : `${part}\n`)).join(''));
      } catch (error) {
        options.onError?.(error);
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
