// Child processes and directories a harness started, ended and removed when the process
// exits, should a test leave them behind. Kept on globalThis under one key per harness:
// vitest may evaluate a module once per test file in one worker, and one exit listener
// serves them all.

import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface EndedAtExit {
  children: Set<ChildProcess>;
  dirs: Set<string>;
}

/** The registry of `name` (one per harness); `signal` ends its children at exit. */
export function endedAtExit(name: string, signal: NodeJS.Signals): EndedAtExit {
  const key = Symbol.for(`coder-pg-capacity.${name}`);
  const holder = globalThis as { [key]?: EndedAtExit };
  const existing = holder[key];
  if (existing !== undefined) return existing;
  const created: EndedAtExit = { children: new Set(), dirs: new Set() };
  holder[key] = created;
  process.once('exit', () => {
    for (const child of created.children) child.kill(signal);
    for (const dir of created.dirs) rmSync(dir, { recursive: true, force: true });
  });
  return created;
}
