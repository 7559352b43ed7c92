// Other applications' declared pools on a real PostgreSQL: the analytics role holds 4
// connections now but may open 30 (--other.budget analytics=30). The budget must leave
// room for the 30, the status page and check must show which declaration covers what, and
// a declaration below what its application holds is reported as stale.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startStandInReplica, type StandInReplica } from '../../dev/stand-in-replica.js';
import { runCheckCli } from '../support/check-cli.js';
import { startTestDaemon, type RunningDaemon } from '../support/daemon.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { OTHER_PASSWORD, coderUrl, createCoderCluster, holdConnections, monitorUrl } from '../support/scenario.js';

const prefix = 'coder_pg_capacity_';
let server: TestPostgres | undefined;
let other: Awaited<ReturnType<typeof holdConnections>> | undefined;
let replicas: StandInReplica[] = [];
let daemon: RunningDaemon | undefined;
let args: string[];

beforeAll(async () => {
  server = await startPostgres({ maxConnections: 60 });
  await createCoderCluster(server);
  other = await holdConnections(server.url('postgres', 'analytics', OTHER_PASSWORD), 4);
  replicas = await Promise.all([0, 1, 2].map(() => startStandInReplica({ connectionString: coderUrl(server!), poolMax: 20, open: 5, inUse: 2, applicationName: '' })));
  args = ['--postgres.url', monitorUrl(server), '--coder.role', 'coder', '--coder.targets', replicas.map((replica) => replica.url).join(',')];
  daemon = await startTestDaemon([...args, '--other.budget', 'analytics=30']);
  await vi.waitFor(async () => expect(await daemon!.sample(`${prefix}other_committed_connections`)).toBeDefined(), { timeout: 10_000 });
});

afterAll(async () => {
  await daemon?.stop();
  await Promise.all(replicas.map((replica) => replica.close()));
  await other?.close();
  await server?.destroy();
});

describe('--other.budget on a real PostgreSQL', () => {
  it('commits 31 other slots (30 declared + the monitor) and leaves room for them: budget headroom 57 - 31 - 63 = -37', async () => {
    const samples = await daemon!.scrape();
    expect(samples.get(`${prefix}other_connections`)).toBe(5);
    expect(samples.get(`${prefix}other_committed_connections`)).toBe(31);
    expect(samples.get(`${prefix}budget_headroom_connections{phase="steady"}`)).toBe(-37);
    expect(samples.get(`${prefix}slots_connections{part="other_unopened"}`)).toBe(26);
    // floor((45 - 31) / 4) - 1: the declared pool leaves room for pool max 2.
    expect(samples.get(`${prefix}recommended_pool_max_connections`)).toBe(2);
  });

  it('shows on the status page which declaration covers how many connections', async () => {
    const page = await (await fetch(`${daemon!.url}/`)).text();
    expect(page).toMatch(/<tr data-other-budget="analytics"><td class="name">analytics<\/td><td class="num">30<\/td><td class="num">4<\/td><\/tr>/);
    expect(page).toContain('31 committed in all');
  });

  it('lists the declarations in check and reports one below what it holds as stale', async () => {
    const run = await runCheckCli([...args, '--other.budget', 'analytics=3']);
    expect(run.stdout).toMatch(/Other applications \(--other\.budget\)\n\s+DECLARED\s+POOL\s+HOLDS NOW\n\s+analytics\s+3\s+4 \(stale\)/);
    expect(run.stdout).toContain('--other.budget analytics is stale');
    // Committed: 3 declared + the daemon's and check's own connections = 5; the budget uses
    // the larger live figure, 4 + those 2 = 6.
    expect(run.stdout).toMatch(/other, committed\s+5\s/);
    expect(run.stdout).toMatch(/budget headroom, steady\s+-12\s/);
    expect(run.status).toBe(2);
  });
});
