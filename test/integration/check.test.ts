// `check` as users run it: the built dist/cli.js in a child process, against a real
// PostgreSQL and stand-in Coder replicas holding real connections. The exit code is the
// contract a pipeline gates on: 0 fits, 1 fits with a warning, 2 does not fit or cannot tell.

import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceCluster, type ReferenceCluster } from '../../dev/reference-scenario.js';
import { startStandInReplica, type StandInReplica } from '../../dev/stand-in-replica.js';
import { runCheckCli, type CheckRun } from '../support/check-cli.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { MONITOR_PASSWORD, coderUrl, createCoderCluster, monitorUrl } from '../support/scenario.js';

const check = runCheckCli;

/** A figure row of the text report, e.g. "budget headroom, steady   -14". */
function figure(stdout: string, label: string): string | undefined {
  const line = stdout.split('\n').find((candidate) => candidate.trimStart().startsWith(`${label} `));
  return line?.slice(line.indexOf(label) + label.length).trim().split(/\s+/)[0];
}

async function startReplicas(server: TestPostgres, count: number, open: number): Promise<StandInReplica[]> {
  return Promise.all(
    Array.from({ length: count }, () => startStandInReplica({ connectionString: coderUrl(server), poolMax: 20, open, inUse: 2, applicationName: '' })),
  );
}

describe('check on the reference scenario (max_connections 60, 3 replicas at pool max 20, 7 other connections)', () => {
  let cluster: ReferenceCluster | undefined;
  let server: TestPostgres;
  let replicas: StandInReplica[] = [];
  let args: string[];
  /** One text run shared by the tests that only read it. */
  let text: CheckRun;

  beforeAll(async () => {
    cluster = await startReferenceCluster();
    ({ server, replicas, daemonArgs: args } = cluster);
    text = await check(args);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('exits 2, says overcommitted by 14 and 35, and recommends pool max 8 or 1 replica', () => {
    const run = text;
    expect(run.status, run.stderr).toBe(2);
    expect(run.stdout.split('\n')[0]).toBe('Overcommitted');
    expect(figure(run.stdout, 'available')).toBe('57');
    expect(figure(run.stdout, 'coder')).toBe('18');
    expect(figure(run.stdout, 'other')).toBe('8');
    expect(figure(run.stdout, 'headroom')).toBe('31');
    expect(figure(run.stdout, 'budget, steady')).toBe('63');
    expect(figure(run.stdout, 'budget, rollout')).toBe('84');
    expect(figure(run.stdout, 'budget headroom, steady')).toBe('-14');
    expect(figure(run.stdout, 'budget headroom, rollout')).toBe('-35');
    expect(figure(run.stdout, 'recommended pool max')).toBe('8');
    expect(figure(run.stdout, 'max safe replicas')).toBe('1');
    expect(run.stdout.replace(/\s+/g, ' ')).toContain('Fix: lower the pool max to 8 (CODER_PG_CONN_MAX_OPEN) for 3 replicas, or run at most 1 replica at pool max 20');
    expect(run.stdout).toContain('Exit code 2: does not fit');
  });

  it('prints the connection facts an admin would otherwise collect by hand', () => {
    const run = text;
    expect(run.stdout).toMatch(new RegExp(`server\\s+PostgreSQL ${server.majorVersion}\\.\\d+, port ${server.port}`));
    expect(run.stdout).toMatch(/current database\s+coder\n/);
    expect(run.stdout).toMatch(/current user\s+monitor, not a superuser, privileges sufficient \(pg_read_all_stats\)/);
    expect(run.stdout).toMatch(/Coder's role\s+coder, not a superuser, cannot use reserved connections, no connection limit/);
    expect(run.stdout).toMatch(/max_connections\s+60\n/);
    expect(run.stdout).toMatch(/reserved slots\s+3 superuser_reserved_connections/);
    for (const replica of replicas) expect(run.stdout).toMatch(new RegExp(`${replica.url.replace(/[.]/g, '\\.')}\\s+up\\s+20\\s+5\\s+2\\s+3\\s+0`));
    expect(run.stdout).not.toContain(MONITOR_PASSWORD);
  });

  it('--output json parses and holds the same figures and the exit code', async () => {
    const run = await check([...args, '--output', 'json']);
    expect(run.status).toBe(2);
    const report = JSON.parse(run.stdout) as {
      verdict: { headline: string; exitCode: number };
      capacity: { available: number; coder: number; other: number; headroom: number; budget: { steady: number; rollout: number }; budgetHeadroom: { steady: number; rollout: number }; recommendedPoolMax: number; maxSafeReplicas: number };
      postgres: { up: boolean; facts: { maxConnections: number; session: { user: string; port: number } } };
      replicas: { up: boolean; poolMax: number }[];
    };
    expect(report.verdict).toMatchObject({ headline: 'Overcommitted', exitCode: 2 });
    expect(report.capacity).toMatchObject({
      available: 57,
      coder: 18,
      other: 8,
      headroom: 31,
      budget: { steady: 63, rollout: 84 },
      budgetHeadroom: { steady: -14, rollout: -35 },
      recommendedPoolMax: 8,
      maxSafeReplicas: 1,
    });
    expect(report.postgres).toMatchObject({ up: true, facts: { maxConnections: 60, session: { user: 'monitor', port: server.port } } });
    expect(report.replicas.map((r) => [r.up, r.poolMax])).toEqual([[true, 20], [true, 20], [true, 20]]);
  });
});

describe('check of a planned change on a roomy server (max_connections 200, 2 replicas at pool max 20)', () => {
  let server: TestPostgres;
  let replicas: StandInReplica[] = [];
  let args: string[];

  beforeAll(async () => {
    server = await startPostgres({ maxConnections: 200 });
    await createCoderCluster(server);
    replicas = await startReplicas(server, 2, 3);
    args = ['--postgres.url', monitorUrl(server), '--coder.role', 'coder', '--coder.targets', replicas.map((r) => r.url).join(',')];
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await server?.destroy();
  });

  it('6 replicas at pool max 15 fit (budget 96 / 144 of 196: 2 surge and 1 stopping pod), exit 0, with 16 the largest pool max and 9 replicas', async () => {
    const run = await check([...args, '--coder.replicas', '6', '--coder.pool-max', '15']);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('Fits');
    expect(run.stdout).toMatch(/judged\s+6 replicas \(2 observed, 4 more planned\), every one at pool max 15 \(--coder.pool-max\)/);
    expect(run.stdout).toMatch(/answer\s+Fits\n/);
    expect(run.stdout).toMatch(/largest pool max\s+16 for 6 replicas/);
    expect(run.stdout).toMatch(/replicas that fit\s+9 at pool max 15/);
    expect(figure(run.stdout, 'budget, steady')).toBe('96');
    expect(figure(run.stdout, 'budget, rollout')).toBe('144');
    expect(figure(run.stdout, 'budget headroom, rollout')).toBe('52');
    // The replica table keeps what the replicas report; the plan is judged apart.
    expect(run.stdout).toMatch(/up\s+20\s+3\s+2\s+1\s+0/);
    expect(run.stdout).toContain('Exit code 0: fits.');
  });

  it("without --coder.pool-max it judges the replicas' own pool max 20: a rollout fits, the margin does not (exit 1)", async () => {
    // Coder's own variable is today's setting, not a plan: it does not override what replicas report.
    const run = await check([...args, '--coder.replicas', '6'], { CODER_PG_CONN_MAX_OPEN: '15' });
    expect(run.status, run.stdout + run.stderr).toBe(1);
    // 6 × 21 + (2 surge + 1 stopping) × 21 = 189 of the 196 left for Coder.
    expect(figure(run.stdout, 'budget, rollout')).toBe('189');
    expect(figure(run.stdout, 'budget headroom, rollout')).toBe('7');
    expect(run.stdout).toContain('The 20% safety margin is not kept');
    expect(run.stdout).toMatch(/largest pool max\s+16 for 6 replicas/);
    expect(run.stdout).toMatch(/replicas that fit\s+7 at pool max 20/);
  });

  it('6 replicas at pool max 30 overcommit the rollout by 83 (2 surge and 1 stopping pod): exit 2', async () => {
    const run = await check([...args, '--coder.replicas', '6', '--coder.pool-max', '30']);
    expect(run.status).toBe(2);
    expect(run.stdout.split('\n')[0]).toBe('Rollout overcommitted');
    expect(figure(run.stdout, 'budget headroom, steady')).toBe('10');
    expect(figure(run.stdout, 'budget headroom, rollout')).toBe('-83');
  });
});

describe('check without PostgreSQL', () => {
  it('exits 2 and says why: the address and ECONNREFUSED', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const run = await check(['--postgres.url', `postgres://monitor:${MONITOR_PASSWORD}@127.0.0.1:${port}/coder`]);
    expect(run.status).toBe(2);
    expect(run.stdout.split('\n')[0]).toBe('PostgreSQL unreachable');
    expect(run.stdout).toContain(`cannot reach PostgreSQL at 127.0.0.1:${port} (ECONNREFUSED)`);
    expect(run.stdout + run.stderr).not.toContain(MONITOR_PASSWORD);
  });
});
