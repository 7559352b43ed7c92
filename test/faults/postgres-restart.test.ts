// Fault: PostgreSQL stops in the middle of a run and comes back. The daemon must stay up,
// say postgres_up 0 with no frozen capacity figure, and see PostgreSQL again at the first
// poll after it is back (the reconnect backoff never makes a poll skip its attempt).

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PollResult } from '../../src/model/poll-result.js';
import { startTestDaemon, type RunningDaemon } from '../support/daemon.js';
import { reportFault, seconds } from '../support/faults.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { createCoderCluster, monitorUrl } from '../support/scenario.js';

const prefix = 'coder_pg_capacity_';
const POLL_INTERVAL_MS = 1000;
let server: TestPostgres;
let daemon: RunningDaemon;
const polls: PollResult[] = [];

beforeAll(async () => {
  server = await startPostgres({ maxConnections: 30 });
  await createCoderCluster(server);
  daemon = await startTestDaemon(['--postgres.url', monitorUrl(server), '--coder.role', 'coder', '--coder.replicas', '2']);
  daemon.poller.onPoll((result) => polls.push(result));
  await vi.waitFor(async () => expect(await daemon.sample(`${prefix}postgres_up`)).toBe(1), { timeout: 10_000 });
});

afterAll(async () => {
  await daemon?.stop();
  await server?.destroy();
});

describe('fault: PostgreSQL stopped mid-run and started again', () => {
  it('stays up, reports postgres_up 0 with no frozen figures, and recovers at the first poll after PostgreSQL is back', async () => {
    const before = await daemon.scrape();
    expect(before.get(`${prefix}headroom_connections`)).toBeGreaterThan(0);

    const stoppedAt = performance.now();
    await server.stop();
    await vi.waitFor(async () => expect(await daemon.sample(`${prefix}postgres_up`)).toBe(0), { timeout: 5000, interval: 100 });
    const noticedMs = performance.now() - stoppedAt;

    // Down long enough for an exponential backoff to outgrow the poll interval (0.5, 1, 2, 4 s).
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const down = await daemon.scrape();
    for (const derived of ['available_connections', 'used_connections', 'headroom_connections', 'utilization_ratio', 'max_safe_replicas', 'recommended_pool_max_connections']) {
      expect(down.get(prefix + derived), `${derived} must be absent, not frozen`).toBeUndefined();
    }
    expect(down.get(`${prefix}budget_headroom_connections{phase="steady"}`)).toBeUndefined();
    expect(down.get(`${prefix}postgres_up`)).toBe(0);
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    const api = (await (await fetch(`${daemon.url}/api/v1/capacity`)).json()) as { capacity: unknown; postgres: { error: string } };
    expect(api.capacity).toBeNull();
    expect(api.postgres.error).toMatch(/^cannot reach PostgreSQL at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)|terminated the monitor's connection|connection lost/);
    const failedPolls = polls.filter((p) => p.postgresError !== null).length;

    await server.start();
    const backAt = Date.now();
    await vi.waitFor(() => expect(polls.at(-1)?.postgresError).toBeNull(), { timeout: 10_000, interval: 20 });
    const recovered = polls.find((p) => p.completedAt >= backAt && p.postgresError === null) as PollResult;
    const recoveryMs = recovered.completedAt - backAt;
    // Every poll that started after PostgreSQL was back succeeded: at most one poll interval,
    // plus the poll's own time.
    expect(recoveryMs).toBeLessThanOrEqual(POLL_INTERVAL_MS + 500);
    const failedAfterBack = polls.filter((p) => p.completedAt > backAt + 200 && p.postgresError !== null);
    expect(failedAfterBack).toEqual([]);

    const after = await daemon.scrape();
    expect(after.get(`${prefix}postgres_up`)).toBe(1);
    expect(after.get(`${prefix}headroom_connections`)).toBeGreaterThan(0);
    expect(after.get(`${prefix}poll_errors_total{source="postgres"}`)).toBeGreaterThanOrEqual(failedPolls);
    reportFault(
      'postgres-restart',
      `postgres_up 0 within ${seconds(noticedMs)}, ${failedPolls} failed polls with no figure frozen, recovered ${seconds(recoveryMs)} after PostgreSQL was back (poll interval ${seconds(POLL_INTERVAL_MS)})`,
    );
  });
});
