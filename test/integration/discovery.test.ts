// Replica discovery as it runs in a cluster: dns+ targets resolved at every poll by a real
// DNS server the test controls (A records of a headless Service, one per coderd pod),
// stand-in replicas on distinct loopback addresses sharing one port as pods do, and
// Coder's `replicas` table in a real PostgreSQL for --coder.replicas-from-db.
//
// Every stand-in replica reports pool max 20, so each costs 21 slots (pool + LISTEN);
// the rollout adds ceil(25% of the planned count) more replicas.

import { promises as dns } from 'node:dns';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startStandInReplica, type StandInReplica } from '../../dev/stand-in-replica.js';
import { startTestDaemon, type RunningDaemon } from '../support/daemon.js';
import { CREATE_CODER_REPLICAS_TABLE } from '../support/coder-replicas-table.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { coderUrl, createCoderCluster, monitorUrl } from '../support/scenario.js';

const prefix = 'coder_pg_capacity_';
const service = 'coder-metrics.coder.svc.cluster.local';
const addresses = ['127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;

let server: TestPostgres;
let dnsServer: TestDnsServer;
let resolver: dns.Resolver;
let port: number;
const replicas = new Map<string, StandInReplica>();
const daemons: RunningDaemon[] = [];

const urlOf = (address: string) => `http://${address}:${port}/metrics`;

/** Pods answer at their own address on one port, as every coderd does on 2112. */
async function startReplicas(): Promise<void> {
  let shared = 0;
  for (const host of addresses) {
    const replica = await startStandInReplica({ connectionString: coderUrl(server), poolMax: 20, open: 2, host, port: shared, applicationName: '' });
    shared = Number(new URL(replica.url).port);
    replicas.set(host, replica);
  }
  port = shared;
}

async function startMonitor(name: string, args: string[] = []): Promise<RunningDaemon> {
  const daemon = await startTestDaemon(['--postgres.url', monitorUrl(server), '--coder.role', 'coder', '--coder.targets', `dns+http://${name}:${port}/metrics`, ...args], {}, { resolver });
  daemons.push(daemon);
  return daemon;
}

const waitFor = (check: () => Promise<void>) => vi.waitFor(check, { timeout: 10_000, interval: 250 });

beforeAll(async () => {
  server = await startPostgres({ maxConnections: 60 });
  await createCoderCluster(server);
  await startReplicas();
  dnsServer = await startDnsServer();
  resolver = new dns.Resolver({ timeout: 500, tries: 2 });
  resolver.setServers([dnsServer.address]);
});

afterAll(async () => {
  await Promise.all(daemons.map((daemon) => daemon.stop()));
  await Promise.all([...replicas.values()].map((replica) => replica.close()));
  await dnsServer?.close();
  await server?.destroy();
});

describe('dns+ discovery against a real DNS server', () => {
  let daemon: RunningDaemon;

  beforeAll(async () => {
    dnsServer.set(service, { a: ['127.0.0.2', '127.0.0.3'] });
    daemon = await startMonitor(service);
  });

  it('scrapes every address the name has: 2 replicas, budget 42 steady and 63 during a rollout', async () => {
    await waitFor(async () => expect(await daemon.sample(`${prefix}replicas`, { count: 'observed' })).toBe(2));
    const samples = await daemon.scrape();
    expect(samples.get(`${prefix}replica_up{replica="${urlOf('127.0.0.2')}"}`)).toBe(1);
    expect(samples.get(`${prefix}replica_up{replica="${urlOf('127.0.0.3')}"}`)).toBe(1);
    expect(samples.get(`${prefix}replica_pool_max_connections{replica="${urlOf('127.0.0.2')}"}`)).toBe(20);
    expect(samples.get(`${prefix}coder_budget_connections{phase="steady"}`)).toBe(42);
    expect(samples.get(`${prefix}coder_budget_connections{phase="rollout"}`)).toBe(63);
    expect(dnsServer.questions).toContain(`A ${service}`);
    expect(dnsServer.questions).toContain(`AAAA ${service}`);
  });

  it('picks up a replica that joins the answer at the next poll, and the budget grows by 21 to 63', async () => {
    dnsServer.set(service, { a: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] });
    await waitFor(async () => expect(await daemon.sample(`${prefix}replica_up`, { replica: urlOf('127.0.0.4') })).toBe(1));
    const samples = await daemon.scrape();
    expect(samples.get(`${prefix}replicas{count="observed"}`)).toBe(3);
    expect(samples.get(`${prefix}coder_budget_connections{phase="steady"}`)).toBe(63);
    expect(samples.get(`${prefix}replica_open_connections{replica="${urlOf('127.0.0.4')}"}`)).toBe(2);
  });

  it('drops a replica that leaves the answer: its series go away and the budget falls back to 42', async () => {
    dnsServer.set(service, { a: ['127.0.0.2', '127.0.0.4'] });
    await waitFor(async () => expect(await daemon.sample(`${prefix}replicas`, { count: 'observed' })).toBe(2));
    const samples = await daemon.scrape();
    const gone = [...samples.keys()].filter((key) => key.includes(urlOf('127.0.0.3')));
    expect(gone).toEqual([]);
    expect(samples.get(`${prefix}replica_up{replica="${urlOf('127.0.0.4')}"}`)).toBe(1);
    expect(samples.get(`${prefix}coder_budget_connections{phase="steady"}`)).toBe(42);
  });

  it('counts and logs a name that stops resolving as a discovery error, not a failed poll', async () => {
    const before = (await daemon.sample(`${prefix}poll_errors_total`, { source: 'discovery' })) ?? 0;
    dnsServer.fail(service);
    try {
      await waitFor(async () => expect(await daemon.sample(`${prefix}poll_errors_total`, { source: 'discovery' })).toBeGreaterThan(before));
      expect(await daemon.sample(`${prefix}postgres_up`)).toBe(1);
      expect(daemon.logs.lines.join('\n')).toContain(service);
    } finally {
      dnsServer.set(service, { a: ['127.0.0.2', '127.0.0.4'] });
    }
    await waitFor(async () => expect(await daemon.sample(`${prefix}replicas`, { count: 'observed' })).toBe(2));
  });
});

describe("--coder.replicas-from-db with Coder's replicas table", () => {
  const name = 'coder-sidecar.coder.svc.cluster.local';
  let daemon: RunningDaemon;

  /** Runs SQL as Coder's role, which owns Coder's tables (as coderd's migrations leave them). */
  async function asCoder(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: coderUrl(server) });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    // Coder's table with Coder's columns; coderd heartbeats every 5 s and counts as alive for 15 s.
    await asCoder(CREATE_CODER_REPLICAS_TABLE);
    await asCoder('GRANT SELECT ON replicas TO monitor');
    // 4 live coderd replicas, 1 that stopped heartbeating a minute ago, 1 workspace proxy.
    await asCoder(`INSERT INTO replicas (hostname, relay_address, database_latency, version, updated_at, "primary") VALUES
      ('coder-0', 'http://10.2.0.10:6060', 800, 'v2.30.0', now(), true), ('coder-1', 'http://10.2.0.11:6060', 800, 'v2.30.0', now(), true),
      ('coder-2', 'http://10.2.0.12:6060', 800, 'v2.30.0', now(), true), ('coder-3', 'http://10.2.0.13:6060', 800, 'v2.30.0', now(), true),
      ('coder-gone', 'http://10.2.0.14:6060', 800, 'v2.30.0', now() - interval '1 minute', true),
      ('wsproxy-0', 'http://10.2.0.15:6060', 800, 'v2.30.0', now(), false)`);
    dnsServer.set(name, { a: ['127.0.0.2', '127.0.0.3'] });
    daemon = await startMonitor(name, ['--coder.replicas-from-db']);
  });

  it('counts 4 live primary replicas when DNS shows 2: budget 84 (2 scraped and 2 unseen at 21 each), 126 in a rollout (1 surge and 1 stopping pod)', async () => {
    await asCoder(`UPDATE replicas SET updated_at = now() WHERE hostname LIKE 'coder-_'`);
    await waitFor(async () => expect(await daemon.sample(`${prefix}replicas`, { count: 'observed' })).toBe(4));
    const samples = await daemon.scrape();
    expect(samples.get(`${prefix}replicas{count="planned"}`)).toBe(4);
    expect(samples.get(`${prefix}coder_budget_connections{phase="steady"}`)).toBe(84);
    expect(samples.get(`${prefix}coder_budget_connections{phase="rollout"}`)).toBe(126);
  });

  it('takes the scraped count when it is the larger: 3 answers over 1 live row give 3 and budget 63', async () => {
    await asCoder(`UPDATE replicas SET updated_at = now() - interval '1 minute' WHERE hostname IN ('coder-1', 'coder-2', 'coder-3')`);
    dnsServer.set(name, { a: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] });
    await waitFor(async () => expect(await daemon.sample(`${prefix}coder_budget_connections`, { phase: 'steady' })).toBe(63));
    expect(await daemon.sample(`${prefix}replicas`, { count: 'observed' })).toBe(3);
  });

  it('marks the replicas table unreadable, logs the GRANT once, and counts the DNS replicas', async () => {
    await asCoder('REVOKE SELECT ON replicas FROM monitor');
    const other = await startMonitor(name, ['--coder.replicas-from-db']);
    await waitFor(async () => expect(await other.sample(`${prefix}replicas`, { count: 'observed' })).toBe(3));
    await waitFor(async () => expect(await other.sample(`${prefix}blind`, { reason: 'replicas_table_unreadable' })).toBe(1));
    await other.poller.pollOnce();
    expect(other.logs.entries().filter((entry) => entry.msg.includes('GRANT SELECT ON replicas TO'))).toHaveLength(1);
  });
});
