// The import graph of a source tree and the cycles in it. Imports are read with the
// TypeScript compiler's own pre-processor, so `import type`, `export ... from` and
// dynamic `import()` all count: a cycle through a type still ties two modules together.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Module (path relative to the root, '/'-separated) to the modules it imports. */
export type ImportGraph = Map<string, string[]>;

/** Every .ts file under `root` and its relative imports, `./x.js` resolved to `x.ts`. */
export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of tsFiles(root)) {
    const text = readFileSync(path.join(root, file), 'utf8');
    const imports = ts
      .preProcessFile(text, true, true)
      .importedFiles.map((imported) => imported.fileName)
      .filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'))
      .map((specifier) => toPosix(path.normalize(path.join(path.dirname(file), specifier))).replace(/\.js$/, '.ts'));
    graph.set(file, [...new Set(imports)].sort());
  }
  return graph;
}

/**
 * Each cycle once, as the modules along it with the first repeated at the end
 * (a.ts -> b.ts -> a.ts), starting from its alphabetically first module.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];

  const visit = (module: string): void => {
    state.set(module, 'visiting');
    stack.push(module);
    for (const next of graph.get(module) ?? []) {
      if (!graph.has(next)) continue; // outside the tree, or a file that does not exist: tsc reports that
      if (state.get(next) === 'visiting') {
        const cycle = stack.slice(stack.indexOf(next));
        const first = cycle.indexOf([...cycle].sort()[0] as string);
        const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
        cycles.set(rotated.join(' -> '), [...rotated, rotated[0] as string]);
      } else if (state.get(next) === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(module, 'done');
  };

  for (const module of [...graph.keys()].sort()) if (state.get(module) === undefined) visit(module);
  return [...cycles.values()];
}

function tsFiles(root: string, dir = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const relative = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) files.push(...tsFiles(root, relative));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(relative);
  }
  return files.sort();
}

function toPosix(file: string): string {
  return file.split(path.sep).join('/');
}
