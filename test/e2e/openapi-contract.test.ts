// Calls the API through the typed client (@nova/client); raw HTTP (supertest) stays for the
// document itself (/docs-json), which is what this file checks and which it does not list.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createApp } from '@nova/api';
import { createPrismaClient, type PrismaClient } from '@nova/db';
import {
  connectToTemporal,
  createPlatformWorker,
  createTemporalClient,
  createWorkerActivities,
  workflowSourceFor,
} from '@nova/worker';
import { apiClient, expectStatus } from '../support/api-client';
import { sandboxStellarConfig, startStellarFixture, type StellarFixture } from '../support/stellar';
import {
  eventually,
  quietTemporalRuntime,
  required,
  TEST_ADMIN_KEY,
  testApiConfig,
  testWorkerConfig,
  uniqueTaskQueue,
} from '../support/environment';

quietTemporalRuntime();
const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

type Operation = {
  operationId: string;
  security?: Record<string, string[]>[];
  tags?: string[];
  responses: Record<
    string,
    {
      headers?: Record<string, { required?: boolean }>;
      content?: Record<string, { examples?: Record<string, { value: { statusCode: number } }> }>;
    }
  >;
};

// The OpenAPI document is exactly what the API does: linted, checked here, and fuzzed by
// schemathesis against the running stack (API, worker, Temporal, PostgreSQL, the sandbox).
describe('the OpenAPI document and the running API agree', () => {
  const taskQueue = uniqueTaskQueue('e2e-openapi');
  let app: NestExpressApplication;
  let db: PrismaClient;
  let connection: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  let stellar: StellarFixture;
  let baseUrl: string;
  let document: { paths: Record<string, Record<string, Operation>>; [key: string]: unknown };
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'nova-openapi-'));
    stellar = await startStellarFixture();
    const stellarConfig = sandboxStellarConfig(stellar);
    db = createPrismaClient({ databaseUrl: required('DATABASE_URL'), poolSize: 2 });
    const workerConfig = testWorkerConfig({ taskQueue, stellar: stellarConfig });
    connection = await connectToTemporal(workerConfig);
    worker = await createPlatformWorker({
      config: workerConfig,
      connection,
      identity: 'e2e-openapi-worker',
      workflowSource: workflowSourceFor(workerConfig),
      activities: await createWorkerActivities({
        config: workerConfig,
        db,
        temporal: createTemporalClient(connection, workerConfig),
        identity: 'e2e-openapi-worker',
      }),
    });
    workerRun = worker.run();
    app = await createApp(testApiConfig({ taskQueue, stellar: stellarConfig.network }));
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    document = (await request(app.getHttpServer()).get('/docs-json').expect(200)).body;
    await eventually(
      async () => ((await apiClient(baseUrl).GET('/health/ready')).response.status === 200 ? true : undefined),
      { what: 'the stack to be ready', timeoutMs: 60_000 },
    );
  });
  afterAll(async () => {
    await app?.close();
    worker?.shutdown();
    await workerRun;
    await connection?.close();
    await db?.$disconnect();
    await stellar?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const operations = (): [string, string, Operation][] =>
    Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => [path, method, operation] as [string, string, Operation]),
    );

  it('has readable operation ids, servers, a license, security [] on public routes and merchant routes first', () => {
    const ids = operations().map(([, , operation]) => operation.operationId);
    assert.ok(
      ids.includes('issuances.create') && ids.includes('campaigns.list') && ids.includes('adminIssuances.replay'),
    );
    for (const id of ids) assert.match(id, /^[a-z][A-Za-z]*\.[a-z][A-Za-z]*$/);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual((document.info as { license?: { name: string } }).license?.name, 'Apache-2.0');
    assert.ok(Array.isArray(document.servers) && (document.servers as unknown[]).length > 0);
    for (const [path, , operation] of operations()) {
      if (path.startsWith('/health') || path === '/v1/stellar') assert.deepEqual(operation.security, [], path);
      else assert.ok((operation.security ?? []).length > 0, `${path} names its key`);
    }
    assert.deepEqual((document.tags as { name: string }[]).map((t) => t.name).slice(0, 3), [
      'campaigns',
      'rewards',
      'stellar',
    ]);
    assert.equal(operations()[0]?.[2].tags?.[0], 'campaigns', 'merchant routes come first');
  });

  it('documents both details shapes, a real example per error status, and the global answers with their headers', () => {
    const schemas = (
      document.components as { schemas: Record<string, { properties?: Record<string, { oneOf?: unknown[] }> }> }
    ).schemas;
    assert.equal(schemas.ErrorResponse?.properties?.details?.oneOf?.length, 2);
    const issue = document.paths['/v1/rewards/issuances']!.post!;
    for (const status of ['400', '401', '403', '404', '409', '413', '415', '422', '429', '503']) {
      const examples = issue.responses[status]?.content?.['application/json']?.examples ?? {};
      const [example] = Object.values(examples);
      assert.equal(example?.value.statusCode, Number(status), `issuances.create ${status} example`);
    }
    assert.equal(issue.responses['202']?.headers?.['X-Request-Id']?.required, true);
    assert.ok(issue.responses['202']?.headers?.Location);
    assert.ok(issue.responses['202']?.headers?.['Idempotent-Replayed']);
    assert.ok(issue.responses['202']?.headers?.['X-RateLimit-Remaining']);
    assert.equal(issue.responses['429']?.headers?.['Retry-After']?.required, true);
    assert.equal(issue.responses['503']?.headers?.['Retry-After']?.required, true);
    for (const [path, method, operation] of operations()) {
      if (path.startsWith('/health')) continue;
      assert.ok(operation.responses['429'], `${method} ${path} documents 429`);
    }
    const ready = document.paths['/health/ready']!.get!;
    assert.ok(ready.responses['200']?.content?.['application/json'], '/health/ready has a schema');
  });

  it('passes Redocly CLI lint with no errors', async () => {
    const file = join(workDir, 'openapi.json');
    await writeFile(file, JSON.stringify(document));
    const redocly = join(root, 'node_modules', '.bin', 'redocly');
    const { stdout, stderr } = await run(redocly, ['lint', file], { cwd: workDir }).catch(
      (error: { stdout: string; stderr: string }) => {
        assert.fail(`redocly lint found errors:\n${error.stdout}\n${error.stderr}`);
      },
    );
    assert.match(`${stdout}${stderr}`, /Your API description is valid/);
  });

  const schemathesis = async (key: string, label: string): Promise<void> => {
    const st = required('SCHEMATHESIS_PATH');
    const args = [
      '--config-file',
      join(root, 'test', 'schemathesis', 'schemathesis.toml'),
      'run',
      `${baseUrl}/docs-json`,
      '--checks',
      'all',
      '--header',
      `X-API-Key: ${key}`,
      '--max-examples',
      '8',
      '--seed',
      '15',
      '--no-color',
      '--workers',
      '1',
    ];
    const outcome = await run(st, args, { cwd: workDir, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 }).then(
      ({ stdout }) => ({ ok: true, output: stdout }),
      (error: { stdout?: string; stderr?: string; message: string }) => ({
        ok: false,
        output: `${error.stdout ?? ''}\n${error.stderr ?? error.message}`,
      }),
    );
    assert.ok(outcome.ok, `schemathesis with the ${label} key failed:\n${outcome.output.slice(-20_000)}`);
    assert.match(outcome.output, /\d+ passed/);
  };

  it('schemathesis (all checks) finds no failure with a merchant key', async () => {
    const created = await expectStatus(
      apiClient(baseUrl, TEST_ADMIN_KEY).POST('/v1/merchants', { body: { name: 'Schemathesis' } }),
      201,
    );
    await schemathesis(created.data!.apiKey.key, 'merchant');
  }, 300_000);

  it('schemathesis (all checks) finds no failure with the admin key', async () => {
    await schemathesis(TEST_ADMIN_KEY, 'admin');
  }, 300_000);
});
