// No module in src/ imports itself back, directly or through others: a cycle means two
// ideas live in each other's file, and ESM evaluates one of them half-initialised.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findCycles, importGraph } from '../support/import-graph.js';

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

describe('the import graph of src/', () => {
  it('has no cycle', () => {
    const graph = importGraph(srcDir);
    // The walk really saw the tree: the entry point and one of its known imports.
    expect(graph.get('cli.ts')).toContain('config/parse-config.ts');
    const cycles = findCycles(graph).map((cycle) => cycle.join(' -> '));
    expect(cycles, `import cycles in src/:\n${cycles.join('\n')}`).toEqual([]);
  });

  it('names each cycle once, from its first module, whether it runs through a type import or a dynamic import', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'import-cycles-'));
    try {
      const files: Record<string, string> = {
        'config.ts': "import { sign } from './sources/iam.js';\nimport type { Level } from './log.js';\n",
        'sources/iam.ts': "import type { Settings } from '../config.js';\n",
        'log.ts': "export { levels } from './levels.js';\nimport pino from 'pino';\n",
        'levels.ts': 'export const levels = [];\n',
        'daemon.ts': "import { Poller } from './poller.js';\n",
        'poller.ts': "import './report.js';\n",
        'report.ts': "const daemon = await import('./daemon.js');\n",
      };
      mkdirSync(path.join(dir, 'sources'));
      for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
      const graph = importGraph(dir);
      expect(graph.get('log.ts')).toEqual(['levels.ts']);
      expect(findCycles(graph)).toEqual([
        ['config.ts', 'sources/iam.ts', 'config.ts'],
        ['daemon.ts', 'poller.ts', 'report.ts', 'daemon.ts'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
