// The command line as users run it: the built dist/cli.js in a child process.

import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { createCoderCluster, monitorUrl } from '../support/scenario.js';

const cli = 'dist/cli.js';

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 });
}

/** The demo's entry point, built from dev/ into dist-dev/ (npm run demo). */
const demo = 'dist-dev/dev/demo.js';

/** Like run(), without blocking the worker: for commands that take seconds, like the demo starting PostgreSQL. */
function runToExit(script: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [script, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

describe('the command line', () => {
  it('prints help listing every setting and exits 0', () => {
    const result = run(['serve', '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: coder-pg-capacity <command> [flags]');
    expect(result.stdout).toContain('--coder.max-surge VALUE');
    expect(result.stdout).toContain('env: CODER_PG_CONNECTION_URL');
  });

  it('prints the version', () => {
    const result = run(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('lists every configuration problem with exit code 2 and no stack trace', () => {
    const result = run(['serve', '--coder.pool-max', 'lots', '--poll.timeout', 'soon'], { CODER_PG_CONNECTION_URL: 'postgres://coder:pw@db/coder' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--coder.pool-max="lots": expected a whole number');
    expect(result.stderr).toContain('--poll.timeout="soon": expected a duration');
    expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('rejects an unknown command with exit code 2', () => {
    const result = run(['serv']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "serv"');
  });

  it('ships no demo: asked for one, it says how to run it from a checkout', () => {
    const result = run(['demo']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('The demo runs from a checkout: npm ci && npm run demo.');
  });
});

describe('demo', () => {
  it('exits 1 when it cannot start, after removing the PostgreSQL it started', async () => {
    // The web port is taken: the demo fails after its PostgreSQL and replicas are up.
    const occupied = createServer();
    await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
    const port = (occupied.address() as AddressInfo).port;
    // A TMPDIR of its own shows whether the embedded PostgreSQL's data dir was removed;
    // world-traversable, since PostgreSQL runs as "postgres" when the tests run as root.
    const tmp = await mkdtemp(path.join(tmpdir(), 'demo-tmpdir-'));
    await chmod(tmp, 0o755);
    const matrix: Record<string, string> = process.env.CAPACITY_TEST_PG_MODULE ? { CAPACITY_TEST_PG_MODULE: process.env.CAPACITY_TEST_PG_MODULE } : {};
    try {
      const result = await runToExit(demo, ['--web.listen-address', `127.0.0.1:${port}`], { TMPDIR: tmp, ...matrix });
      expect(result.stderr).toContain(`cannot listen on 127.0.0.1:${port} (EADDRINUSE): check --web.listen-address`);
      expect(result.status).toBe(1);
      expect(await readdir(tmp)).toEqual([]);
    } finally {
      occupied.close();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('serve', () => {
  let server: TestPostgres;
  let hanging: ReturnType<typeof createServer>;
  let hangingUrl: string;

  beforeAll(async () => {
    server = await startPostgres({ maxConnections: 30 });
    await createCoderCluster(server);
    // A Coder target that accepts and never answers: SIGTERM will arrive mid-poll.
    hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/metrics`;
  });

  afterAll(async () => {
    hanging?.closeAllConnections();
    hanging?.close();
    await server?.destroy();
  });

  it('answers /healthz, and on SIGTERM during a poll exits 0 within 2 s', async () => {
    const child = spawn(
      process.execPath,
      [cli, 'serve', '--web.listen-address', '127.0.0.1:0', '--poll.schedule', '* * * * * *', '--poll.timeout', '10s', '--log.level', 'info'],
      { env: { PATH: process.env.PATH ?? '', CODER_PG_CONNECTION_URL: monitorUrl(server), CAPACITY_CODER_TARGETS: hangingUrl, CODER_PG_CONN_MAX_OPEN: '10' } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const listen = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not started: ${output}`)), 15_000);
        child.stdout.on('data', () => {
          const match = /"listen":"([^"]+)"/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1] as string);
          }
        });
      });
      const port = listen.split(':').pop();
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      // The first poll now waits on the hanging target (10 s timeout) when SIGTERM arrives.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const started = performance.now();
      child.kill('SIGTERM');
      const code = await exited;
      expect(code).toBe(0);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(output).toContain('"msg":"stopping"');
      expect(output).not.toContain('monitor-Secret-42');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
