import dns, { type LookupAddress, type LookupAllOptions } from 'node:dns';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';
import {
  addressRefusal,
  isAllowlistedHost,
  webhookUrlRefusal,
  type WebhookAllowlist,
} from '@nova/domain/webhook-addresses';
import { systemClock, type Clock } from '../clock';

/** One webhook to a merchant's endpoint, as every attempt sends it. */
export interface WebhookMessage {
  url: string;
  /** The `webhook-id` header: the same on every attempt, so the receiver can drop duplicates. */
  webhookId: string;
  /** The exact JSON sent (and signed). */
  body: string;
  /** `whsec_...` secrets: one, or two while a rotation overlaps; each signs the attempt. */
  secrets: string[];
}

export type WebhookAttemptErrorKind = 'timeout' | 'network' | 'address-refused' | 'redirect' | 'status';

export interface WebhookAttemptResult {
  /** The webhook-timestamp header sent (whole seconds): the time the attempt started. */
  timestamp: Date;
  latencyMs: number;
  /** The response status, when one came back. */
  status?: number;
  /** Why there was no usable 2xx; absent when the receiver answered 2xx. */
  errorKind?: WebhookAttemptErrorKind;
  /** The reason, for people: "no response within 15 s", "address 10.0.0.1 is private ...". */
  error?: string;
  /** The first 1 KB of the response body (UTF-8, leniently decoded). */
  responseBody?: string;
  /** The response's Retry-After in seconds (delta-seconds or HTTP-date), when present and valid. */
  retryAfterSeconds?: number;
}

/** A dns.lookup that answers every address of a name (the sender always asks for all of them). */
export type WebhookLookup = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export interface WebhookSenderOptions {
  allowlist: WebhookAllowlist;
  /** The whole attempt: connect, request, response headers and the first 1 KB of the body. */
  timeoutMs: number;
  clock?: Clock;
  /** Name resolution (tests resolve made-up names); dns.lookup by default. */
  lookup?: WebhookLookup;
}

const RESPONSE_BODY_LIMIT = 1024;
const USER_AGENT = 'NovaRewards-Webhooks/1';

/** Raised inside the connection's lookup when a resolved address is refused. */
class WebhookAddressRefused extends Error {}

type AttemptOutcome = Omit<WebhookAttemptResult, 'timestamp' | 'latencyMs'>;

/**
 * Delivers one attempt of a webhook, signed per Standard Webhooks with the `standardwebhooks`
 * package, and never into the platform's own network: the URL is checked first (a literal
 * address never reaches `lookup`), every address the name resolves to is checked inside the
 * connection's own lookup (so the address checked is the address connected to, resolved afresh
 * at every attempt), redirects are not followed and no connection is reused.
 */
export class WebhookSender {
  private readonly allowlist: WebhookAllowlist;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly lookup: WebhookLookup;

  constructor(options: WebhookSenderOptions) {
    this.allowlist = options.allowlist;
    this.timeoutMs = options.timeoutMs;
    this.clock = options.clock ?? systemClock;
    this.lookup = options.lookup ?? dns.lookup;
  }

  /** The headers an attempt started at `at` carries. */
  headersFor(message: WebhookMessage, at: Date): Record<string, string> {
    if (message.secrets.length === 0) throw new Error(`webhook ${message.webhookId} has no signing secret`);
    return {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': message.webhookId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': message.secrets
        .map((secret) => new Webhook(secret).sign(message.webhookId, at, message.body))
        .join(' '),
    };
  }

  /** One attempt. Never throws for anything the receiver or the network does; returns the outcome. */
  async send(message: WebhookMessage): Promise<WebhookAttemptResult> {
    const startedAt = this.clock.now();
    const started = performance.now();
    const outcome = await this.attempt(message, startedAt);
    return {
      timestamp: new Date(Math.floor(startedAt.getTime() / 1000) * 1000),
      latencyMs: Math.round(performance.now() - started),
      ...outcome,
    };
  }

  private attempt(message: WebhookMessage, startedAt: Date): Promise<AttemptOutcome> {
    const refusal = webhookUrlRefusal(message.url, this.allowlist);
    if (refusal !== undefined) return Promise.resolve({ errorKind: 'address-refused', error: refusal });
    const url = new URL(message.url);
    const body = Buffer.from(message.body, 'utf8');
    const headers = { ...this.headersFor(message, startedAt), 'content-length': String(body.length) };
    const transport = url.protocol === 'https:' ? https : http;

    return new Promise((resolve) => {
      let status: number | undefined;
      let responseHeaders: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let received = 0;
      let settled = false;
      const finish = (outcome: AttemptOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // The rest of the body is not wanted: closing the socket discards it.
        request.destroy();
        resolve(outcome);
      };
      const answered = () => finish(this.outcomeOf(status!, responseHeaders, responseText(chunks)));

      const request = transport.request(
        url,
        { method: 'POST', headers, agent: false, lookup: this.checkedLookup(url.hostname) },
        (response) => {
          status = response.statusCode ?? 0;
          responseHeaders = response.headers;
          response.on('data', (chunk: Buffer) => {
            const room = RESPONSE_BODY_LIMIT - received;
            if (room > 0) chunks.push(chunk.subarray(0, room));
            received += Math.min(room, chunk.length);
            if (received >= RESPONSE_BODY_LIMIT) answered();
          });
          // A receiver that answered and then cut the body short still answered.
          response.on('end', answered);
          response.on('error', answered);
          response.on('close', answered);
        },
      );
      const timer = setTimeout(() => {
        const waitedFor = status === undefined ? 'no response' : `response (${status}) not complete`;
        finish({
          ...(status === undefined ? {} : { status, responseBody: responseText(chunks) }),
          errorKind: 'timeout',
          error: `${waitedFor} within ${this.timeoutMs / 1000} s`,
        });
      }, this.timeoutMs);
      request.on('error', (error) => (status === undefined ? finish(failureOf(error)) : answered()));
      request.end(body);
    });
  }

  /** Resolves afresh and refuses the connection when any address the name resolves to is refused. */
  private checkedLookup(urlHostname: string): LookupFunction {
    const trusted = isAllowlistedHost(urlHostname, this.allowlist);
    return (hostname, options, callback) => {
      this.lookup(hostname, { ...options, all: true }, (error, addresses) => {
        if (error) return callback(error, '');
        if (addresses.length === 0) {
          return callback(Object.assign(new Error(`${hostname} resolved to no address`), { code: 'ENOTFOUND' }), '');
        }
        if (!trusted) {
          for (const { address } of addresses) {
            const refusal = addressRefusal(address, this.allowlist);
            if (refusal !== undefined) {
              return callback(new WebhookAddressRefused(`${hostname} resolves to ${address}: ${refusal}`), '');
            }
          }
        }
        if (options.all) return callback(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      });
    };
  }

  private outcomeOf(status: number, headers: IncomingHttpHeaders, responseBody: string): AttemptOutcome {
    const retryAfter = retryAfterSeconds(headers['retry-after'], this.clock.now());
    const common = { status, responseBody, ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }) };
    if (status >= 200 && status < 300) return common;
    if (status >= 300 && status < 400) {
      const location = headers.location ?? '(none)';
      return { ...common, errorKind: 'redirect', error: `redirect (${status}) not followed: Location ${location}` };
    }
    return { ...common, errorKind: 'status', error: `the receiver answered ${status}` };
  }
}

function responseText(chunks: Buffer[]): string {
  // stream: true leaves out a character the 1 KB cut in half instead of garbling it.
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks), { stream: true });
}

function failureOf(error: Error): AttemptOutcome {
  if (error instanceof WebhookAddressRefused) return { errorKind: 'address-refused', error: error.message };
  // Trying several addresses (happy eyeballs) fails with every address's error at once.
  const errors = error instanceof AggregateError ? (error.errors as Error[]) : [error];
  const reasons = errors.map((e) => e.message || String((e as NodeJS.ErrnoException).code ?? e.name));
  return { errorKind: 'network', error: `network error: ${reasons.join('; ')}` };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// RFC 9110 section 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept.
const HTTP_DATES: [RegExp, (m: RegExpExecArray) => [string, string, string, string]][] = [
  [/^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}:\d{2}:\d{2}) GMT$/, (m) => [m[1]!, m[2]!, m[3]!, m[4]!]],
  [
    /^[A-Z][a-z]+, (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}:\d{2}:\d{2}) GMT$/,
    (m) => [m[1]!, m[2]!, String(Number(m[3]) < 70 ? 2000 + Number(m[3]) : 1900 + Number(m[3])), m[4]!],
  ],
  [/^[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}:\d{2}:\d{2}) (\d{4})$/, (m) => [m[2]!.trim(), m[1]!, m[4]!, m[3]!]],
];

function httpDate(text: string): number | undefined {
  for (const [pattern, parts] of HTTP_DATES) {
    const match = pattern.exec(text);
    if (!match) continue;
    const [day, monthName, year, time] = parts(match);
    const month = MONTHS.indexOf(monthName);
    const [hours, minutes, seconds] = time.split(':').map(Number) as [number, number, number];
    if (month < 0 || hours > 23 || minutes > 59 || seconds > 60) return undefined;
    const at = Date.UTC(Number(year), month, Number(day), hours, minutes, seconds);
    // Date.UTC rolls 31 Feb over into March: such a date is not valid.
    return new Date(at).getUTCDate() === Number(day) ? at : undefined;
  }
  return undefined;
}

/** A Retry-After header in seconds from `now`, undefined when absent or malformed; a past date is 0. */
export function retryAfterSeconds(header: string | string[] | undefined, now: Date): number | undefined {
  if (typeof header !== 'string') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = httpDate(text);
  return at === undefined ? undefined : Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}
