import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { repositoryRoot } from '../support/repository-root';

/** Histories are kept as source files: test/histories/*.json. */
export const historiesDir = join(repositoryRoot, 'test', 'histories');

export interface StoredHistory {
  file: string;
  workflowId: string;
  history: temporal.api.history.v1.IHistory;
}

export function loadHistories(): StoredHistory[] {
  return readdirSync(historiesDir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      workflowId: file.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(join(historiesDir, file), 'utf8'))),
    }));
}
