import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent (what a signature covers). */
  body: string;
  receivedAt: number;
}

/** How the receiver answers one request on a path. */
export type ReceiverAnswer =
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Never answers (until the receiver closes). */
  | { hang: true };

/**
 * A merchant's webhook receiver on 127.0.0.1: records every request, answers each path from a
 * script (the answers in order, the last one repeating; 200 when unscripted).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly scripts = new Map<string, ReceiverAnswer[]>();
  private readonly hanging = new Set<ServerResponse>();
  private server: Server | undefined;
  private port = 0;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = (request.url ?? '/').split('?')[0]!;
        this.received.push({
          path,
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          receivedAt: Date.now(),
        });
        const script = this.scripts.get(path) ?? [];
        const answer = script.length > 1 ? script.shift()! : (script[0] ?? { status: 200 });
        if ('hang' in answer) {
          this.hanging.add(response);
          return;
        }
        response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        response.end(answer.body ?? 'ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** The URL of a path on this receiver. */
  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Answers for `path`, in order; the last one repeats. */
  answer(path: string, ...answers: ReceiverAnswer[]): void {
    this.scripts.set(path, answers);
  }

  on(path: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Answers the requests left hanging (with `status`), as a receiver that comes back would. */
  release(status = 200): void {
    for (const response of this.hanging) {
      if (!response.writableEnded && !response.destroyed) response.writeHead(status).end('late');
    }
    this.hanging.clear();
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.hanging.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
