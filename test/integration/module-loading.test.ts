// What the built daemon loads into its process: only what it runs. Each module is resident
// memory for the daemon's whole life (bench case 6 measures what each costs).

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Node's internal modules a fresh process has loaded after importing `modules` from dist/. */
function internalModulesAfterImporting(...modules: string[]): string[] {
  const script = `${modules.map((module) => `await import('./dist/${module}');`).join(' ')} process.stdout.write(JSON.stringify(process.moduleLoadList));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

describe('the modules the daemon loads', () => {
  it('leaves out undici, Node\'s fetch, which node-postgres\'s Cloudflare check would load on Node 20', () => {
    const loaded = internalModulesAfterImporting('daemon.js', 'sources/persistent-client.js');
    expect(loaded.some((name) => name.includes('pg') || name.includes('http'))).toBe(true);
    expect(loaded.filter((name) => name.includes('undici'))).toEqual([]);
  });
});
