/**
 * Output, statistics and HTTP helpers shared by the issuance benchmark's files.
 */

export function say(message: string): void {
  process.stdout.write(`[bench] ${message}\n`);
}

export async function step<T>(what: string, action: () => Promise<T>): Promise<T> {
  const started = Date.now();
  say(`${what} ...`);
  const result = await action();
  say(`${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export const mean = (values: readonly number[]) =>
  values.length === 0 ? NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
export const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : '-');
export const secs = (value: number) => (Number.isFinite(value) ? `${(value / 1000).toFixed(2)} s` : '-');
export const mib = (kib: number) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(0)} MiB` : '-');
export const pct = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)}%` : '-');
export const triple = (values: readonly number[], unit: (value: number) => string) =>
  `${unit(percentile(values, 50))} / ${unit(percentile(values, 95))} / ${unit(percentile(values, 99))}`;

export function table(rows: readonly (readonly string[])[]): void {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  for (const row of rows)
    say(
      `  ${row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}`,
    );
}

/** A decimal NOVA amount as stroops (7 decimals). */
export function stroops(amount: string): bigint {
  const [whole = '0', fraction = ''] = amount.split('.');
  return BigInt(whole) * 10_000_000n + BigInt(fraction.padEnd(7, '0').slice(0, 7));
}

// ---------------------------------------------------------------- HTTP

export interface HttpResult<T> {
  status: number;
  body: T;
}

export async function http<T>(
  method: 'GET' | 'POST',
  url: string,
  options: { apiKey?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<HttpResult<T>> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the error message.
  }
  return { status: response.status, body: body as T };
}

export async function expectStatus<T>(what: string, expected: number, call: Promise<HttpResult<T>>): Promise<T> {
  const result = await call;
  if (result.status !== expected) {
    throw new Error(`${what}: expected ${expected}, got ${result.status} ${JSON.stringify(result.body).slice(0, 500)}`);
  }
  return result.body;
}
