// Calls the API through the typed client (@nova/client); raw HTTP only for the Temporal Web UI
// and Horizon, which are not the API.
import { afterAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { platformSearchAttributes } from '@nova/workflows/definitions';
import type { NovaClient } from '@nova/client';
import { apiClient, expectStatus, idempotencyKey } from '../support/api-client';
import { eventually, required } from '../support/environment';
import { freePort } from '../support/launcher';
import {
  portOpen,
  processesMentioning,
  spawnCollecting,
  waitForOutput,
  withTimeout,
  type Spawned,
} from '../support/processes';

const root = resolve(__dirname, '..', '..');
const startScript = join(root, 'scripts', 'start.js');

/** The environment of a new user: none of the variables the test runner set for other tests. */
function userEnvironment(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NOVA_QUIET: '1' };
  for (const name of [
    'DATABASE_URL',
    'TEMPORAL_ADDRESS',
    'ADMIN_API_KEY',
    'NODE_ENV',
    'LOG_LEVEL',
    'STELLAR_NETWORK',
    'HORIZON_URL',
    'STELLAR_KEYS_FILE',
    'STELLAR_CONTRACTS_FILE',
    'CAMPAIGN_CONTRACT_ID',
  ])
    delete env[name];
  return { ...env, ...overrides };
}

// START as a user runs it: everything on embedded defaults, in a data folder of its own.
describe('START (npm start)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nova-start-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as its own user and must reach its folder
  let current: Spawned | undefined;

  afterAll(() => {
    // Whatever happened, nothing this test started may outlive it.
    current?.child.kill('SIGKILL');
    for (const line of processesMentioning(dataDir)) {
      const pid = Number(line.trim().split(/\s+/)[0]);
      if (pid) spawnSync('kill', ['-9', String(pid)]);
    }
    spawnSync(join(required('NOVA_PG_BIN_DIR'), 'pg_ctl'), [
      '-D',
      join(dataDir, 'postgres'),
      '-m',
      'immediate',
      'stop',
    ]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses bad configuration at once, naming the variable, and leaves nothing running', async () => {
    const spawned = spawnCollecting(
      process.execPath,
      [startScript],
      userEnvironment({ NOVA_DATA_DIR: dataDir, DATABASE_URL: 'nonsense' }),
      root,
    );
    const code = await withTimeout(spawned.exited, 120_000, 'START exit');
    assert.notEqual(code, 0);
    assert.match(spawned.output(), /DATABASE_URL: must be a postgresql:\/\//);
    assert.deepEqual(processesMentioning(dataDir), []);

    const badNice = spawnCollecting(
      process.execPath,
      [startScript],
      userEnvironment({ NOVA_DATA_DIR: dataDir, NOVA_BACKGROUND_NICE: '20' }),
      root,
    );
    assert.notEqual(await withTimeout(badNice.exited, 60_000, 'START exit'), 0);
    assert.match(badNice.output(), /NOVA_BACKGROUND_NICE must be a whole number from 0 to 19 \(got "20"\)/);
  });

  it('runs the platform, stops cleanly, and keeps its data across a restart', async () => {
    const ports = {
      api: await freePort(),
      temporal: await freePort(),
      ui: await freePort(),
      pg: await freePort(),
      stellar: await freePort(),
      workerMetrics: await freePort(),
    };
    const env = userEnvironment({
      NOVA_DATA_DIR: dataDir,
      PORT: String(ports.api),
      TEMPORAL_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      NOVA_PG_PORT: String(ports.pg),
      STELLAR_SANDBOX_PORT: String(ports.stellar),
      WORKER_METRICS_PORT: String(ports.workerMetrics),
    });
    const api = `http://127.0.0.1:${ports.api}`;
    const as = (key?: string): NovaClient => apiClient(api, key);
    const ready = async () => (await as().GET('/health/ready')).response.status;

    // First run: up, ready, Web UI, search attributes, a workflow through the worker.
    current = spawnCollecting(process.execPath, [startScript], env, root);
    const [, adminKey] = await waitForOutput(current, /Admin API key\s+(\S+)/, 240_000);
    assert.ok(adminKey && adminKey.length >= 24, 'a generated admin key is printed');
    for (const url of [`${api}/docs`, `${api}/docs-json`, `http://127.0.0.1:${ports.ui}`]) {
      assert.match(current.output(), new RegExp(url.replace(/[.]/g, '\\.')), `${url} printed`);
    }
    assert.equal(await ready(), 200);
    assert.equal((await fetch(`http://127.0.0.1:${ports.ui}/`)).status, 200, 'Temporal Web UI answers');
    // The API answers at normal priority; the worker and the dev server run below it (nice 5).
    const children = spawnSync('ps', ['-o', 'ni=,args=', '--ppid', String(current.child.pid)], { encoding: 'utf8' });
    const niceOf = (fragment: string) =>
      children.stdout
        .split('\n')
        .filter((line) => line.includes(fragment))
        .map((line) => Number(line.trim().split(/\s+/)[0]));
    assert.deepEqual(niceOf('apps/api/dist/main.js'), [0], children.stdout);
    assert.deepEqual(niceOf('apps/worker/dist/main.js'), [5], children.stdout);
    assert.deepEqual(niceOf('server start-dev'), [5], children.stdout);
    const network = (await expectStatus(as().GET('/v1/stellar'), 200)).data!;
    assert.equal(network.horizonUrl, `http://127.0.0.1:${ports.stellar}`);
    assert.equal(
      (await fetch(`${network.horizonUrl}/accounts/${network.distributionAccount}`)).status,
      200,
      'the sandbox runs and funded the distribution account',
    );
    const listed = spawnSync(
      required('TEMPORAL_CLI_PATH'),
      ['operator', 'search-attribute', 'list', '--address', `127.0.0.1:${ports.temporal}`, '--output', 'json'],
      { encoding: 'utf8' },
    );
    const custom = JSON.parse(listed.stdout).customAttributes as Record<string, string>;
    for (const attribute of platformSearchAttributes) assert.ok(custom[attribute.name], `${attribute.name} registered`);

    const accepted = (await expectStatus(as(adminKey).POST('/v1/admin/self-checks'), 202)).data!;
    await eventually(
      async () => {
        const { data } = await expectStatus(
          as(adminKey).GET('/v1/admin/self-checks/{id}', { params: { path: { id: accepted.id } } }),
          200,
        );
        return data!.status === 'completed' ? data : undefined;
      },
      { what: 'self-check completed', timeoutMs: 60_000 },
    );

    // Campaign sync is on: START hands the sandbox's contracts file to the API and the worker.
    const merchant = (await expectStatus(as(adminKey).POST('/v1/merchants', { body: { name: 'Start shop' } }), 201))
      .data!;
    const shop = as(merchant.apiKey.key);
    const campaign = (
      await expectStatus(
        shop.POST('/v1/campaigns', {
          params: idempotencyKey('start-launch'),
          body: { name: 'Launch', budget: '10', startsAt: '2026-01-01T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' },
        }),
        201,
      )
    ).data!;
    assert.equal(campaign.onChain?.status, 'pending');
    await eventually(
      async () => {
        const view = (
          await expectStatus(shop.GET('/v1/campaigns/{id}', { params: { path: { id: campaign.id } } }), 200)
        ).data!;
        assert.notEqual(view.onChain?.status, 'failed', JSON.stringify(view.onChain));
        return view.onChain?.status === 'synced' ? view : undefined;
      },
      { what: 'the campaign on the sandbox campaign contract', timeoutMs: 60_000 },
    );

    // One part dies (kill -9): START restarts it, logged; the API stays up, and /health/ready
    // answers 503 until the part is back.
    const childPid = (fragment: string): number | undefined => {
      const listed = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(current!.child.pid)], { encoding: 'utf8' });
      const line = listed.stdout.split('\n').find((l) => l.includes(fragment));
      return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
    };
    const workerPid = childPid('apps/worker/dist/main.js');
    assert.ok(workerPid, 'the worker runs under START');
    process.kill(workerPid, 'SIGKILL');
    await waitForOutput(current, /worker exited unexpectedly \(137\); restarting it in 1 s \(restart 1\)/, 30_000);
    await eventually(
      async () => {
        const again = childPid('apps/worker/dist/main.js');
        return again && again !== workerPid ? again : undefined;
      },
      { what: 'a new worker process', timeoutMs: 30_000 },
    );
    const temporalPid = childPid('server start-dev');
    assert.ok(temporalPid, 'the Temporal dev server runs under START');
    process.kill(temporalPid, 'SIGKILL');
    await eventually(
      async () => {
        const status = await ready();
        assert.equal((await as().GET('/health')).response.status, 200, 'the API stays up');
        return status === 503 ? status : undefined;
      },
      { what: '/health/ready 503 while Temporal is down', timeoutMs: 30_000 },
    );
    await waitForOutput(current, /temporal exited unexpectedly \(137\); restarting it/, 30_000);
    await eventually(async () => ((await ready()) === 200 ? true : undefined), {
      what: '/health/ready 200 once Temporal is back',
      timeoutMs: 120_000,
    });

    // SIGTERM (what Ctrl-C does too): exit 0, every port closed, no process left behind.
    current.child.kill('SIGTERM');
    assert.equal(await withTimeout(current.exited, 90_000, 'START exit after SIGTERM'), 0);
    for (const [name, port] of Object.entries(ports))
      assert.equal(await portOpen(port), false, `${name} port ${port} closed`);
    assert.deepEqual(processesMentioning(dataDir), []);

    // Second run on the same data folder: same admin key, PostgreSQL rows and Temporal history kept.
    current = spawnCollecting(process.execPath, [startScript], env, root);
    const [, secondKey] = await waitForOutput(current, /Admin API key\s+(\S+)/, 240_000);
    assert.equal(secondKey, adminKey);
    const again = (await expectStatus(as().GET('/v1/stellar'), 200)).data!;
    assert.equal(again.distributionAccount, network.distributionAccount, 'the sandbox kept its keys and ledger');
    const kept = (
      await expectStatus(as(adminKey).GET('/v1/admin/self-checks/{id}', { params: { path: { id: accepted.id } } }), 200)
    ).data!;
    assert.equal(kept.status, 'completed');
    const described = spawnSync(
      required('TEMPORAL_CLI_PATH'),
      [
        'workflow',
        'describe',
        '--address',
        `127.0.0.1:${ports.temporal}`,
        '--workflow-id',
        accepted.workflowId,
        '--output',
        'json',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(described.status, 0, described.stderr);
    assert.match(described.stdout, /WORKFLOW_EXECUTION_STATUS_COMPLETED/);

    current.child.kill('SIGINT');
    assert.equal(await withTimeout(current.exited, 90_000, 'START exit after SIGINT'), 0);
    assert.deepEqual(processesMentioning(dataDir), []);
  });
});
