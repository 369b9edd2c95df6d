import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { retryAfterSeconds, WebhookSender, type WebhookLookup, type WebhookMessage } from '@nova/activities';
import { addressRefusal, parseWebhookAllowlist } from '@nova/domain/webhook-addresses';

/** Whether this machine has an IPv6 loopback (::1) to listen on. */
const IPV6_LOOPBACK = Object.values(networkInterfaces())
  .flat()
  .some((address) => address?.internal === true && address.family === 'IPv6' && address.address === '::1');

interface ReceivedRequest {
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The raw body exactly as it arrived, which is what a merchant verifies. */
  body: string;
}

/** A real HTTP server standing in for a merchant's endpoint; routes by path, records every request. */
class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly server: http.Server;

  constructor(
    private readonly host: string,
    private readonly routes: Record<string, (res: http.ServerResponse, req: ReceivedRequest) => void>,
  ) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const received = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(received);
        const route = this.routes[new URL(received.url, 'http://receiver').pathname];
        if (route) route(res, received);
        else res.writeHead(404).end();
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, () => resolve());
    });
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path: string, host = this.host.includes(':') ? `[${this.host}]` : this.host): string {
    return `http://${host}:${this.port}${path}`;
  }

  /** Requests that reached a path (with any query). */
  at(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.url === path || r.url.startsWith(`${path}?`));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

function signatureHeaders(received: ReceivedRequest): Record<string, string> {
  const header = (name: string) => String(received.headers[name]);
  return {
    'webhook-id': header('webhook-id'),
    'webhook-timestamp': header('webhook-timestamp'),
    'webhook-signature': header('webhook-signature'),
  };
}

function message(url: string, overrides: Partial<WebhookMessage> = {}): WebhookMessage {
  const id = randomUUID();
  return {
    url,
    webhookId: `evt_${id}`,
    body: JSON.stringify({ id, type: 'issuance.confirmed', createdAt: new Date().toISOString(), data: { id } }),
    secrets: [newSecret()],
    ...overrides,
  };
}

/** An endless response body: written as fast as the client reads, until it hangs up. */
function endless(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const pump = () => {
    let flowing = true;
    while (flowing && !res.destroyed) flowing = res.write(chunk);
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}

// Clock for the Retry-After date: whole seconds, so the expected figure is exact.
const fixedNow = new Date(Math.floor(Date.now() / 1000) * 1000);

describe('webhook sender', () => {
  const loopback = parseWebhookAllowlist('127.0.0.1');
  const noAllowlist = parseWebhookAllowlist(undefined);
  let receiver: Receiver;
  let ipv6Receiver: Receiver | undefined;

  beforeAll(async () => {
    receiver = await new Receiver('127.0.0.1', {
      '/hook': (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks'),
      '/redirect': (res) => res.writeHead(302, { location: receiver.url('/target') }).end(),
      '/target': (res) => res.writeHead(200).end(),
      // Never answers; after() closes the connection.
      '/silent': () => undefined,
      '/stall': (res) => {
        res.writeHead(200);
        res.write('partial');
      },
      '/huge': (res) => res.writeHead(200).end(Buffer.alloc(2 * 1024 * 1024, 'x')),
      '/endless': endless,
      '/limited': (res) => res.writeHead(429, { 'retry-after': '7' }).end('slow down'),
      '/unavailable': (res) =>
        res.writeHead(503, { 'retry-after': new Date(fixedNow.getTime() + 120_000).toUTCString() }).end(),
      '/gone': (res) => res.writeHead(410).end(),
    }).listen();
    if (IPV6_LOOPBACK) {
      ipv6Receiver = await new Receiver('::1', { '/hook': (res) => res.writeHead(200).end('v6') }).listen();
    }
  });
  afterAll(async () => {
    await receiver?.close();
    await ipv6Receiver?.close();
  });

  describe('signing (checked with the standardwebhooks package itself)', () => {
    it('delivers a 200 whose raw body and headers verify', async () => {
      const sender = new WebhookSender({ allowlist: loopback, timeoutMs: 5000 });
      const sent = message(receiver.url('/hook?case=verify'));
      const result = await sender.send(sent);

      assert.equal(result.errorKind, undefined, result.error);
      assert.equal(result.status, 200);
      assert.equal(result.responseBody, 'thanks');
      const [received] = receiver.at('/hook?case=verify');
      assert.ok(received, 'the receiver got the delivery');
      assert.equal(received.body, sent.body);
      assert.equal(received.headers['content-type'], 'application/json');
      assert.equal(received.headers['user-agent'], 'NovaRewards-Webhooks/1');
      assert.equal(received.headers['webhook-id'], sent.webhookId);
      assert.equal(received.headers['webhook-timestamp'], String(result.timestamp.getTime() / 1000));
      assert.deepEqual(
        new Webhook(sent.secrets[0]!).verify(received.body, signatureHeaders(received)),
        JSON.parse(sent.body),
      );
    });

    it('a tampered body is refused by the verifier', async () => {
      const sent = message(receiver.url('/hook?case=tampered'));
      await new WebhookSender({ allowlist: loopback, timeoutMs: 5000 }).send(sent);
      const [received] = receiver.at('/hook?case=tampered');
      assert.ok(received);
      const tampered = received.body.replace('issuance.confirmed', 'issuance.failed');
      assert.notEqual(tampered, received.body);
      assert.throws(
        () => new Webhook(sent.secrets[0]!).verify(tampered, signatureHeaders(received)),
        (error: Error) => error instanceof WebhookVerificationError && /No matching signature/.test(error.message),
      );
    });

    it('a timestamp older than 5 minutes is refused by the verifier', async () => {
      const sixMinutesAgo = { now: () => new Date(Date.now() - 6 * 60_000) };
      const sent = message(receiver.url('/hook?case=old'));
      await new WebhookSender({ allowlist: loopback, timeoutMs: 5000, clock: sixMinutesAgo }).send(sent);
      const [received] = receiver.at('/hook?case=old');
      assert.ok(received);
      assert.throws(
        () => new Webhook(sent.secrets[0]!).verify(received.body, signatureHeaders(received)),
        (error: Error) => error instanceof WebhookVerificationError && /too old/.test(error.message),
      );
    });

    it('during a rotation the signature header carries both, and each secret alone verifies it', async () => {
      const [current, previous] = [newSecret(), newSecret()];
      const sent = message(receiver.url('/hook?case=rotation'), { secrets: [current, previous] });
      await new WebhookSender({ allowlist: loopback, timeoutMs: 5000 }).send(sent);
      const [received] = receiver.at('/hook?case=rotation');
      assert.ok(received);
      const parts = String(received.headers['webhook-signature']).split(' ');
      assert.equal(parts.length, 2);
      assert.ok(
        parts.every((part) => /^v1,[A-Za-z0-9+/]+=*$/.test(part)),
        parts.join(' '),
      );
      for (const secret of [current, previous]) {
        assert.deepEqual(new Webhook(secret).verify(received.body, signatureHeaders(received)), JSON.parse(sent.body));
      }
      assert.throws(() => new Webhook(newSecret()).verify(received.body, signatureHeaders(received)));
    });

    it('keeps webhook-id across attempts and stamps each attempt with its own time', async () => {
      const starts = [new Date(Date.now() - 30_000), new Date()];
      let attempt = 0;
      const sender = new WebhookSender({
        allowlist: loopback,
        timeoutMs: 5000,
        clock: { now: () => starts[attempt]! },
      });
      const sent = message(receiver.url('/hook?case=retry'));
      const results = [await sender.send(sent)];
      attempt = 1;
      results.push(await sender.send(sent));

      const received = receiver.at('/hook?case=retry');
      assert.equal(received.length, 2);
      assert.deepEqual(
        received.map((r) => r.headers['webhook-id']),
        [sent.webhookId, sent.webhookId],
      );
      const stamps = starts.map((at) => String(Math.floor(at.getTime() / 1000)));
      assert.deepEqual(
        received.map((r) => r.headers['webhook-timestamp']),
        stamps,
      );
      assert.deepEqual(
        results.map((r) => String(r.timestamp.getTime() / 1000)),
        stamps,
      );
      assert.notEqual(received[0]!.headers['webhook-signature'], received[1]!.headers['webhook-signature']);
      for (const r of received) new Webhook(sent.secrets[0]!).verify(r.body, signatureHeaders(r));
    });

    it('headersFor signs with every secret and refuses a message without one', () => {
      const sender = new WebhookSender({ allowlist: loopback, timeoutMs: 5000 });
      const at = new Date('2026-12-01T10:00:00.900Z');
      const sent = message('https://example.com/hook', { secrets: [newSecret(), newSecret()] });
      const headers = sender.headersFor(sent, at);
      assert.equal(headers['webhook-timestamp'], String(Date.parse('2026-12-01T10:00:00Z') / 1000));
      assert.equal(
        headers['webhook-signature'],
        sent.secrets.map((secret) => new Webhook(secret).sign(sent.webhookId, at, sent.body)).join(' '),
      );
      assert.throws(() => sender.headersFor({ ...sent, secrets: [] }, at), /no signing secret/);
    });
  });

  describe('SSRF: never into the platform network', () => {
    const refusedFast = async (url: string, reason: RegExp) => {
      // A connection to these would hang until the timeout: a quick answer means none was tried.
      const sender = new WebhookSender({ allowlist: noAllowlist, timeoutMs: 20_000 });
      const result = await sender.send(message(url));
      assert.equal(result.errorKind, 'address-refused');
      assert.match(result.error ?? '', reason);
      assert.equal(result.status, undefined);
      assert.ok(result.latencyMs < 2000, `answered in ${result.latencyMs} ms`);
    };

    it('refuses 127.0.0.1 without the allowlist; the receiver gets nothing', async () => {
      await refusedFast(receiver.url('/hook?case=loopback'), /address 127\.0\.0\.1 is loopback, not allowed/);
      assert.equal(receiver.at('/hook?case=loopback').length, 0);
    });

    it('the address rule refuses [::1] without the allowlist', () => {
      assert.match(addressRefusal('::1', noAllowlist) ?? '', /loopback/);
    });

    // Skipped, and reported as skipped, on a machine without an IPv6 loopback.
    (IPV6_LOOPBACK ? it : it.skip)('refuses [::1] without the allowlist, and delivers there with it', async () => {
      assert.ok(ipv6Receiver, 'the IPv6 loopback receiver listens');
      await refusedFast(ipv6Receiver.url('/hook?case=v6'), /address ::1 is loopback/);
      assert.equal(ipv6Receiver.at('/hook?case=v6').length, 0);
      const allowed = new WebhookSender({ allowlist: parseWebhookAllowlist('::1'), timeoutMs: 5000 });
      const result = await allowed.send(message(ipv6Receiver.url('/hook?case=v6-allowed')));
      assert.equal(result.status, 200, result.error);
      assert.equal(ipv6Receiver.at('/hook?case=v6-allowed').length, 1);
    });

    it('refuses a hostname that resolves to loopback, resolving again at every attempt', async () => {
      const asked: string[] = [];
      const lookup: WebhookLookup = (hostname, options, callback) => {
        asked.push(hostname);
        if (hostname === 'evil.test') callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else dns.lookup(hostname, options, callback);
      };
      const sender = new WebhookSender({ allowlist: noAllowlist, timeoutMs: 5000, lookup });
      const sent = message(receiver.url('/hook?case=evil', 'evil.test'));
      for (let attempt = 0; attempt < 2; attempt++) {
        const result = await sender.send(sent);
        assert.equal(result.errorKind, 'address-refused');
        assert.equal(
          result.error,
          'evil.test resolves to 127.0.0.1: address 127.0.0.1 is loopback, not allowed for webhooks (WEBHOOK_ALLOWED_HOSTS)',
        );
      }
      assert.deepEqual(asked, ['evil.test', 'evil.test'], 'no answer is cached between attempts');
      assert.equal(receiver.at('/hook?case=evil').length, 0);
    });

    it('refuses a name when any of its addresses is inward', async () => {
      const lookup: WebhookLookup = (_hostname, _options, callback) =>
        callback(null, [
          { address: '93.184.216.34', family: 4 },
          { address: '::ffff:10.0.0.1', family: 6 },
        ]);
      const result = await new WebhookSender({ allowlist: noAllowlist, timeoutMs: 5000, lookup }).send(
        message('https://mixed.test/hook'),
      );
      assert.equal(result.errorKind, 'address-refused');
      assert.match(result.error ?? '', /mixed\.test resolves to ::ffff:10\.0\.0\.1: .*is private/);
    });

    it('delivers to a hostname the allowlist names, whatever it resolves to', async () => {
      const lookup: WebhookLookup = (_hostname, _options, callback) =>
        callback(null, [{ address: '127.0.0.1', family: 4 }]);
      const sender = new WebhookSender({ allowlist: parseWebhookAllowlist('receiver.test'), timeoutMs: 5000, lookup });
      const result = await sender.send(message(receiver.url('/hook?case=named', 'receiver.test')));
      assert.equal(result.status, 200, result.error);
      assert.equal(receiver.at('/hook?case=named').length, 1);
    });

    it('refuses 169.254.169.254 and 10.0.0.1 before any connection', async () => {
      await refusedFast(
        'http://169.254.169.254/latest/meta-data',
        /address 169\.254\.169\.254 is a cloud metadata address/,
      );
      await refusedFast('http://10.0.0.1/hook', /address 10\.0\.0\.1 is private \(RFC 1918\)/);
      await refusedFast('http://2130706433/hook', /address 127\.0\.0\.1 is loopback/);
      await refusedFast('http://localhost/hook', /host localhost is loopback/);
      await refusedFast('ftp://example.com/hook', /scheme "ftp"/);
    });

    it('does not follow a redirect', async () => {
      const result = await new WebhookSender({ allowlist: loopback, timeoutMs: 5000 }).send(
        message(receiver.url('/redirect')),
      );
      assert.equal(result.errorKind, 'redirect');
      assert.equal(result.status, 302);
      assert.equal(result.error, `redirect (302) not followed: Location ${receiver.url('/target')}`);
      assert.equal(receiver.at('/redirect').length, 1);
      assert.equal(receiver.at('/target').length, 0);
    });
  });

  describe('outcomes', () => {
    it('cuts a receiver that never answers at the timeout', async () => {
      const result = await new WebhookSender({ allowlist: loopback, timeoutMs: 300 }).send(
        message(receiver.url('/silent')),
      );
      assert.equal(result.errorKind, 'timeout');
      assert.equal(result.error, 'no response within 0.3 s');
      assert.equal(result.status, undefined);
      assert.ok(result.latencyMs >= 295 && result.latencyMs < 3000, `cut after ${result.latencyMs} ms`);
      assert.equal(receiver.at('/silent').length, 1);
    });

    it('cuts a body that stalls after the status line at the same timeout', async () => {
      const result = await new WebhookSender({ allowlist: loopback, timeoutMs: 300 }).send(
        message(receiver.url('/stall')),
      );
      assert.equal(result.errorKind, 'timeout');
      assert.equal(result.status, 200);
      assert.equal(result.responseBody, 'partial');
      assert.equal(result.error, 'response (200) not complete within 0.3 s');
    });

    it('keeps the first 1 KB of a 2 MB body and does not wait for the rest', async () => {
      const timeoutMs = 20_000;
      for (const path of ['/huge', '/endless']) {
        const result = await new WebhookSender({ allowlist: loopback, timeoutMs }).send(message(receiver.url(path)));
        assert.equal(result.errorKind, undefined, result.error);
        assert.equal(result.status, 200);
        assert.equal(Buffer.byteLength(result.responseBody ?? ''), 1024, path);
        // An endless body can only end by the sender hanging up, long before the timeout.
        assert.ok(result.latencyMs < timeoutMs / 4, `${path} took ${result.latencyMs} ms`);
      }
    });

    it('reads Retry-After in seconds from a 429', async () => {
      const result = await new WebhookSender({ allowlist: loopback, timeoutMs: 5000 }).send(
        message(receiver.url('/limited')),
      );
      assert.equal(result.errorKind, 'status');
      assert.equal(result.status, 429);
      assert.equal(result.retryAfterSeconds, 7);
      assert.equal(result.responseBody, 'slow down');
      assert.equal(result.error, 'the receiver answered 429');
    });

    it('reads an HTTP-date Retry-After from a 503 against the clock', async () => {
      const result = await new WebhookSender({
        allowlist: loopback,
        timeoutMs: 5000,
        clock: { now: () => fixedNow },
      }).send(message(receiver.url('/unavailable')));
      assert.equal(result.errorKind, 'status');
      assert.equal(result.status, 503);
      assert.equal(result.retryAfterSeconds, 120);
    });

    it('reports other statuses without Retry-After', async () => {
      const result = await new WebhookSender({ allowlist: loopback, timeoutMs: 5000 }).send(
        message(receiver.url('/gone')),
      );
      assert.equal(result.errorKind, 'status');
      assert.equal(result.status, 410);
      assert.equal('retryAfterSeconds' in result, false);
    });

    it('reports a refused connection as a network error', async () => {
      const closed = await new Receiver('127.0.0.1', {}).listen();
      const url = closed.url('/hook');
      await closed.close();
      const result = await new WebhookSender({ allowlist: loopback, timeoutMs: 5000 }).send(message(url));
      assert.equal(result.errorKind, 'network');
      assert.match(result.error ?? '', /ECONNREFUSED/);
      assert.equal(result.status, undefined);
    });
  });
});

describe('Retry-After', () => {
  const now = new Date('1994-11-06T08:49:00Z');
  it('reads delta-seconds and the three HTTP-date forms', () => {
    assert.equal(retryAfterSeconds('0', now), 0);
    assert.equal(retryAfterSeconds(' 120 ', now), 120);
    assert.equal(retryAfterSeconds('Sun, 06 Nov 1994 08:49:37 GMT', now), 37);
    assert.equal(retryAfterSeconds('Sunday, 06-Nov-94 08:49:37 GMT', now), 37);
    assert.equal(retryAfterSeconds('Sun Nov  6 08:49:37 1994', now), 37);
    assert.equal(retryAfterSeconds('Sun, 06 Nov 1994 08:00:00 GMT', now), 0, 'a past date means now');
  });

  it('ignores what is absent or malformed', () => {
    for (const header of [
      undefined,
      '',
      '-5',
      '1.5',
      'soon',
      'Sun, 31 Feb 1994 08:49:37 GMT',
      '2026-12-01T00:00:00Z',
    ]) {
      assert.equal(retryAfterSeconds(header, now), undefined, String(header));
    }
  });
});
