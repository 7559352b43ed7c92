// What `npm pack` ships is the daemon only (no demo harness, no dev dependency), and a
// tarball installed the way a user would install it serves: /readyz on a real PostgreSQL
// and the runbooks the alerts link to.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { createCoderCluster, monitorUrl } from '../support/scenario.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let work: string;
let tarball: string;
let files: string[];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'pack-'));
  // --ignore-scripts: the global setup has built dist/ already; prepare would build it again.
  const packed = JSON.parse(execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(work, packed[0]!.filename);
  files = packed[0]!.files.map((file) => file.path);
}, 120_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the package', () => {
  it('holds the daemon, the alerts, the dashboard and the runbooks, and no harness', () => {
    expect(files).toEqual(expect.arrayContaining(['dist/cli.js', 'dist/daemon.js', 'alerts/coder-pg-capacity.rules.yml', 'grafana/coder-pg-capacity.json', 'docs/runbooks.md', 'docs/configuration.md', 'docs/metrics.md', 'package.json', 'README.md']));
    const harness = files.filter(
      (file) => /^(dev|dist-dev|test|bench|src|scripts|alerts\/rules)\//.test(file) || /\.ts$/.test(file) || file.includes('demo') || file.includes('stand-in') || file.includes('embedded-postgres'),
    );
    expect(harness).toEqual([]);
  });

  describe('installed from the tarball', () => {
    let server: TestPostgres | undefined;
    let daemon: ChildProcess | undefined;

    afterAll(async () => {
      if (daemon?.pid !== undefined && daemon.exitCode === null) {
        process.kill(daemon.pid, 'SIGTERM');
        await new Promise((resolve) => daemon!.once('exit', resolve));
      }
      await server?.destroy();
    });

    it('serves /readyz and /runbooks', async () => {
      const prefix = path.join(work, 'install');
      // --prefer-offline: npm ci filled the cache with every production dependency.
      execFileSync(npm, ['install', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--omit=dev', tarball], { encoding: 'utf8', stdio: 'pipe' });
      server = await startPostgres({ maxConnections: 20 });
      await createCoderCluster(server);
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      daemon = spawn(path.join(prefix, 'node_modules', '.bin', 'coder-pg-capacity'), ['serve', '--web.listen-address', `127.0.0.1:${port}`, '--coder.replicas', '3'], {
        env: { PATH: process.env.PATH ?? '', CODER_PG_CONNECTION_URL: monitorUrl(server) },
        stdio: 'ignore',
      });
      await vi.waitFor(async () => expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200), { timeout: 20_000, interval: 200 });
      const runbooks = await fetch(`http://127.0.0.1:${port}/runbooks`);
      expect(runbooks.status).toBe(200);
      expect(await runbooks.text()).toContain('id="coderpostgresbudgetovercommitted"');
    }, 180_000);
  });
});
