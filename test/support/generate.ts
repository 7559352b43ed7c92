// Runs `npm run generate` as a user does (scripts/generate.ts through tsx), without npm's
// own output, for the tests of the generated files and of the generator's options.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export function runGenerate(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(path.join(repoRoot, 'node_modules/.bin/tsx'), ['scripts/generate.ts', ...args], { cwd: repoRoot, encoding: 'utf8' });
}
