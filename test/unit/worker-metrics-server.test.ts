import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { startMetricsServer } from '@nova/worker';
import { parseScrape, sample } from '../support/prometheus';

/** Stands in for Core's Prometheus exporter: what the worker appends to its own metrics. */
async function temporalExporter(text: string) {
  const server = createServer((_req, res) => res.end(text));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("the worker's metrics server", () => {
  it('serves its registries and the Temporal SDK metrics as one scrape, even when one registry cannot be read', async () => {
    const domain = new Registry();
    new Counter({ name: 'nova_test_total', help: 'a counter', registers: [domain] }).inc(3);
    const backlog = new Registry();
    new Gauge({
      name: 'nova_test_backlog',
      help: 'reads a database that is down',
      registers: [backlog],
      collect() {
        throw new Error('connection refused');
      },
    });
    const core = await temporalExporter(
      '# TYPE temporal_num_pollers gauge\ntemporal_num_pollers{poller_type="activity_task"} 2\n',
    );
    const errors: unknown[] = [];
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      registries: [domain, backlog],
      temporalMetricsUrl: core.url,
      onError: (error) => errors.push(error),
    });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      assert.equal(response.status, 200);
      const text = await response.text();
      const scrape = parseScrape(text);
      assert.equal(sample(scrape, 'nova_test_total'), 3);
      assert.equal(sample(scrape, 'temporal_num_pollers', { poller_type: 'activity_task' }), 2);
      assert.match(text, /# metrics unavailable: connection refused/);
      assert.equal(errors.length, 1);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      await server.close();
      await core.close();
    }
  });

  it('says so in the scrape when the Temporal SDK exporter does not answer', async () => {
    const core = await temporalExporter('');
    await core.close(); // nothing listens there any more
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      registries: [],
      temporalMetricsUrl: core.url,
    });
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      assert.match(text, /^# Temporal SDK metrics unavailable: /m);
    } finally {
      await server.close();
    }
  });
});
