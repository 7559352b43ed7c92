// Each replica as PostgreSQL sees it, on a real PostgreSQL: stand-in replicas that behave
// like pods (their own 127.0.0.x address for /metrics and for their connections), each
// holding 5 pooled connections, the LISTEN and the chat pubsub's batch sender. The budget
// counts what each really holds; behind one shared address nothing is guessed, and `check`
// names the flag; Coder's replicas table names the pods and their own latency; a streaming
// standby is blind.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startReferenceCluster, type ReferenceCluster } from '../../dev/reference-scenario.js';
import { startStandby, type TestStandby } from '../../dev/standby.js';
import { runCheckCli } from '../support/check-cli.js';
import { CREATE_CODER_REPLICAS_TABLE, insertReplicaRows } from '../support/coder-replicas-table.js';
import { startTestDaemon, type RunningDaemon } from '../support/daemon.js';
import { findAlert, startPrometheusStack, type PrometheusStack } from '../support/prometheus-stack.js';
import { MONITOR_PASSWORD, holdConnections, coderUrl } from '../support/scenario.js';

const ruleFile = fileURLToPath(new URL('../../alerts/coder-pg-capacity.rules.yml', import.meta.url));
const prefix = 'coder_pg_capacity_';

/** The daemon's flags with --postgres.url replaced. */
function withPostgresUrl(args: string[], url: string): string[] {
  const i = args.indexOf('--postgres.url');
  return [...args.slice(0, i), '--postgres.url', url, ...args.slice(i + 2)];
}

describe('three replicas at 127.0.0.2-4, each 5 pooled + LISTEN + a sender', () => {
  let cluster: ReferenceCluster | undefined;
  let daemon: RunningDaemon | undefined;
  let prometheus: PrometheusStack | undefined;

  beforeAll(async () => {
    cluster = await startReferenceCluster({ sender: true, pubsubBackendLabel: true });
    daemon = await startTestDaemon(cluster.daemonArgs);
    const running = daemon;
    await vi.waitFor(async () => expect(await running.sample(`${prefix}replicas`, { count: 'observed' })).toBe(3), { timeout: 10_000 });
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await daemon?.stop();
    await cluster?.stop();
  }, 60_000);

  it('sees 7 backends from each replica, 2 of them outside its pool', async () => {
    const samples = await daemon!.scrape();
    for (const replica of cluster!.replicas) {
      expect(samples.get(`${prefix}replica_backends{replica="${replica.url}"}`), replica.url).toBe(7);
      expect(samples.get(`${prefix}replica_outside_pool_connections{replica="${replica.url}"}`), replica.url).toBe(2);
      expect(samples.get(`${prefix}replica_extra_connections{replica="${replica.url}"}`), replica.url).toBe(2);
      expect(samples.get(`${prefix}replica_pubsub_connected{replica="${replica.url}"}`), replica.url).toBe(1);
    }
  });

  it('budgets 66 steady and 88 in a rollout: headroom -17, nothing unaccounted, pool max 7 recommended', async () => {
    const samples = await daemon!.scrape();
    expect(samples.get(`${prefix}coder_budget_connections{phase="steady"}`)).toBe(66);
    expect(samples.get(`${prefix}coder_budget_connections{phase="rollout"}`)).toBe(88);
    expect(samples.get(`${prefix}budget_headroom_connections{phase="steady"}`)).toBe(-17);
    expect(samples.get(`${prefix}unaccounted_coder_connections`)).toBe(0);
    expect(samples.get(`${prefix}recommended_pool_max_connections`)).toBe(7);
  });

  it('pages the overcommit in a real Prometheus, and not the unaccounted alert', async () => {
    prometheus = await startPrometheusStack({ scrapeTargets: [new URL(daemon!.url).host], ruleFile, forOverride: '3s' });
    const stack = prometheus;
    await stack.webhook.waitFor((payload) => findAlert(payload, 'CoderPostgresBudgetOvercommitted', 'firing') !== undefined, 40_000);
    // The overcommit fired, so the rules have been evaluated with the daemon's figures for longer than `for`.
    expect((await stack.query('ALERTS{alertname="CoderPostgresUnaccountedConnections"}')).result).toEqual([]);
    expect((await stack.query(`${prefix}unaccounted_coder_connections`)).result).toMatchObject([{ value: [expect.any(Number), '0'] }]);
  }, 60_000);

  it("names a replica that lost its LISTEN, and keeps its budget", async () => {
    const replica = cluster!.replicas[1]!;
    await replica.setPubsubConnected(false);
    try {
      await vi.waitFor(async () => expect(await daemon!.sample(`${prefix}replica_pubsub_connected`, { replica: replica.url })).toBe(0), { timeout: 10_000 });
      expect(await daemon!.sample(`${prefix}coder_budget_connections`, { phase: 'steady' })).toBe(66);
      const page = await (await fetch(daemon!.url)).text();
      expect(page).toContain('lost its pubsub LISTEN connection');
    } finally {
      await replica.setPubsubConnected(true);
    }
  });
});

describe('the same replicas connecting from one shared address (127.0.0.9)', () => {
  let cluster: ReferenceCluster | undefined;

  beforeAll(async () => {
    cluster = await startReferenceCluster({ sender: true, connectFrom: '127.0.0.9' });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('leaves the per-replica figures absent, keeps the headroom at -17, and check names --coder.extra-connections 2', async () => {
    const run = await runCheckCli([...cluster!.daemonArgs, '--output', 'json']);
    const document = JSON.parse(run.stdout) as {
      capacity: { budgetHeadroom: { steady: number }; unaccounted: number; replicaFootprints: { backends: number | null; gap: string | null }[] };
      findings: { id: string; detail: string }[];
    };
    expect(document.capacity.replicaFootprints.map(({ backends, gap }) => ({ backends, gap }))).toEqual(
      [0, 1, 2].map(() => ({ backends: null, gap: 'no_backends_at_address' })),
    );
    expect(document.capacity.budgetHeadroom.steady).toBe(-17);
    expect(document.capacity.unaccounted).toBe(3);
    expect(document.findings.find((finding) => finding.id === 'extra-connections-unbudgeted')?.detail).toContain('Set --coder.extra-connections 2');
    expect(run.status).toBe(2);

    const text = (await runCheckCli(cluster!.daemonArgs)).stdout.replace(/\s+/g, ' ');
    expect(text).toContain('Each replica holds 1 more connection outside its pool than the budget counts');
    expect(text).toContain('--coder.extra-connections 2');
  }, 60_000);
});

describe("Coder's replicas table and a standby of the same server", () => {
  let cluster: ReferenceCluster | undefined;
  let standby: TestStandby | undefined;
  let daemon: RunningDaemon | undefined;

  beforeAll(async () => {
    cluster = await startReferenceCluster();
    const coder = await holdConnections(coderUrl(cluster.server), 1, '');
    try {
      const db = coder.clients[0]!;
      await db.query(CREATE_CODER_REPLICAS_TABLE);
      await db.query('GRANT SELECT ON replicas TO monitor');
      await insertReplicaRows(db, [
        { hostname: 'coder-7d9f-abcde', relayAddress: 'http://127.0.0.2:6060', latencyMicroseconds: 14200 },
        { hostname: 'coder-7d9f-fghij', relayAddress: 'http://127.0.0.3:6060', latencyMicroseconds: 900 },
        { hostname: 'coder-7d9f-klmno', relayAddress: 'http://127.0.0.4:6060', latencyMicroseconds: 700 },
      ]);
    } finally {
      await coder.close();
    }
    daemon = await startTestDaemon([...cluster.daemonArgs, '--coder.replicas-from-db']);
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    await standby?.stop();
    await cluster?.stop();
  }, 60_000);

  it("reads one replica's own latency of 14200 us as 0.0142 s, and the page names that replica by its pod", async () => {
    await vi.waitFor(async () => expect(await daemon!.sample(`${prefix}replica_database_latency_seconds`, { hostname: 'coder-7d9f-abcde' })).toBe(0.0142), { timeout: 10_000 });
    const page = await (await fetch(daemon!.url)).text();
    expect(page).toContain(`<td class="name">coder-7d9f-abcde <span class="dim">${cluster!.replicas[0]!.url}</span></td>`);
    expect(page).toContain('1 replica&#39;s own round trip to PostgreSQL is above 10.0 ms');
  });

  it('is blind on a streaming standby: blind{reason="postgres_standby"} 1, and check exits 2 naming the standby', async () => {
    standby = await startStandby(cluster!.server);
    const standbyUrl = standby.url('coder', 'monitor', MONITOR_PASSWORD);
    const args = withPostgresUrl(cluster!.daemonArgs, standbyUrl);
    const onStandby = await startTestDaemon(args);
    try {
      await vi.waitFor(async () => expect(await onStandby.sample(`${prefix}blind`, { reason: 'postgres_standby' })).toBe(1), { timeout: 10_000 });
      const samples = await onStandby.scrape();
      expect(samples.get(`${prefix}postgres_up`)).toBe(1);
      expect(samples.get(`${prefix}max_connections`)).toBe(60);
      expect(samples.get(`${prefix}budget_headroom_connections{phase="steady"}`)).toBeUndefined();
      expect(samples.get(`${prefix}available_connections`)).toBeUndefined();
    } finally {
      await onStandby.stop();
    }
    const run = await runCheckCli(args);
    expect(run.status).toBe(2);
    const said = run.stdout.replace(/\s+/g, ' ');
    expect(said).toContain(`Cannot judge: PostgreSQL (port ${standby.port}, database coder) is a standby`);
    expect(said).toContain('Point --postgres.url at the primary (the writer endpoint)');
  }, 90_000);
});
