// Fault: a long life. 10,000 polls in one process, with the heap measured after forced
// garbage collections in a child process (`node --expose-gc`, the built dist/): growth
// must stay under 5 MB. See fixtures/many-polls.mjs for what each phase runs.

import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportFault } from '../support/faults.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { createCoderCluster, monitorUrl } from '../support/scenario.js';

const POLLS = 10_000;
const REAL_POLLS = 1_500;
const MAX_GROWTH_BYTES = 5 * 1024 * 1024;

let server: TestPostgres;

beforeAll(async () => {
  server = await startPostgres({ maxConnections: 20 });
  await createCoderCluster(server);
});

afterAll(async () => {
  await server?.destroy();
});

interface Phase {
  phase: 'replayed' | 'real';
  polls: number;
  before: number;
  after: number;
  growth: number;
  seconds: number;
}

function runChild(): Promise<Phase[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', 'test/faults/fixtures/many-polls.mjs', monitorUrl(server), String(POLLS), String(REAL_POLLS)], {
      env: { PATH: process.env.PATH ?? '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`many-polls.mjs exited ${code}: ${stderr}${stdout}`));
      else resolve(stdout.trim().split('\n').map((line) => JSON.parse(line) as Phase));
    });
  });
}

const mb = (bytes: number) => `${bytes >= 0 ? '+' : ''}${(bytes / 1024 / 1024).toFixed(2)} MB`;

describe('fault: 10,000 polls in one process', () => {
  it('grows the heap by less than 5 MB', { timeout: 180_000 }, async () => {
    const phases = await runChild();
    const replayed = phases.find((p) => p.phase === 'replayed') as Phase;
    const real = phases.find((p) => p.phase === 'real') as Phase;
    expect(replayed.polls).toBe(POLLS);
    expect(replayed.growth).toBeLessThan(MAX_GROWTH_BYTES);
    expect(real.growth).toBeLessThan(MAX_GROWTH_BYTES);
    reportFault(
      'heap-10000-polls',
      `heap ${mb(replayed.growth)} over ${POLLS} polls in ${replayed.seconds.toFixed(1)} s (real HTTP scrapes, PostgreSQL facts replayed), ${mb(real.growth)} over ${REAL_POLLS} polls on the real PostgreSQL connection`,
    );
  });
});
