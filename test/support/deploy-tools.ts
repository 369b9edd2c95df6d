import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';

import { repositoryRoot } from './repository-root';

export { repositoryRoot };

/**
 * A deployment validator installed by setup (scripts/lib/deploy-tools.js), named by the
 * variable scripts/test.js sets; fails the test with setup's reason when it is missing.
 */
export function deployTool(name: 'HELM_PATH' | 'KUBERNETES_VALIDATE_PATH' | 'DOCKER_COMPOSE_PATH'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with \`npm test\``);
  try {
    accessSync(value, constants.X_OK);
  } catch {
    throw new Error(`${name}: ${value}`);
  }
  return value;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion (no shell); never rejects on a non-zero exit. */
export function runTool(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<ToolResult> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd ?? repositoryRoot, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolvePromise({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/**
 * YAML documents as JSON values, parsed by PyYAML in kubernetes-validate's virtualenv (the
 * project has no YAML library of its own; the validators' Python has one).
 */
export async function parseYamlDocuments(text: string): Promise<unknown[]> {
  const python = join(dirname(deployTool('KUBERNETES_VALIDATE_PATH')), 'python');
  const result = await runTool(
    python,
    ['-c', 'import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d is not None]))'],
    { input: text },
  );
  if (result.code !== 0) throw new Error(`YAML could not be parsed: ${result.stderr}`);
  return JSON.parse(result.stdout) as unknown[];
}
