// Calls the API through the typed client (@nova/client); raw HTTP only for /docs-json and
// /metrics, which the OpenAPI document does not list.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { TEST_ADMIN_KEY, eventually, required, uniqueTaskQueue } from '../support/environment';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/launcher';
import { spawnCollecting, waitForOutput, withTimeout, type Spawned } from '../support/processes';
import {
  alertRules,
  dashboardQueries,
  metricNamesIn,
  parseScrape,
  sample,
  sumOf,
  type Scrape,
} from '../support/prometheus';
import { createWallets, startStellarFixture, type StellarFixture } from '../support/stellar';
import type { NovaClient } from '@nova/client';
import { apiClient, expectStatus, idempotencyKey, runningCampaign } from '../support/api-client';

const root = resolve(__dirname, '..', '..');
const apiMain = join(root, 'apps', 'api', 'dist', 'main.js');
const workerMain = join(root, 'apps', 'worker', 'dist', 'main.js');

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** A small OTLP/HTTP (JSON) trace receiver on loopback: what a collector would get. */
async function startTraceReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.method === 'POST') {
        const payload = JSON.parse(body) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: {
              spans: {
                traceId: string;
                spanId: string;
                parentSpanId?: string;
                name: string;
                kind: number;
                attributes?: { key: string; value: Record<string, unknown> }[];
              }[];
            }[];
          }[];
        };
        for (const resourceSpans of payload.resourceSpans) {
          const service =
            resourceSpans.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const scope of resourceSpans.scopeSpans) {
            for (const span of scope.spans) {
              spans.push({
                service,
                traceId: span.traceId,
                spanId: span.spanId,
                ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
                name: span.name,
                kind: span.kind,
                attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]])),
              });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

// The real processes (apps/api/dist/main.js, apps/worker/dist/main.js with the prebuilt workflow
// bundle), PostgreSQL, the Temporal dev server and the sandbox, with tracing on: what an
// operator's Prometheus scrapes and what a collector receives around one issuance.
describe('observability end to end: metrics and traces of one issuance', () => {
  let stellar: StellarFixture;
  let database: TestDatabase;
  let receiver: Awaited<ReturnType<typeof startTraceReceiver>>;
  let api: Spawned;
  let worker: Spawned;
  let apiUrl: string;
  let workerMetricsUrl: string;
  const taskQueue = uniqueTaskQueue('e2e-observability');

  const as = (key?: string): NovaClient => apiClient(apiUrl, key);
  /** Raw HTTP, for what the OpenAPI document does not list: itself (/docs-json) and /metrics. */
  const raw = (path: string, init: RequestInit = {}) => fetch(`${apiUrl}${path}`, init);
  const scrape = async (url: string): Promise<Scrape> => {
    const response = await fetch(url);
    assert.equal(response.status, 200, `${url}: ${response.status}`);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain;.*\bversion=0\.0\.4/);
    return parseScrape(await response.text());
  };

  beforeAll(async () => {
    stellar = await startStellarFixture({ ledgerIntervalMs: 250, submitTimeoutMs: 3_000 });
    // The worker's reconciler re-drives what its database holds: this file's own.
    database = await createTestDatabase('e2e_observability');
    receiver = await startTraceReceiver();
    const [apiPort, metricsPort] = [await freePort(), await freePort()];
    const common = {
      PATH: process.env.PATH,
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: required('TEMPORAL_ADDRESS'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      STELLAR_NETWORK: 'sandbox',
      HORIZON_URL: stellar.sandbox.url,
      SOROBAN_RPC_URL: stellar.sandbox.rpcUrl,
      NETWORK_PASSPHRASE: stellar.sandbox.networkPassphrase,
      NOVA_ASSET_ISSUER: stellar.sandbox.asset.issuer,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // Spans leave within a tenth of a second rather than the default five.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    worker = spawnCollecting(process.execPath, [workerMain], {
      ...common,
      NODE_ENV: 'production',
      WORKER_METRICS_PORT: String(metricsPort),
      DISTRIBUTION_SECRET: stellar.distribution.secret(),
      CHANNEL_SECRETS: [...stellar.channelSigners.values()].map((k) => k.secret()).join(','),
      RECONCILE_EVERY_SECONDS: '30',
      RECONCILE_AFTER_SECONDS: '30',
    });
    api = spawnCollecting(process.execPath, [apiMain], {
      ...common,
      PORT: String(apiPort),
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      DISTRIBUTION_ACCOUNT: stellar.distribution.publicKey(),
    });
    apiUrl = `http://127.0.0.1:${apiPort}`;
    workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    await waitForOutput(worker, /"msg":"worker started"/, 90_000);
    await waitForOutput(api, /API listening/, 60_000);
    await eventually(async () => ((await as().GET('/health/ready')).response.status === 200 ? true : undefined), {
      what: 'the API ready (a worker polling)',
      timeoutMs: 60_000,
    });
  });

  afterAll(async () => {
    for (const spawned of [api, worker]) {
      if (spawned && spawned.child.exitCode === null) {
        spawned.child.kill('SIGTERM');
        await withTimeout(spawned.exited, 30_000, 'process exit');
      }
    }
    await receiver?.close();
    await database?.drop();
    await stellar?.stop();
  });

  let issuance: { id: string; traceId: string; requestId: string; polls: number } | undefined;
  let scrapes: { api: Scrape; worker: Scrape } | undefined;

  it('moves the API and worker counters by exactly one issuance', async () => {
    const merchant = await expectStatus(
      as(TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: 'Observed Co' } }),
      201,
    );
    const merchantKey = merchant.data!.apiKey.key;
    const campaignId = (await runningCampaign(as(merchantKey), { name: 'Observed', budget: '100' })).id;
    const [wallet] = await createWallets(stellar, 1);

    const before = { api: await scrape(`${apiUrl}/metrics`), worker: await scrape(workerMetricsUrl) };

    // The caller's own W3C trace context: the API must continue that trace, not start one.
    const traceId = randomBytes(16).toString('hex');
    const requestId = `obs-${randomUUID()}`;
    const accepted = await expectStatus(
      as(merchantKey).POST('/v1/rewards/issuances', {
        params: idempotencyKey(),
        headers: { 'x-request-id': requestId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
        body: { campaignId, walletAddress: wallet!.publicKey(), amount: '2.5' },
      }),
      202,
    );
    const { id } = accepted.data!;
    let polls = 0;
    const confirmed = await eventually(
      async () => {
        polls += 1;
        const view = (
          await expectStatus(as(merchantKey).GET('/v1/rewards/issuances/{id}', { params: { path: { id } } }), 200)
        ).data!;
        assert.notEqual(view.status, 'failed');
        return view.status === 'confirmed' ? view : undefined;
      },
      { what: 'the issuance confirmed', timeoutMs: 60_000 },
    );
    assert.equal(confirmed.status, 'confirmed');
    issuance = { id, traceId, requestId, polls };

    // The worker records the workflow's completion a moment after the confirmation the API shows.
    const workerAfter = await eventually(
      async () => {
        const scraped = await scrape(workerMetricsUrl);
        return sumOf(scraped, 'temporal_workflow_completed_total', { workflow_type: 'issuanceWorkflow' }) >
          sumOf(before.worker, 'temporal_workflow_completed_total', { workflow_type: 'issuanceWorkflow' })
          ? scraped
          : undefined;
      },
      { what: "the worker's metrics to show the workflow completed" },
    );
    const apiAfter = await scrape(`${apiUrl}/metrics`);
    scrapes = { api: apiAfter, worker: workerAfter };
    const moved = (scrapes: { before: Scrape; after: Scrape }, name: string, labels: Record<string, string> = {}) =>
      sample(scrapes.after, name, labels) - sample(scrapes.before, name, labels);
    const workerMoved = (name: string, labels?: Record<string, string>) =>
      moved({ before: before.worker, after: workerAfter }, name, labels);
    const apiMoved = (name: string, labels?: Record<string, string>) =>
      moved({ before: before.api, after: apiAfter }, name, labels);

    // The worker: one confirmed issuance, none failed; one transaction of one payment, landed.
    assert.equal(workerMoved('nova_issuances_total', { outcome: 'confirmed', failure_type: '' }), 1);
    assert.equal(
      sumOf(workerAfter, 'nova_issuances_total', { outcome: 'failed' }) -
        sumOf(before.worker, 'nova_issuances_total', { outcome: 'failed' }),
      0,
    );
    assert.equal(workerMoved('nova_journal_submissions_total', { source: 'payment_batch', result: 'tx_success' }), 1);
    assert.equal(
      sumOf(workerAfter, 'nova_journal_submissions_total') - sumOf(before.worker, 'nova_journal_submissions_total'),
      1,
      'no other submission',
    );
    assert.equal(workerMoved('nova_payment_batch_size_count'), 1);
    assert.equal(workerMoved('nova_payment_batch_size_sum'), 1);
    assert.equal(workerMoved('nova_channel_lease_wait_seconds_count'), 1);
    // No webhook endpoint: no attempt, no delivery.
    assert.equal(sumOf(workerAfter, 'nova_webhook_attempts_total'), 0);
    assert.equal(sumOf(workerAfter, 'nova_webhook_deliveries_total'), 0);
    // The gauges read the database: the channel is back, and the event relayed (no endpoint wants it).
    assert.equal(sample(workerAfter, 'nova_channel_accounts'), stellar.channelSigners.size);
    assert.equal(sample(workerAfter, 'nova_channel_accounts_leased'), 0);
    assert.equal(sample(workerAfter, 'nova_reconciler_backlog', { handoff: 'issuance_start' }), 0);
    // The Temporal SDK's own metrics, served on the same port: one issuance workflow completed on this queue.
    assert.equal(
      workerMoved('temporal_workflow_completed_total', {
        namespace: 'default',
        service_name: 'temporal-core-sdk',
        task_queue: taskQueue,
        workflow_type: 'issuanceWorkflow',
      }),
      1,
    );
    assert.ok(
      sumOf(workerAfter, 'temporal_num_pollers', { task_queue: taskQueue, poller_type: 'activity_task' }) > 0,
      'activity pollers reported (NoWorkerPolling reads them)',
    );

    // The API: one POST answered 202, `polls` reads of the issuance by its route template.
    assert.equal(
      apiMoved('nova_http_request_duration_seconds_count', {
        route: '/v1/rewards/issuances',
        method: 'POST',
        status_code: '202',
      }),
      1,
    );
    assert.equal(
      apiMoved('nova_http_request_duration_seconds_count', {
        route: '/v1/rewards/issuances/:id',
        method: 'GET',
        status_code: '200',
      }),
      polls,
    );
    assert.ok(
      ![...apiAfter.series.keys()].some((key) => key.includes(id)),
      'no series is named after a raw path (the issuance id)',
    );
  });

  it('keeps /metrics out of the OpenAPI document and away from API keys', async () => {
    const document = (await (await raw('/docs-json')).json()) as { paths: Record<string, unknown> };
    assert.equal(document.paths['/metrics'], undefined);
    assert.equal((await raw('/metrics')).status, 200, 'no API key needed');
    assert.equal((await raw('/metrics', { method: 'POST' })).status, 405);
  });

  it('yields one trace from the API request through the workflow and its activities to the Horizon call', async () => {
    assert.ok(issuance, 'the issuance of the first test');
    const { traceId } = issuance;
    const spans = await eventually(
      async () => {
        const inTrace = receiver.spans.filter((span) => span.traceId === traceId);
        const names = new Set(inTrace.map((span) => span.name));
        return names.has('RunWorkflow:issuanceWorkflow') &&
          names.has('RunActivity:submitPayment') &&
          inTrace.some((span) => span.service === 'nova-worker' && span.kind === 3)
          ? inTrace
          : undefined;
      },
      { what: 'the issuance trace at the receiver', timeoutMs: 30_000 },
    );
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const named = (name: string) => spans.filter((span) => span.name === name);

    // The API's server span continues the caller's traceparent and names the request id.
    const server = spans.find((span) => span.service === 'nova-api' && span.kind === 2);
    assert.ok(server, `an API server span in ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
    assert.equal(server.attributes['nova.request_id'], issuance.requestId);
    assert.ok(server.parentSpanId, "the server span's parent is the caller's span");
    assert.equal(byId.has(server.parentSpanId), false, "the caller's span is not the platform's");

    const start = named('StartWorkflow:issuanceWorkflow');
    assert.equal(start.length, 1, 'one workflow start');
    assert.equal(start[0]!.service, 'nova-api');
    const run = named('RunWorkflow:issuanceWorkflow');
    assert.equal(run.length, 1, 'one workflow run');
    assert.equal(run[0]!.service, 'nova-worker');
    assert.equal(run[0]!.parentSpanId, start[0]!.spanId, 'the run continues the start');

    // The activities the run scheduled (the payment, and the local read-model steps), each under the run.
    for (const activity of ['submitPayment', 'reserveBudget', 'confirmIssuance']) {
      const executed = named(`RunActivity:${activity}`);
      assert.equal(executed.length, 1, `one RunActivity:${activity}`);
      const scheduled = byId.get(executed[0]!.parentSpanId ?? '');
      assert.equal(scheduled?.name, `StartActivity:${activity}`);
      assert.equal(scheduled?.parentSpanId, run[0]!.spanId);
    }

    // The Horizon submission: an HTTP client span of the worker, inside the payment activity.
    const payment = named('RunActivity:submitPayment')[0]!;
    const horizonCalls = spans.filter(
      (span) =>
        span.service === 'nova-worker' &&
        span.kind === 3 &&
        String(span.attributes['http.url'] ?? '').startsWith(stellar.sandbox.url),
    );
    assert.ok(horizonCalls.length > 0, 'Horizon calls traced');
    const ancestors = (span: ReceivedSpan): string[] => {
      const chain: string[] = [];
      for (let at = byId.get(span.parentSpanId ?? ''); at; at = byId.get(at.parentSpanId ?? '')) chain.push(at.spanId);
      return chain;
    };
    assert.ok(
      horizonCalls.some(
        (call) =>
          ancestors(call).includes(payment.spanId) && String(call.attributes['http.url']).includes('/transactions'),
      ),
      'the transaction submission is a descendant of the payment activity',
    );
  });

  it('writes the request id and the trace id on the API request line, and trace ids on the worker lines', async () => {
    assert.ok(issuance);
    const lines = api
      .output()
      .split('\n')
      .filter((line) => line.includes(issuance!.requestId));
    const completed = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((e) => e.msg === 'request completed');
    assert.ok(completed, `a request log line for ${issuance.requestId}`);
    assert.equal((completed.req as { id: string }).id, issuance.requestId);
    assert.equal(completed.trace_id, issuance.traceId);
    // The activities' lines carry the trace they ran in.
    const confirmedLine = await eventually(
      async () =>
        worker
          .output()
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { msg?: string; issuanceId?: string; trace_id?: string })
          .find((entry) => entry.msg === 'issuance confirmed' && entry.issuanceId === issuance!.id),
      { what: "the worker's confirmation line", timeoutMs: 10_000 },
    );
    assert.equal(confirmedLine.trace_id, issuance.traceId, JSON.stringify(confirmedLine));
  });

  it('exports every metric the dashboard and the alert rules use', () => {
    assert.ok(scrapes, 'the scrapes of the first test');
    const exported = new Set([...scrapes.api.names, ...scrapes.worker.names]);
    const used = [
      ...dashboardQueries().map(({ panel, expr }) => ({ where: `dashboard panel "${panel}"`, expr })),
      ...alertRules().groups.flatMap((group) =>
        group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })),
      ),
    ];
    assert.ok(used.length > 10, 'the dashboard and the rules have queries');
    const missing = used.flatMap(({ where, expr }) =>
      metricNamesIn(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${name} (${where})`),
    );
    assert.deepEqual(missing, []);
  });
});
