/**
 * The HTTP server: /sandbox/* control endpoints (never faulted), request-level faults
 * (stopResponding, rateLimit), then Soroban RPC or the Horizon routes.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { handleControl, CONTROL_PREFIX, type ControlDependencies } from './control-routes';
import type { FaultRegistry } from './faults';
import { problems } from './horizon-json';
import { routeHorizon, type HorizonDependencies } from './horizon-routes';
import { BodyTooLargeError, sendProblem, type RequestContext } from './http-kit';
import { handleRpc, RPC_PATH, type RpcDependencies } from './soroban-rpc';

export interface SandboxServerDependencies {
  faults: FaultRegistry;
  control: ControlDependencies;
  horizon: Omit<HorizonDependencies, 'hang'>;
  rpc: Omit<RpcDependencies, 'hang'>;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export interface SandboxServer {
  server: Server;
  /** Drops the connections of requests left unanswered by stopResponding. */
  releaseHungRequests(): void;
}

export function createSandboxServer(deps: SandboxServerDependencies): SandboxServer {
  const hung = new Set<ServerResponse>();
  const hang = (ctx: RequestContext): void => {
    // Accept the request and never answer: the client's own timeout is what it will see.
    hung.add(ctx.res);
    ctx.res.on('close', () => hung.delete(ctx.res));
  };
  const releaseHungRequests = (): void => {
    for (const res of hung) res.destroy();
    hung.clear();
  };
  deps.faults.onCleared(() => {
    if (!deps.faults.list().some((fault) => fault.kind === 'stopResponding')) releaseHungRequests();
  });

  const horizon: HorizonDependencies = { ...deps.horizon, hang };
  const rpc: RpcDependencies = { ...deps.rpc, hang };

  const server = createServer((req, res) => {
    const host = req.headers.host ?? '127.0.0.1';
    const ctx: RequestContext = { req, res, url: new URL(req.url ?? '/', `http://${host}`), base: `http://${host}` };
    void route(ctx).catch((error: unknown) => {
      if (error instanceof BodyTooLargeError) return;
      deps.log('error', 'request failed', {
        method: req.method,
        path: ctx.url.pathname,
        error: (error as Error).message,
      });
      sendProblem(res, problems.serverError('the sandbox could not process this request'));
    });
  });

  async function route(ctx: RequestContext): Promise<void> {
    const path = ctx.url.pathname;
    if (path.startsWith(CONTROL_PREFIX)) return handleControl(ctx, deps.control);
    if (deps.faults.takeForRequest('stopResponding')) {
      deps.log('info', 'fault fired', { fault: 'stopResponding', path });
      return hang(ctx);
    }
    const rateLimit = deps.faults.takeForRequest('rateLimit');
    if (rateLimit) {
      deps.log('info', 'fault fired', { fault: 'rateLimit', path });
      const seconds = String(rateLimit.retryAfterSeconds ?? 1);
      return sendProblem(ctx.res, problems.rateLimitExceeded(), {
        'Retry-After': seconds,
        'X-Ratelimit-Limit': '3600',
        'X-Ratelimit-Remaining': '0',
        'X-Ratelimit-Reset': seconds,
      });
    }
    if (path === RPC_PATH || path === `${RPC_PATH}/`) return handleRpc(ctx, rpc);
    if (await routeHorizon(ctx, horizon)) return;
    sendProblem(ctx.res, problems.notFound());
  }

  return { server, releaseHungRequests };
}
