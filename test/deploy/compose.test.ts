import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { platformSearchAttributes } from '@nova/workflows/definitions';
import { deployTool, parseYamlDocuments, repositoryRoot, runTool } from '../support/deploy-tools';

// docker-compose.yml checked without a Docker engine: `docker-compose config` (compose v1 from
// PyPI) interpolates and validates it with .env.example as the env file, and the resolved file
// is checked for what the stack relies on (start order, health checks, roles, no secrets).

interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  stop_grace_period?: string;
  ports?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

const composeFile = join(repositoryRoot, 'docker-compose.yml');
const envExample = join(repositoryRoot, '.env.example');
let workDir = '';

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'nova-compose-'));
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/**
 * `docker-compose config` with only the env file: the test runner's own variables (LOG_LEVEL,
 * DATABASE_URL, ...) would otherwise win over the file's, as the shell's do for compose.
 */
function composeConfig(envFile: string) {
  return runTool(deployTool('DOCKER_COMPOSE_PATH'), ['--env-file', envFile, '-f', composeFile, 'config'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: workDir },
  });
}

let resolved: Promise<ComposeFile> | undefined;
function resolvedCompose(): Promise<ComposeFile> {
  resolved ??= (async () => {
    const result = await composeConfig(envExample);
    assert.equal(result.code, 0, result.stderr);
    const [document] = await parseYamlDocuments(result.stdout);
    return document as ComposeFile;
  })();
  return resolved;
}

function seconds(duration: string | undefined): number {
  const match = /^(\d+)s$/.exec(duration ?? '');
  assert.ok(match, `a duration in seconds, got ${duration}`);
  return Number(match[1]);
}

const PROFILES = {
  sandbox: { api: 'api', core: 'worker-core', webhooks: 'worker-webhooks' },
  testnet: { api: 'api-testnet', core: 'worker-core-testnet', webhooks: 'worker-webhooks-testnet' },
} as const;

describe('docker-compose.yml', () => {
  it('is valid for docker-compose config with .env.example as its env file', async () => {
    const compose = await resolvedCompose();
    for (const service of [
      'postgres',
      'temporal-postgresql',
      'temporal-schema',
      'temporal',
      'temporal-namespace',
      'temporal-ui',
      'migrate',
      'stellar-sandbox',
      ...Object.values(PROFILES.sandbox),
      ...Object.values(PROFILES.testnet),
    ]) {
      assert.ok(compose.services[service], `service ${service}`);
    }
  });

  it('starts in order: databases healthy, Temporal schema then server, namespace and migrations done, then the platform', async () => {
    const { services } = await resolvedCompose();
    assert.deepEqual(services['temporal-schema']?.depends_on, {
      'temporal-postgresql': { condition: 'service_healthy' },
    });
    assert.deepEqual(services.temporal?.depends_on, {
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
    assert.deepEqual(services['temporal-namespace']?.depends_on, { temporal: { condition: 'service_healthy' } });
    assert.deepEqual(services.migrate?.depends_on, { postgres: { condition: 'service_healthy' } });
    for (const [profile, names] of Object.entries(PROFILES)) {
      for (const name of Object.values(names)) {
        const service = services[name] as ComposeService;
        assert.deepEqual(service.profiles, [profile], `${name}: profile ${profile}`);
        assert.equal(service.depends_on?.migrate?.condition, 'service_completed_successfully', name);
        assert.equal(service.depends_on?.['temporal-namespace']?.condition, 'service_completed_successfully', name);
        if (profile === 'sandbox')
          assert.equal(service.depends_on?.['stellar-sandbox']?.condition, 'service_healthy', name);
        else assert.equal(service.depends_on?.['stellar-sandbox'], undefined, `${name} needs no sandbox`);
      }
    }
    for (const name of ['postgres', 'temporal-postgresql', 'temporal', 'stellar-sandbox']) {
      assert.ok(services[name]?.healthcheck?.test?.length, `${name} has a health check`);
    }
  });

  it('the API and one worker per task-queue role, from the Dockerfile, each with its health check', async () => {
    const { services } = await resolvedCompose();
    for (const [profile, names] of Object.entries(PROFILES)) {
      const api = services[names.api] as ComposeService;
      assert.deepEqual(api.command, ['api']);
      assert.deepEqual(api.healthcheck?.test, ['CMD', 'nova-healthcheck', 'api']);
      assert.ok((api.environment?.ADMIN_API_KEY ?? '').length >= 24, `${names.api}: ADMIN_API_KEY from the env file`);
      assert.equal(api.environment?.STELLAR_NETWORK, profile);
      assert.deepEqual(
        [
          api.environment?.EVENT_STREAM_RETENTION_HOURS,
          api.environment?.EVENT_STREAM_HEARTBEAT_SECONDS,
          api.environment?.EVENT_STREAM_CLIENT_BUFFER_LIMIT,
        ],
        ['72', '15', '1mb'],
        `${names.api}: the event stream settings from the env file`,
      );
      for (const role of ['core', 'webhooks'] as const) {
        const worker = services[names[role]] as ComposeService;
        assert.equal(worker.build?.target, 'runtime');
        assert.deepEqual(worker.command, ['worker']);
        assert.equal(worker.environment?.WORKER_TASK_QUEUES, role);
        assert.equal(worker.environment?.STELLAR_NETWORK, profile);
        assert.deepEqual(worker.healthcheck?.test, ['CMD', 'nova-healthcheck', 'worker']);
        assert.equal(worker.environment?.WORKER_METRICS_PORT, '9464');
        assert.ok(
          seconds(worker.stop_grace_period) > Number(worker.environment?.WORKER_SHUTDOWN_GRACE_SECONDS),
          `${names[role]}: stop_grace_period beyond WORKER_SHUTDOWN_GRACE_SECONDS`,
        );
      }
    }
    assert.equal(services['stellar-sandbox']?.build?.target, 'sandbox');
    assert.deepEqual(services.migrate?.command, ['migrate']);
    // Host ports are published on loopback only.
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${name}: ${port}`);
    }
  });

  it("registers exactly the platform's search attributes in the Temporal namespace", async () => {
    const { services } = await resolvedCompose();
    const registered = (services['temporal-namespace']?.environment?.SEARCH_ATTRIBUTES ?? '').split(',').sort();
    const expected = platformSearchAttributes
      // The CLI's type names: KEYWORD -> Keyword, KEYWORD_LIST -> KeywordList.
      .map(
        (attribute) =>
          `${attribute.name}=${attribute.type
            .split('_')
            .map((word) => `${word.charAt(0)}${word.slice(1).toLowerCase()}`)
            .join('')}`,
      )
      .sort();
    assert.deepEqual(registered, expected);
  });

  it('takes its secrets from the env file: none in the committed files, .env ignored by git', async () => {
    const text = readFileSync(composeFile, 'utf8');
    assert.doesNotMatch(text, /\bS[A-Z2-7]{55}\b/);
    for (const variable of ['ADMIN_API_KEY', 'POSTGRES_PASSWORD', 'TEMPORAL_POSTGRES_PASSWORD']) {
      assert.match(text, new RegExp(`\\$\\{${variable}:\\?`), `${variable} is required from the env file`);
    }
    assert.doesNotMatch(readFileSync(envExample, 'utf8'), /^(DISTRIBUTION_SECRET|CHANNEL_SECRETS)=\S/m);
    const ignored = await runTool('git', ['check-ignore', '-q', '.env']);
    assert.equal(ignored.code, 0, '.env is gitignored');
  });

  it('refuses to resolve without a required secret, naming the variable', async () => {
    const envFile = join(workDir, 'missing-admin-key.env');
    writeFileSync(
      envFile,
      readFileSync(envExample, 'utf8')
        .split('\n')
        .filter((line) => !line.startsWith('ADMIN_API_KEY='))
        .join('\n'),
    );
    const result = await composeConfig(envFile);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /ADMIN_API_KEY/);
  });
});
