import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository's root: the nearest folder above `from` that holds package-lock.json. The same
 * from test/support (jest runs the TypeScript sources) and from test/dist/support (the compiled
 * benchmarks and record-histories), which sit one folder deeper.
 */
export function findRepositoryRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package-lock.json'))) return dir;
  }
  throw new Error(`no package-lock.json above ${from}`);
}

export const repositoryRoot = findRepositoryRoot(__dirname);
