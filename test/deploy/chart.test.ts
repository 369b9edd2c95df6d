import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateEnvironment } from '@nova/config';
import { deployTool, parseYamlDocuments, repositoryRoot, runTool } from '../support/deploy-tools';

/** What the chart leaves to Secrets, as placeholders, so the ConfigMap's own values can be validated. */
const PLACEHOLDER_ENV = {
  DATABASE_URL: 'postgresql://nova:secret@postgres:5432/nova',
  ADMIN_API_KEY: 'placeholder-admin-key-0123456789',
};

// helm/nova-rewards rendered and validated without a cluster: helm lint and helm template for
// each values file, the output checked against the Kubernetes schemas of a pinned version by
// kubernetes-validate (its bundled schemas, offline), and the properties a deployment relies on.

/** The Kubernetes version the chart is rendered for and validated against. */
const KUBERNETES_VERSION = '1.34.0';
const chartDir = join(repositoryRoot, 'helm', 'nova-rewards');
const VALUES_FILES = ['values-staging.yaml', 'values-production.yaml'] as const;
const WORKER_ROLES = ['core', 'webhooks'];

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface Container {
  name: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name: string; containerPort: number }[];
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
}
interface PodTemplate {
  metadata?: { annotations?: Record<string, string> };
  spec: {
    containers: Container[];
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
    terminationGracePeriodSeconds?: number;
    volumes?: { name: string; emptyDir?: unknown; secret?: { secretName: string } }[];
  };
}

let workDir = '';
beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'nova-chart-'));
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function helm(args: string[]) {
  return runTool(deployTool('HELM_PATH'), args, { env: { ...process.env, HELM_CACHE_HOME: workDir } });
}

const rendered = new Map<string, Promise<{ text: string; manifests: Manifest[] }>>();

/** helm template of one values file (rendered once per run). */
function render(valuesFile: string): Promise<{ text: string; manifests: Manifest[] }> {
  let found = rendered.get(valuesFile);
  if (!found) rendered.set(valuesFile, (found = renderOnce(valuesFile)));
  return found;
}

async function renderOnce(valuesFile: string): Promise<{ text: string; manifests: Manifest[] }> {
  const result = await helm([
    'template',
    'nova-rewards',
    chartDir,
    '--namespace',
    'nova',
    '--kube-version',
    KUBERNETES_VERSION,
    '-f',
    join(chartDir, valuesFile),
  ]);
  assert.equal(result.code, 0, `helm template -f ${valuesFile} failed:\n${result.stderr}`);
  return { text: result.stdout, manifests: (await parseYamlDocuments(result.stdout)) as Manifest[] };
}

async function kubernetesValidate(file: string) {
  return runTool(deployTool('KUBERNETES_VALIDATE_PATH'), [
    '--kubernetes-version',
    KUBERNETES_VERSION,
    '--strict',
    file,
  ]);
}

function podTemplate(manifest: Manifest): PodTemplate {
  const spec = manifest.spec as { template: PodTemplate };
  return spec.template;
}

function configMap(manifests: Manifest[]): Record<string, string> {
  const found = manifests.find((m) => m.kind === 'ConfigMap');
  assert.ok(found, 'the chart renders its ConfigMap');
  return found.data ?? {};
}

function envOf(container: Container, name: string) {
  return container.env?.find((variable) => variable.name === name);
}

describe('helm/nova-rewards', () => {
  for (const valuesFile of VALUES_FILES) {
    describe(valuesFile, () => {
      it('passes helm lint --strict', async () => {
        const result = await helm(['lint', '--strict', chartDir, '-f', join(chartDir, valuesFile)]);
        assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
        assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      });

      it(`renders manifests that validate against the Kubernetes ${KUBERNETES_VERSION} schemas`, async () => {
        const { text, manifests } = await render(valuesFile);
        const file = join(workDir, valuesFile.replace('.yaml', '.rendered.yaml'));
        writeFileSync(file, text);
        const result = await kubernetesValidate(file);
        assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
        // Every built-in kind was checked (the Prometheus Operator's ServiceMonitor has no schema there).
        const builtIn = manifests.filter((m) => m.apiVersion !== 'monitoring.coreos.com/v1');
        const passed = `${result.stdout}${result.stderr}`.match(/ passed for resource /g) ?? [];
        assert.equal(passed.length, builtIn.length, `${result.stdout}${result.stderr}`);
      });

      it('runs every container as non-root on a read-only root filesystem, no capabilities, /tmp an emptyDir', async () => {
        const { manifests } = await render(valuesFile);
        const workloads = manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'Job');
        assert.ok(workloads.length >= 4, 'the API, two worker roles and the migration Job');
        for (const workload of workloads) {
          const pod = podTemplate(workload).spec;
          assert.equal(pod.securityContext?.runAsNonRoot, true, `${workload.metadata.name}: pod runAsNonRoot`);
          assert.ok((pod.securityContext?.runAsUser ?? 0) > 0, `${workload.metadata.name}: a non-zero uid`);
          for (const container of pod.containers) {
            const where = `${workload.metadata.name}/${container.name}`;
            assert.equal(container.securityContext?.readOnlyRootFilesystem, true, `${where}: read-only root`);
            assert.equal(container.securityContext?.runAsNonRoot, true, `${where}: runAsNonRoot`);
            assert.equal(container.securityContext?.allowPrivilegeEscalation, false, `${where}: no escalation`);
            assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL'], `${where}: drops ALL`);
            assert.equal(container.securityContext?.capabilities?.add, undefined, `${where}: adds none`);
            const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
            assert.ok(tmp, `${where}: /tmp is mounted`);
            assert.ok(
              pod.volumes?.find((volume) => volume.name === tmp.name)?.emptyDir,
              `${where}: /tmp is an emptyDir`,
            );
          }
        }
      });

      it("passes the API's event stream settings through the ConfigMap", async () => {
        const { manifests } = await render(valuesFile);
        const data = configMap(manifests);
        assert.match(data.EVENT_STREAM_RETENTION_HOURS ?? '', /^\d+$/);
        assert.match(data.EVENT_STREAM_HEARTBEAT_SECONDS ?? '', /^\d+$/);
        assert.match(data.EVENT_STREAM_CLIENT_BUFFER_LIMIT ?? '', /^\d+(kb|mb)$/);
      });

      it('renders no Secret and no secret value: credentials come from referenced Secrets only', async () => {
        const { text, manifests } = await render(valuesFile);
        assert.equal(manifests.filter((m) => m.kind === 'Secret').length, 0);
        assert.doesNotMatch(text, /\bS[A-Z2-7]{55}\b/, 'no Stellar secret seed');
        assert.doesNotMatch(text, /BEGIN [A-Z ]*PRIVATE KEY/, 'no private key');
        assert.doesNotMatch(text, /postgres(ql)?:\/\//, 'no database URL (it holds the password)');
        const secretVariables = [
          'DATABASE_URL',
          'ADMIN_API_KEY',
          'TEMPORAL_API_KEY',
          'DISTRIBUTION_SECRET',
          'CHANNEL_SECRETS',
        ];
        for (const name of secretVariables)
          assert.equal(configMap(manifests)[name], undefined, `${name} not in the ConfigMap`);
        for (const workload of manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'Job')) {
          for (const container of podTemplate(workload).spec.containers) {
            for (const name of secretVariables) {
              const variable = envOf(container, name);
              if (variable) {
                assert.equal(variable.value, undefined, `${workload.metadata.name}: ${name} has no literal value`);
                assert.ok(variable.valueFrom?.secretKeyRef, `${workload.metadata.name}: ${name} from a Secret`);
              }
            }
          }
        }
      });

      it('one Deployment per worker task-queue role, WORKER_TASK_QUEUES set to it, grace longer than the shutdown grace', async () => {
        const { manifests } = await render(valuesFile);
        const config = configMap(manifests);
        const shutdownGrace = Number(config.WORKER_SHUTDOWN_GRACE_SECONDS);
        assert.ok(shutdownGrace > 0, 'WORKER_SHUTDOWN_GRACE_SECONDS is configured');
        const workers = manifests.filter(
          (m) => m.kind === 'Deployment' && m.metadata.labels?.['app.kubernetes.io/component'] === 'worker',
        );
        const roles = workers.map((worker) => {
          const pod = podTemplate(worker).spec;
          assert.equal(pod.containers.length, 1);
          const container = pod.containers[0] as Container;
          const role = envOf(container, 'WORKER_TASK_QUEUES')?.value;
          assert.equal(worker.metadata.labels?.['nova-rewards.io/worker-role'], role);
          assert.ok(
            (pod.terminationGracePeriodSeconds ?? 30) > shutdownGrace,
            `${worker.metadata.name}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > ${shutdownGrace}`,
          );
          // The signing keys are files from the referenced Secret.
          assert.match(envOf(container, 'DISTRIBUTION_SECRET_FILE')?.value ?? '', /^\/var\/run\/secrets\//);
          assert.ok(pod.volumes?.some((volume) => volume.secret?.secretName === 'nova-stellar'));
          // The metrics port the worker serves (WORKER_METRICS_PORT) is the container's `metrics` port.
          const metrics = container.ports?.find((port) => port.name === 'metrics');
          assert.equal(metrics?.containerPort, Number(config.WORKER_METRICS_PORT));
          assert.equal(podTemplate(worker).metadata?.annotations?.['prometheus.io/port'], config.WORKER_METRICS_PORT);
          return role;
        });
        assert.deepEqual(roles.sort(), WORKER_ROLES);
      });

      it("carries the chain reconciliation's settings, in shapes the platform's configuration accepts", async () => {
        const { manifests } = await render(valuesFile);
        const config = configMap(manifests);
        for (const name of [
          'RECONCILIATION_SCHEDULE',
          'RECONCILIATION_WINDOW_SECONDS',
          'RECONCILIATION_LAG_SECONDS',
          'RECONCILIATION_MAX_WINDOW_SECONDS',
        ]) {
          assert.ok(config[name], `${name} in the ConfigMap`);
        }
        assert.equal(config.RECONCILIATION_SCHEDULE, '0 3 * * *');
        assert.doesNotThrow(() => validateEnvironment('worker', { ...PLACEHOLDER_ENV, ...config }));
        assert.doesNotThrow(() => validateEnvironment('api', { ...PLACEHOLDER_ENV, ...config }));
      });

      it('the API: liveness on /health, readiness on /health/ready, metrics scraped from its port', async () => {
        const { manifests } = await render(valuesFile);
        const api = manifests.find(
          (m) => m.kind === 'Deployment' && m.metadata.labels?.['app.kubernetes.io/component'] === 'api',
        );
        assert.ok(api);
        const container = podTemplate(api).spec.containers[0] as Container;
        assert.deepEqual(container.livenessProbe?.httpGet, { path: '/health', port: 'http' });
        assert.deepEqual(container.readinessProbe?.httpGet, { path: '/health/ready', port: 'http' });
        assert.ok(envOf(container, 'ADMIN_API_KEY')?.valueFrom?.secretKeyRef?.name);
        const annotations = podTemplate(api).metadata?.annotations ?? {};
        assert.equal(annotations['prometheus.io/path'], '/metrics');
        assert.equal(Number(annotations['prometheus.io/port']), container.ports?.[0]?.containerPort);
        const ingress = manifests.find((m) => m.kind === 'Ingress');
        const tls = (ingress?.spec as { tls?: { hosts: string[]; secretName: string }[] } | undefined)?.tls;
        assert.ok(tls?.[0]?.secretName && tls[0].hosts.length === 1, 'the Ingress terminates TLS');
      });

      it('the migration Job is a pre-install/pre-upgrade hook reading only the database Secret', async () => {
        const { manifests } = await render(valuesFile);
        const job = manifests.find((m) => m.kind === 'Job');
        assert.ok(job);
        const hooks = (job.metadata.annotations?.['helm.sh/hook'] ?? '').split(',');
        assert.ok(hooks.includes('pre-install') && hooks.includes('pre-upgrade'), hooks.join(','));
        assert.match(job.metadata.annotations?.['helm.sh/hook-delete-policy'] ?? '', /before-hook-creation/);
        const container = podTemplate(job).spec.containers[0] as Container;
        assert.deepEqual((container as { args?: string[] }).args, ['migrate']);
        // A pre-install hook runs before the release's ConfigMap exists.
        assert.equal((container as { envFrom?: unknown }).envFrom, undefined);
        assert.ok(envOf(container, 'DATABASE_URL')?.valueFrom?.secretKeyRef);
      });
    });
  }

  it('staging: testnet, Temporal over mTLS from a Secret; production: public network, Temporal Cloud API key', async () => {
    const staging = await render('values-staging.yaml');
    assert.equal(configMap(staging.manifests).STELLAR_NETWORK, 'testnet');
    const stagingApi = staging.manifests.find((m) => m.kind === 'Deployment') as Manifest;
    const stagingContainer = podTemplate(stagingApi).spec.containers[0] as Container;
    assert.match(envOf(stagingContainer, 'TEMPORAL_TLS_CERT_PATH')?.value ?? '', /^\/var\/run\/secrets\//);
    assert.match(envOf(stagingContainer, 'TEMPORAL_TLS_KEY_PATH')?.value ?? '', /^\/var\/run\/secrets\//);

    const production = await render('values-production.yaml');
    const config = configMap(production.manifests);
    assert.equal(config.STELLAR_NETWORK, 'public');
    assert.ok(config.SOROBAN_RPC_URL, 'the public network needs a Soroban RPC provider');
    assert.equal(config.TEMPORAL_TLS, 'true');
    for (const deployment of production.manifests.filter((m) => m.kind === 'Deployment')) {
      const container = podTemplate(deployment).spec.containers[0] as Container;
      assert.ok(envOf(container, 'TEMPORAL_API_KEY')?.valueFrom?.secretKeyRef, deployment.metadata.name);
    }
    assert.equal(production.manifests.filter((m) => m.kind === 'HorizontalPodAutoscaler').length, 3);
  });

  describe('a broken values file fails, naming the field', () => {
    const cases: { name: string; values: string; field: RegExp }[] = [
      {
        name: 'a replica count of "two"',
        values: 'workers:\n  roles:\n    core:\n      replicas: two\n',
        field: /\/workers\/roles\/core\/replicas/,
      },
      {
        name: 'no Secret for the Stellar signers',
        values: 'stellar:\n  signers:\n    existingSecret: ""\n',
        field: /\/stellar\/signers\/existingSecret/,
      },
      {
        name: 'a secret value in the values',
        values: 'api:\n  adminKey:\n    value: not-allowed-here-0123456789\n',
        field: /\/api\/adminKey': additional properties 'value'/,
      },
      {
        name: 'the public network without a Soroban RPC',
        values: 'stellar:\n  network: public\n',
        field: /\/stellar\/sorobanRpcUrl'/,
      },
      {
        name: 'an unknown worker role',
        values: 'workers:\n  roles:\n    payments:\n      enabled: true\n',
        field: /\/workers\/roles': additional properties 'payments'/,
      },
    ];
    for (const broken of cases) {
      it(broken.name, async () => {
        const file = join(workDir, `broken-${broken.name.replace(/\W+/g, '-')}.yaml`);
        writeFileSync(file, broken.values);
        const result = await helm(['lint', chartDir, '-f', join(chartDir, 'values-staging.yaml'), '-f', file]);
        assert.notEqual(result.code, 0, 'helm lint must fail');
        assert.match(`${result.stdout}${result.stderr}`, broken.field);
      });
    }

    it("the chart's defaults alone name what a deployment must set", async () => {
      const result = await helm(['lint', chartDir]);
      assert.notEqual(result.code, 0);
      for (const field of [
        '/image/repository',
        '/database/existingSecret',
        '/temporal/address',
        '/stellar/assetIssuer',
      ]) {
        assert.ok(`${result.stdout}${result.stderr}`.includes(field), `${field} in:\n${result.stdout}`);
      }
    });
  });

  it('kubernetes-validate refuses a manifest of the wrong shape, naming the field (the check can fail)', async () => {
    const file = join(workDir, 'wrong.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: wrong }',
        'spec:',
        '  replicas: two',
        '  selector: { matchLabels: { app: wrong } }',
        '  template:',
        '    metadata: { labels: { app: wrong } }',
        '    spec: { containers: [{ name: wrong, image: wrong }] }',
        '',
      ].join('\n'),
    );
    const result = await kubernetesValidate(file);
    assert.notEqual(result.code, 0);
    assert.match(`${result.stdout}${result.stderr}`, /replicas/);
  });
});
