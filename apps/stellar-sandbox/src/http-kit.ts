/** Minimal HTTP plumbing on node:http (no framework: the sandbox must start fast and stay small). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Problem } from './horizon-json';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Scheme + host the client used, for _links (Horizon links back to itself). */
  base: string;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/json; charset=utf-8',
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** Horizon's resources are HAL documents. */
export function sendHal(res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body, 'application/hal+json; charset=utf-8');
}

export function sendProblem(res: ServerResponse, problem: Problem, headers: Record<string, string> = {}): void {
  sendJson(res, problem.status, problem, 'application/problem+json; charset=utf-8', headers);
}

export class BodyTooLargeError extends Error {}

export function readBody(req: IncomingMessage, limitBytes = 1_048_576): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(new BodyTooLargeError(`request body over ${limitBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Sleeps that a shutdown can cut short, so no timer outlives the server. */
export class CancellableSleeps {
  private readonly active = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.active.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.active.add(finish);
    });
  }

  cancelAll(): void {
    for (const finish of [...this.active]) finish();
  }
}
