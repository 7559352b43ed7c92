// PgBouncer between Coder and PostgreSQL, for real: Debian's PgBouncer in front of the test
// PostgreSQL (max_connections 100, 10 connections of another application), stand-in coderd
// replicas at pool max 20 connecting through it (each pooled connection runs a query, so
// PgBouncer links it to a server connection), and the monitor reading PgBouncer's admin
// console with --pgbouncer.url. The worked example: pool_size=25 for Coder's
// database in session mode gives budget 63 / 84, server cap 25, budget on PostgreSQL
// 25 / 25, budget headroom 97 - 11 - 25 = 61, and 59 of the 84 rollout connections queued.

import { promises as dns } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startStandInReplica, type StandInReplica } from '../../dev/stand-in-replica.js';
import { runCheckCli, type CheckRun } from '../support/check-cli.js';
import { startTestDaemon, type RunningDaemon } from '../support/daemon.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { startPgbouncer, type PgbouncerDatabaseOptions, type PoolMode, type TestPgbouncer } from '../support/pgbouncer.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { CODER_PASSWORD, OTHER_PASSWORD, createCoderCluster, holdConnections, monitorUrl } from '../support/scenario.js';

const prefix = 'coder_pg_capacity_';
const ADMIN = { name: 'pgbouncer_admin', password: 'admin-Secret-42' };

let server: TestPostgres;
let other: Awaited<ReturnType<typeof holdConnections>>;

beforeAll(async () => {
  server = await startPostgres({ maxConnections: 100 });
  await createCoderCluster(server);
  other = await holdConnections(server.url('postgres', 'analytics', OTHER_PASSWORD), 10);
});

afterAll(async () => {
  await other?.close();
  await server?.destroy();
});

/** What one describe started, stopped in reverse order by its afterAll. */
function harness() {
  const stops: (() => Promise<unknown>)[] = [];
  return {
    async bouncer(poolMode: PoolMode, maxClientConn: number, databases: PgbouncerDatabaseOptions[] = [{ name: 'coder', poolSize: 25 }]): Promise<TestPgbouncer> {
      const bouncer = await startPgbouncer({ postgres: server, adminUser: ADMIN, poolMode, maxClientConn, databases });
      stops.push(() => bouncer.stop());
      return bouncer;
    },
    /** Replicas at pool max 20 holding 5 pooled connections + 1 LISTEN through `bouncer`'s `entry`, as real coderd (no application_name). */
    async replicas(bouncer: TestPgbouncer, count: number, entry = 'coder'): Promise<StandInReplica[]> {
      const started = await Promise.all(
        Array.from({ length: count }, () => startStandInReplica({ connectionString: bouncer.clientUrl(entry, 'coder', CODER_PASSWORD), poolMax: 20, open: 5, applicationName: '' })),
      );
      stops.push(() => Promise.all(started.map((replica) => replica.close())));
      return started;
    },
    async daemon(args: string[], resolver?: dns.Resolver): Promise<RunningDaemon> {
      const daemon = await startTestDaemon(args, {}, { resolver });
      stops.push(() => daemon.stop());
      return daemon;
    },
    async stop(): Promise<void> {
      for (const step of stops.reverse()) await step().catch(() => undefined);
    },
  };
}

function monitorArgs(replicas: StandInReplica[], pgbouncerUrl: string): string[] {
  return ['--postgres.url', monitorUrl(server), '--coder.role', 'coder', '--coder.targets', replicas.map((replica) => replica.url).join(','), '--pgbouncer.url', pgbouncerUrl];
}

/** A figure row of check's text report, e.g. "server cap   25". */
function figure(stdout: string, label: string): string | undefined {
  const line = stdout.split('\n').find((candidate) => candidate.trimStart().startsWith(`${label} `));
  return line?.slice(line.indexOf(label) + label.length).trim().split(/\s+/)[0];
}

const waitFor = (check: () => Promise<void>) => vi.waitFor(check, { timeout: 10_000, interval: 250 });

describe('the worked example: three replicas at pool max 20 through PgBouncer in session mode, pool_size=25', () => {
  const started = harness();
  let bouncer: TestPgbouncer;
  let replicas: StandInReplica[];
  let report: CheckRun;

  beforeAll(async () => {
    bouncer = await started.bouncer('session', 150);
    replicas = await started.replicas(bouncer, 3);
    report = await runCheckCli(monitorArgs(replicas, bouncer.adminUrl));
  });

  afterAll(() => started.stop());

  it('check exits 2: 59 of the 84 rollout connections would queue in PgBouncer', () => {
    expect(report.status, report.stderr).toBe(2);
    expect(report.stdout.split('\n')[0]).toBe("Coder's connections would queue in PgBouncer");
    expect(report.stdout.replace(/\s+/g, ' ')).toContain("59 of Coder's 84 rollout connections would queue in PgBouncer (38 of 63 steady)");
  });

  it('check reports both layers: budget 63 / 84, server cap 25, budget on PostgreSQL 25 / 25, budget headroom 61 / 61', () => {
    expect(figure(report.stdout, 'budget, steady')).toBe('63');
    expect(figure(report.stdout, 'budget, rollout')).toBe('84');
    expect(figure(report.stdout, 'server cap')).toBe('25');
    expect(figure(report.stdout, 'budget on PostgreSQL, steady')).toBe('25');
    expect(figure(report.stdout, 'budget on PostgreSQL, rollout')).toBe('25');
    expect(figure(report.stdout, 'available')).toBe('97');
    expect(figure(report.stdout, 'other')).toBe('11');
    expect(figure(report.stdout, 'budget headroom, steady')).toBe('61');
    expect(figure(report.stdout, 'budget headroom, rollout')).toBe('61');
    expect(figure(report.stdout, 'would queue, rollout')).toBe('59');
    expect(figure(report.stdout, "Coder's pool mode")).toBe('session');
  });

  it('check names the pool_size that queues nothing and fits PostgreSQL: 84', () => {
    expect(figure(report.stdout, 'pool_size that fits')).toBe('84');
    expect(report.stdout.replace(/\s+/g, ' ')).toContain("Fix: pool_size 84 for Coder's pool on every instance queues nothing in a rollout and fits PostgreSQL.");
  });

  it('check --pgbouncer.pool-size 84 judges the planned pool_size: nothing queues, and Coder fits', async () => {
    const planned = await runCheckCli([...monitorArgs(replicas, bouncer.adminUrl), '--pgbouncer.pool-size', '84']);
    expect(planned.stdout.split('\n')[0]).toBe('Fits');
    expect(planned.stdout).toContain('PgBouncer (what-if: pool_size 84 on every instance, --pgbouncer.pool-size)');
    expect(figure(planned.stdout, 'server cap')).toBe('84');
    expect(figure(planned.stdout, 'would queue, rollout')).toBe('0');
    expect(figure(planned.stdout, 'budget headroom, rollout')).toBe('2');
    expect(planned.stdout).not.toContain('would queue in PgBouncer');
  });

  it('check --output json carries the pooler figures and each instance as read', async () => {
    const json = await runCheckCli([...monitorArgs(replicas, bouncer.adminUrl), '--output', 'json']);
    const document = JSON.parse(json.stdout) as {
      verdict: { kind: string; exitCode: number };
      capacity: { postgresBudget: unknown; pooler: { serverCap: number; queued: unknown; clientCapacity: number } };
      pgbouncer: { instances: { instance: string; up: boolean; coderPool: { poolSize: number; poolMode: string } }[] };
    };
    expect(document.verdict).toMatchObject({ kind: 'pgbouncer-queueing', exitCode: 2 });
    expect(document.capacity.postgresBudget).toEqual({ steady: 25, rollout: 25 });
    expect(document.capacity.pooler).toMatchObject({ serverCap: 25, queued: { steady: 38, rollout: 59 }, clientCapacity: 150 });
    expect(document.pgbouncer.instances).toEqual([expect.objectContaining({ instance: `127.0.0.1:${bouncer.port}`, up: true, coderPool: expect.objectContaining({ poolSize: 25, poolMode: 'session' }) })]);
  });

  describe('the daemon watching it', () => {
    let daemon: RunningDaemon;

    beforeAll(async () => {
      daemon = await started.daemon(monitorArgs(replicas, bouncer.adminUrl));
      await waitFor(async () => expect(await daemon.sample(`${prefix}pgbouncer_server_connections_cap`)).toBe(25));
    });

    it('exports both layers on /metrics, budget_headroom_connections on the budget on PostgreSQL', async () => {
      const samples = await daemon.scrape();
      const phased = (name: string) => [samples.get(`${prefix}${name}{phase="steady"}`), samples.get(`${prefix}${name}{phase="rollout"}`)];
      expect(samples.get(`${prefix}pgbouncer_up{pgbouncer="127.0.0.1:${bouncer.port}"}`)).toBe(1);
      expect(samples.get(`${prefix}source_up{source="pgbouncer"}`)).toBe(1);
      expect(samples.get(`${prefix}poll_errors_total{source="pgbouncer"}`)).toBe(0);
      expect(phased('coder_budget_connections')).toEqual([63, 84]);
      expect(phased('postgres_budget_connections')).toEqual([25, 25]);
      expect(phased('budget_headroom_connections')).toEqual([61, 61]);
      expect(phased('pgbouncer_queued_connections')).toEqual([38, 59]);
      // 150 client slots, the daemon's own admin connection the only other client.
      expect(samples.get(`${prefix}pgbouncer_client_connections_limit`)).toBe(150);
      expect(phased('pgbouncer_client_headroom_connections')).toEqual([150 - 1 - 63, 150 - 1 - 84]);
      expect(samples.get(`${prefix}pgbouncer_pool_mode_session`)).toBe(1);
      expect(samples.get(`${prefix}pgbouncer_clients_waiting`)).toBe(0);
      expect(samples.get(`${prefix}pgbouncer_max_wait_seconds`)).toBe(0);
    });

    it("leaves unaccounted absent: Coder's backends are PgBouncer's server connections, not the replicas' open ones", async () => {
      const samples = await daemon.scrape();
      expect(samples.get(`${prefix}coder_connections`)).toBe(18);
      expect(samples.has(`${prefix}unaccounted_coder_connections`)).toBe(false);
      expect([...samples.keys()].filter((key) => key.startsWith(`${prefix}blind{`))).toEqual([]);
    });

    it('shows the pooler layer on the status page, the slot bar drawn at the cap', async () => {
      const page = await (await fetch(`${daemon.url}/`)).text();
      expect(page).toContain('<h1>Coder&#39;s connections would queue in PgBouncer</h1>');
      expect(page).toMatch(/<tr data-figure="pgbouncer-server-cap"><th scope="row">server cap<\/th><td class="num">25<\/td>/);
      expect(page).toMatch(/<tr data-figure="postgres-budget-rollout"><th scope="row">budget on PostgreSQL, rollout<\/th><td class="num">25<\/td>/);
      expect(page).toContain(`<tr data-pgbouncer="127.0.0.1:${bouncer.port}">`);
      expect(page).toContain('rollout budget 25 on PostgreSQL (PgBouncer cap 25)');
    });
  });
});

describe('the worked example in transaction mode', () => {
  const started = harness();
  let report: CheckRun;

  beforeAll(async () => {
    const bouncer = await started.bouncer('transaction', 150);
    const replicas = await started.replicas(bouncer, 3);
    report = await runCheckCli(monitorArgs(replicas, bouncer.adminUrl));
  });

  afterAll(() => started.stop());

  it('says "Coder\'s LISTEN needs session mode" and exits 2', () => {
    expect(report.status, report.stderr).toBe(2);
    expect(report.stdout.split('\n')[0]).toBe("Coder's LISTEN needs session mode");
    expect(report.stdout).toMatch(/Coder's pool mode\s+transaction\s/);
    expect(report.stdout.replace(/\s+/g, ' ')).toContain('(transaction mode, from the global pool_mode)');
  });
});

describe("an entry named differently from Coder's database: [databases] coder_pool = dbname=coder", () => {
  const started = harness();
  let replicas: StandInReplica[];
  let bouncer: TestPgbouncer;

  beforeAll(async () => {
    bouncer = await started.bouncer('session', 150, [{ name: 'coder_pool', dbname: 'coder', poolSize: 25 }]);
    replicas = await started.replicas(bouncer, 3, 'coder_pool');
  });

  afterAll(() => started.stop());

  it('without --pgbouncer.database cannot judge, and names the entry it looked for and the flag to give', async () => {
    const report = await runCheckCli(monitorArgs(replicas, bouncer.adminUrl));
    expect(report.status, report.stderr).toBe(2);
    expect(report.stdout.split('\n')[0]).toMatch(/^Cannot judge/);
    expect(report.stdout.replace(/\s+/g, ' ')).toContain(`has no [databases] entry named "coder" (--pgbouncer.database, by default --coder.database)`);
    expect(figure(report.stdout, 'server cap')).toBe('unknown');
  });

  it('with --pgbouncer.database coder_pool finds the pool and judges it: server cap 25, 59 of 84 would queue', async () => {
    const report = await runCheckCli([...monitorArgs(replicas, bouncer.adminUrl), '--pgbouncer.database', 'coder_pool']);
    expect(report.status, report.stderr).toBe(2);
    expect(report.stdout.split('\n')[0]).toBe("Coder's connections would queue in PgBouncer");
    expect(figure(report.stdout, 'server cap')).toBe('25');
    expect(report.stdout).toMatch(/coder_pool\/coder/);
  });
});

describe('a PgBouncer whose max_client_conn (40) is below Coder\'s budget', () => {
  const started = harness();
  let report: CheckRun;

  beforeAll(async () => {
    const bouncer = await started.bouncer('session', 40, [{ name: 'coder', poolSize: 90 }]);
    const replicas = await started.replicas(bouncer, 3);
    report = await runCheckCli(monitorArgs(replicas, bouncer.adminUrl));
  });

  afterAll(() => started.stop());

  it('reports client headroom 40 - 1 - 63 = -24 (-45 in a rollout), names max_client_conn and exits 2', () => {
    expect(report.status, report.stderr).toBe(2);
    expect(report.stdout.split('\n')[0]).toBe('PgBouncer overcommitted');
    expect(figure(report.stdout, 'client capacity')).toBe('40');
    expect(figure(report.stdout, 'client headroom, steady')).toBe('-24');
    expect(figure(report.stdout, 'client headroom, rollout')).toBe('-45');
    expect(report.stdout.replace(/\s+/g, ' ')).toContain('raise max_client_conn to at least 85 in all');
  });
});

describe('two PgBouncer instances, and one that goes away', () => {
  const started = harness();
  let a: TestPgbouncer;
  let b: TestPgbouncer;
  let daemon: RunningDaemon;
  const instanceA = () => `127.0.0.1:${a.port}`;
  const instanceB = () => `127.0.0.1:${b.port}`;

  // a's two replicas hold 2 x 6 of its 13 server connections, b's one 6 of its 12: nobody waits.
  beforeAll(async () => {
    [a, b] = await Promise.all([started.bouncer('session', 70, [{ name: 'coder', poolSize: 13 }]), started.bouncer('session', 90, [{ name: 'coder', poolSize: 12 }])]);
    const replicas = [...(await started.replicas(a, 2)), ...(await started.replicas(b, 1))];
    daemon = await started.daemon(monitorArgs(replicas, `${a.adminUrl},${b.adminUrl}`));
    await waitFor(async () => expect(await daemon.sample(`${prefix}pgbouncer_server_connections_cap`)).toBe(25));
  });

  afterAll(() => started.stop());

  it('sums the instances: client capacity 70 + 90, server cap 13 + 12', async () => {
    const samples = await daemon.scrape();
    expect(samples.get(`${prefix}pgbouncer_up{pgbouncer="${instanceA()}"}`)).toBe(1);
    expect(samples.get(`${prefix}pgbouncer_up{pgbouncer="${instanceB()}"}`)).toBe(1);
    expect(samples.get(`${prefix}pgbouncer_client_connections_limit`)).toBe(160);
    expect(samples.get(`${prefix}postgres_budget_connections{phase="rollout"}`)).toBe(25);
  });

  it('an instance that goes away reads pgbouncer_up 0, hides the sums instead of halving them, and is logged once', async () => {
    // Its clients are dropped with it: the replica on it keeps fewer connections, which is fine here.
    await b.down();
    await waitFor(async () => expect(await daemon.sample(`${prefix}pgbouncer_up`, { pgbouncer: instanceB() })).toBe(0));
    // A few more polls: the failure is logged on the transition, not at every poll.
    await waitFor(async () => expect(await daemon.sample(`${prefix}poll_errors_total`, { source: 'pgbouncer' })).toBeGreaterThanOrEqual(3));
    const samples = await daemon.scrape();
    expect(samples.get(`${prefix}pgbouncer_up{pgbouncer="${instanceA()}"}`)).toBe(1);
    expect(samples.get(`${prefix}source_up{source="pgbouncer"}`)).toBe(0);
    expect(samples.get(`${prefix}blind{reason="pgbouncer_unreadable"}`)).toBe(1);
    for (const name of ['pgbouncer_client_connections_limit', 'pgbouncer_server_connections_cap', 'postgres_budget_connections{phase="steady"}', 'budget_headroom_connections{phase="steady"}']) {
      expect(samples.has(`${prefix}${name}`), name).toBe(false);
    }
    // Coder's own budget does not depend on the pooler and stays.
    expect(samples.get(`${prefix}coder_budget_connections{phase="steady"}`)).toBe(63);
    // (A poll that catches the admin connection dropping first may log "connection lost" before it.)
    const refused = `cannot reach PgBouncer ${instanceB()} (ECONNREFUSED): is it running, and is --pgbouncer.url right?`;
    const downLines = daemon.logs.entries().filter((entry) => entry['instance'] === instanceB() && entry.level === 40);
    expect(downLines.filter((entry) => entry.msg === refused)).toHaveLength(1);
    const page = await (await fetch(`${daemon.url}/`)).text();
    expect(page).toContain('<h1>Cannot judge: a PgBouncer instance cannot be read</h1>');
  });

  it('an instance that comes back is read again, the sums return, and the return is logged', async () => {
    await b.up();
    await waitFor(async () => expect(await daemon.sample(`${prefix}pgbouncer_up`, { pgbouncer: instanceB() })).toBe(1));
    await waitFor(async () => expect(await daemon.sample(`${prefix}pgbouncer_server_connections_cap`)).toBe(25));
    expect(await daemon.sample(`${prefix}blind`, { reason: 'pgbouncer_unreadable' })).toBeUndefined();
    expect(daemon.logs.entries().some((entry) => entry['instance'] === instanceB() && entry.msg === `PgBouncer ${instanceB()} answers again`)).toBe(true);
  });
});

describe('dns+postgres:// discovery, one instance per address, resolved each poll', () => {
  const started = harness();
  const name = 'pgbouncer.coder.svc.cluster.local';
  let dnsServer: TestDnsServer;
  let bouncer: TestPgbouncer;
  let daemon: RunningDaemon;

  beforeAll(async () => {
    dnsServer = await startDnsServer();
    const resolver = new dns.Resolver({ timeout: 500, tries: 2 });
    resolver.setServers([dnsServer.address]);
    bouncer = await started.bouncer('session', 150);
    const replicas = await started.replicas(bouncer, 1);
    // 127.0.0.2 answers nothing on PgBouncer's port: PgBouncer listens on 127.0.0.1 only.
    dnsServer.set(name, { a: ['127.0.0.1', '127.0.0.2'] });
    const url = `dns+postgres://${encodeURIComponent(ADMIN.name)}:${encodeURIComponent(ADMIN.password)}@${name}:${bouncer.port}/pgbouncer`;
    daemon = await started.daemon(monitorArgs(replicas, url), resolver);
    await waitFor(async () => expect(await daemon.sample(`${prefix}pgbouncer_up`, { pgbouncer: `127.0.0.2:${bouncer.port}` })).toBe(0));
  });

  afterAll(async () => {
    await started.stop();
    await dnsServer?.close();
  });

  it('reads each address as an instance, and one that does not answer is down', async () => {
    const samples = await daemon.scrape();
    expect(samples.get(`${prefix}pgbouncer_up{pgbouncer="127.0.0.1:${bouncer.port}"}`)).toBe(1);
    expect(samples.get(`${prefix}blind{reason="pgbouncer_unreadable"}`)).toBe(1);
  });

  it('an address that leaves the name leaves the figures: its series goes, its connection is closed, and the sums return', async () => {
    dnsServer.set(name, { a: ['127.0.0.1'] });
    await waitFor(async () => expect(await daemon.sample(`${prefix}pgbouncer_server_connections_cap`)).toBe(25));
    const samples = await daemon.scrape();
    expect(samples.has(`${prefix}pgbouncer_up{pgbouncer="127.0.0.2:${bouncer.port}"}`)).toBe(false);
    expect(daemon.logs.entries().some((entry) => entry.msg === `PgBouncer 127.0.0.2:${bouncer.port} left discovery; its admin connection is closed`)).toBe(true);
    // The password in the URL is in no log line.
    expect(daemon.logs.lines.join('\n')).not.toContain(ADMIN.password);
  });
});
