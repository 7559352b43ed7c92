// Fault: SIGTERM while a poll is waiting on a Coder target that never answers (Kubernetes
// stopping the pod mid-poll). The built CLI, as users run it, must exit 0 within 2 s and
// leave nothing open: PostgreSQL sees the monitor's connection gone, the target sees its
// connection closed, the port is free.

import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MONITOR_APPLICATION_NAME } from '../../src/sources/postgres.js';
import { reportFault, seconds } from '../support/faults.js';
import { hangingTarget, type Target } from '../support/misbehaving-targets.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { MONITOR_PASSWORD, createCoderCluster, monitorUrl } from '../support/scenario.js';

let server: TestPostgres;
let hanging: Target;

beforeAll(async () => {
  [server, hanging] = await Promise.all([startPostgres({ maxConnections: 20 }), hangingTarget()]);
  await createCoderCluster(server);
});

afterAll(async () => {
  await hanging?.close();
  await server?.destroy();
});

async function monitorBackends(): Promise<number> {
  const admin = await server.admin();
  try {
    return (await admin.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [MONITOR_APPLICATION_NAME])).rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('fault: SIGTERM during a poll', () => {
  it('exits 0 within 2 s, and PostgreSQL, the target and the port see everything closed', async () => {
    const child = spawn(process.execPath, ['dist/cli.js', 'serve', '--web.listen-address', '127.0.0.1:0', '--poll.schedule', '*/30 * * * * *', '--poll.timeout', '20s'], {
      env: { PATH: process.env.PATH ?? '', CODER_PG_CONNECTION_URL: monitorUrl(server), CAPACITY_CODER_TARGETS: hanging.url },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const port = await vi.waitFor(
        () => {
          const match = /"listen":"[^"]*:(\d+)"/.exec(output);
          if (!match) throw new Error(`not started yet: ${output}`);
          return Number(match[1]);
        },
        { timeout: 15_000, interval: 50 },
      );
      // The first poll: PostgreSQL answered (its connection is open), the Coder scrape hangs.
      await vi.waitFor(async () => expect(await monitorBackends()).toBe(1), { timeout: 10_000, interval: 100 });
      await vi.waitFor(() => expect(hanging.requests()).toBe(1), { timeout: 5000, interval: 50 });
      expect(hanging.openConnections()).toBe(1);

      const started = performance.now();
      child.kill('SIGTERM');
      const code = await exited;
      const exitMs = performance.now() - started;
      expect(code).toBe(0);
      expect(exitMs).toBeLessThan(2000);
      expect(output).toContain('"msg":"stopping"');
      expect(output).not.toContain(MONITOR_PASSWORD);

      // PostgreSQL notices a closed socket at once; its backend may need a moment to exit.
      await vi.waitFor(async () => expect(await monitorBackends()).toBe(0), { timeout: 2000, interval: 50 });
      expect(await portAcceptsConnections(port)).toBe(false);
      await vi.waitFor(() => expect(hanging.openConnections()).toBe(0), { timeout: 1000, interval: 20 });
      reportFault('sigterm-mid-poll', `exit 0 in ${seconds(exitMs)} with a scrape hanging; PostgreSQL sees no monitor connection, the target's connection is closed, the web port is closed`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
