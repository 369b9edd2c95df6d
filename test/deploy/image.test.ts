import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { repositoryRoot } from '../support/deploy-tools';

// There is no Docker engine here, so the Dockerfile is checked by reading it against what the
// build really produces: every file the runtime stage copies out of `npm run build` exists in
// this (built) checkout, the entrypoint's targets are among them, and the stages keep the
// properties the deployment relies on.

interface Stage {
  name: string;
  from: string;
  instructions: string[];
}

/** The Dockerfile's stages, with continuation lines joined and comments dropped. */
function stages(): Stage[] {
  const text = readFileSync(join(repositoryRoot, 'Dockerfile'), 'utf8');
  const lines = text
    .replace(/\\\n(\s*#.*\n)*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const found: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) found.push({ from: from[1] as string, name: from[2] ?? '', instructions: [] });
    else found.at(-1)?.instructions.push(line);
  }
  return found;
}

function stage(name: string): Stage {
  const found = stages().find((s) => s.name === name);
  assert.ok(found, `stage ${name}`);
  return found;
}

/** Sources of `COPY --from=build` in a stage, relative to the build stage's /app. */
function copiedFromBuild(target: Stage): string[] {
  return target.instructions
    .filter((line) => /^COPY\s+--from=build\s/.test(line))
    .flatMap((line) => line.split(/\s+/).slice(2, -1))
    .map((source) => normalize(source.replace(/^\/app\//, '')));
}

/** Relative `require('./...')` targets of a CommonJS script, transitively. */
function localRequires(file: string, seen = new Set<string>()): Set<string> {
  seen.add(file);
  const text = readFileSync(join(repositoryRoot, file), 'utf8');
  for (const match of text.matchAll(/require\('(\.{1,2}\/[^']+)'\)/g)) {
    const target = normalize(join(dirname(file), `${match[1] as string}.js`));
    if (!seen.has(target)) localRequires(target, seen);
  }
  return seen;
}

describe('Dockerfile', () => {
  it('its last stage (the default target) is the platform image: non-root, HOST=0.0.0.0, production, a health check', () => {
    const all = stages();
    const runtime = all.at(-1) as Stage;
    assert.equal(runtime.name, 'runtime');
    const base = stage('runtime-base');
    assert.equal(runtime.from, 'runtime-base');
    const env = base.instructions.filter((line) => line.startsWith('ENV ')).join(' ');
    assert.match(env, /\bHOST=0\.0\.0\.0\b/);
    assert.match(env, /\bNODE_ENV=production\b/, 'the worker loads its prebuilt bundle');
    assert.ok(runtime.instructions.includes('USER nova'));
    assert.ok(runtime.instructions.some((line) => /^HEALTHCHECK .*CMD \["nova-healthcheck", "api"\]/.test(line)));
    assert.ok(runtime.instructions.includes('ENTRYPOINT ["nova"]'));
  });

  it('installs production dependencies only, for the workspaces the image runs', () => {
    const install = stage('prod-deps').instructions.find((line) => line.startsWith('RUN npm ci')) ?? '';
    assert.match(install, /--omit=dev/);
    for (const workspace of ['apps/api', 'apps/worker', 'prisma'])
      assert.ok(install.includes(`--workspace=${workspace}`));
    assert.ok(!install.includes('--workspace=test'));
    const runtime = stage('runtime');
    assert.ok(runtime.instructions.includes('COPY --from=prod-deps /app/node_modules node_modules'));
    assert.ok(!runtime.instructions.some((line) => line.includes('--from=deps')), 'no dev dependencies');
    // The native contract host is a development tool: only the sandbox target has it.
    assert.ok(!runtime.instructions.some((line) => line.includes('contract-host')));
  });

  it("copies every workspace's package.json before npm ci (the lock file installs as a whole)", () => {
    const manifests = stage('manifests').instructions.join('\n');
    const workspaces = (
      JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as { workspaces: string[] }
    ).workspaces;
    for (const workspace of workspaces) assert.ok(manifests.includes(`COPY ${workspace}/package.json`), workspace);
  });

  it('copies from the build what `npm run build` produced, the workflow bundle included', () => {
    const sources = copiedFromBuild(stage('runtime'));
    for (const needed of [
      'apps/worker/dist',
      'apps/api/dist',
      'prisma/dist',
      'prisma/migrations',
      'prisma/prisma.config.ts',
      'scripts/migrate.js',
    ]) {
      assert.ok(sources.includes(needed), `${needed} is copied`);
    }
    for (const source of sources)
      assert.ok(existsSync(join(repositoryRoot, source)), `${source} exists after the build`);
    assert.ok(
      existsSync(join(repositoryRoot, 'apps/worker/dist/workflow-bundle.js')),
      'the bundle is in apps/worker/dist',
    );
    // `migrate` runs scripts/migrate.js: every module it requires is in the image.
    for (const file of localRequires('scripts/migrate.js')) assert.ok(sources.includes(file), `${file} is copied`);
    // Every workspace the API and the worker import at run time comes with its dist.
    for (const workspace of ['config', 'domain', 'workflows', 'activities']) {
      assert.ok(sources.includes(`${workspace}/dist`) && sources.includes(`${workspace}/package.json`), workspace);
    }
  });

  it("the entrypoint's commands run files the image holds", () => {
    const entrypoint = readFileSync(join(repositoryRoot, 'deploy/image/nova.sh'), 'utf8');
    const sources = copiedFromBuild(stage('runtime'));
    for (const [role, file] of [
      ['api', 'apps/api/dist/main.js'],
      ['worker', 'apps/worker/dist/main.js'],
      ['migrate', 'scripts/migrate.js'],
    ] as const) {
      assert.match(entrypoint, new RegExp(`${role}\\).*node .*${file.replace(/\./g, '\\.')}`), role);
      assert.ok(existsSync(join(repositoryRoot, file)), file);
      assert.ok(
        sources.some((source) => file === source || file.startsWith(`${source}/`)),
        `${file} is in the image`,
      );
    }
  });

  it('keeps the build context small: dependencies, build output, local data and secrets are ignored', () => {
    const ignored = readFileSync(join(repositoryRoot, '.dockerignore'), 'utf8').split('\n');
    for (const pattern of ['**/node_modules', '**/dist', 'target', '.data', '.tools', '.git', '.env*']) {
      assert.ok(ignored.includes(pattern), pattern);
    }
  });
});
