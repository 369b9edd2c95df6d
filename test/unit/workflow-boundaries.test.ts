import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';

const root = resolve(__dirname, '..', '..');

async function lintWorkflowSource(source: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(source, { filePath: join(root, 'workflows', 'src', 'boundary-probe.ts') });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

// The rule that keeps workflow code deterministic must itself be able to fail.
describe('workflow import boundary (lint rule)', () => {
  it('allows the workflow SDK, its definitions and activity types', async () => {
    const messages = await lintWorkflowSource(
      [
        "import { proxyActivities } from '@temporalio/workflow';",
        "import type { PlatformActivities } from '@nova/activities';",
        "import { activityProfiles } from './definitions/activity-profiles';",
        'export const probe = proxyActivities<PlatformActivities>(activityProfiles.dbWrite);',
        '',
      ].join('\n'),
    );
    assert.deepEqual(messages, []);
  });

  for (const [what, line] of [
    ['the worker SDK', "import { Worker } from '@temporalio/worker';"],
    ['Prisma', "import { PrismaClient } from '@nova/db';"],
    ['the Stellar SDK', "import { Horizon } from '@stellar/stellar-sdk';"],
    ['a Node built-in', "import { readFileSync } from 'node:fs';"],
    ['activity implementations (values)', "import { createActivities } from '@nova/activities';"],
  ] as const) {
    it(`refuses ${what}`, async () => {
      const messages = await lintWorkflowSource(`${line}\nexport const probe = [${line.match(/\{ (\w+) \}/)?.[1]}];\n`);
      assert.ok(
        messages.some((m) => m.startsWith('@typescript-eslint/no-restricted-imports')),
        `expected a restricted-import error, got ${JSON.stringify(messages)}`,
      );
    });
  }

  it('refuses Math.random and Date in workflow code', async () => {
    const messages = await lintWorkflowSource('export const probe = [Math.random(), new Date()];\n');
    assert.ok(messages.some((m) => m.startsWith('no-restricted-properties')));
    assert.ok(messages.some((m) => m.startsWith('no-restricted-globals')));
  });
});
