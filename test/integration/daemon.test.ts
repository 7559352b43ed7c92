// The daemon end to end on the reference scenario: a real PostgreSQL with
// max_connections 60, three stand-in replicas at pool max 20 holding 5 pooled + 1 LISTEN
// connection each, 7 connections of another role, and the monitor's own.

import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StandInReplica } from '../../dev/stand-in-replica.js';
import type { RunningDaemon } from '../support/daemon.js';
import { ensureDebianPackages } from '../support/prometheus-stack.js';
import type { TestPostgres } from '../support/postgres.js';
import { startReferenceScenario, type ReferenceScenario } from '../support/reference-scenario.js';
import { MONITOR_PASSWORD } from '../support/scenario.js';

const prefix = 'coder_pg_capacity_';
let scenario: ReferenceScenario;
let server: TestPostgres;
let replicas: StandInReplica[];
let daemon: RunningDaemon;

const metric = (name: string, labels?: Record<string, string>) => daemon.sample(prefix + name, labels);

beforeAll(async () => {
  scenario = await startReferenceScenario();
  ({ server, replicas, daemon } = scenario);
  await vi.waitFor(async () => expect(await metric('replicas', { count: 'observed' })).toBe(3), { timeout: 10_000 });
});

afterAll(async () => {
  await scenario?.stop();
});

describe('the daemon on the reference scenario', () => {
  it('shows available 57, coder 18, other 8 and headroom 31', async () => {
    const samples = await daemon.scrape();
    expect(samples.get(`${prefix}postgres_up`)).toBe(1);
    expect(samples.get(`${prefix}max_connections`)).toBe(60);
    expect(samples.get(`${prefix}reserved_connections{reason="superuser"}`)).toBe(3);
    expect(samples.get(`${prefix}available_connections`)).toBe(57);
    expect(samples.get(`${prefix}coder_connections`)).toBe(18);
    expect(samples.get(`${prefix}other_connections`)).toBe(8);
    expect(samples.get(`${prefix}used_connections`)).toBe(26);
    expect(samples.get(`${prefix}headroom_connections`)).toBe(31);
  });

  it('budgets 63 steady and 84 during a rollout, overcommitted by 14 and 35', async () => {
    const samples = await daemon.scrape();
    expect(samples.get(`${prefix}coder_budget_connections{phase="steady"}`)).toBe(63);
    expect(samples.get(`${prefix}coder_budget_connections{phase="rollout"}`)).toBe(84);
    expect(samples.get(`${prefix}budget_headroom_connections{phase="steady"}`)).toBe(-14);
    expect(samples.get(`${prefix}budget_headroom_connections{phase="rollout"}`)).toBe(-35);
  });

  it('recommends pool max 8 and says 1 replica is safe at pool max 20', async () => {
    expect(await metric('recommended_pool_max_connections')).toBe(8);
    expect(await metric('max_safe_replicas')).toBe(1);
  });

  it("shows each replica's pool and explains every Coder connection", async () => {
    const samples = await daemon.scrape();
    for (const replica of replicas) {
      expect(samples.get(`${prefix}replica_up{replica="${replica.url}"}`)).toBe(1);
      expect(samples.get(`${prefix}replica_pool_max_connections{replica="${replica.url}"}`)).toBe(20);
      expect(samples.get(`${prefix}replica_open_connections{replica="${replica.url}"}`)).toBe(5);
      expect(samples.get(`${prefix}replica_in_use_connections{replica="${replica.url}"}`)).toBe(2);
      expect(samples.get(`${prefix}replica_pool_unbounded{replica="${replica.url}"}`)).toBe(0);
    }
    expect(samples.get(`${prefix}unaccounted_coder_connections`)).toBe(0);
  });

  it('reports each source, discovery included: up, how long it took, and no errors', async () => {
    const samples = await daemon.scrape();
    for (const source of ['postgres', 'discovery', 'coder']) {
      expect(samples.get(`${prefix}source_up{source="${source}"}`), source).toBe(1);
      expect(samples.get(`${prefix}poll_duration_seconds{source="${source}"}`), source).toBeGreaterThanOrEqual(0);
      expect(samples.get(`${prefix}poll_errors_total{source="${source}"}`), source).toBe(0);
    }
  });

  it('passes promtool check metrics: names, types and units as Prometheus wants them', async () => {
    ensureDebianPackages(['prometheus']);
    const text = await (await fetch(`${daemon.url}/metrics`)).text();
    // Ours only: prom-client's default nodejs_active_*_total gauges draw the same lint, and
    // they are prom-client's names, kept as its users know them.
    const ours = text
      .split('\n')
      .filter((line) => /^(# (HELP|TYPE) )?coder_pg_capacity_/.test(line))
      .join('\n');
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: `${ours}\n`, encoding: 'utf8' });
    expect(`${lint.stdout}${lint.stderr}`.trim()).toBe('');
    expect(lint.status).toBe(0);
    expect(text).toContain('# TYPE coder_pg_capacity_replica_wait_count_total counter');
  });

  it('labels connections by owner, with the monitor apart', async () => {
    const samples = await daemon.scrape();
    expect(samples.get(`${prefix}connections{application="analytics-etl",database="postgres",owner="other",role="analytics",state="idle"}`)).toBe(7);
    expect(samples.get(`${prefix}connections{application="coder-pg-capacity",database="coder",owner="monitor",role="monitor",state="active"}`)).toBe(1);
  });

  it('answers /readyz and /api/v1/capacity with the same figures', async () => {
    expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200);
    const api = (await (await fetch(`${daemon.url}/api/v1/capacity`)).json()) as { capacity: { budgetHeadroom: { steady: number } }; postgres: { up: boolean } };
    expect(api.postgres.up).toBe(true);
    expect(api.capacity.budgetHeadroom.steady).toBe(-14);
  });

  it('puts no password in logs, /metrics or /api/v1/capacity', async () => {
    const texts = [
      daemon.logs.lines.join('\n'),
      await (await fetch(`${daemon.url}/metrics`)).text(),
      await (await fetch(`${daemon.url}/api/v1/capacity`)).text(),
    ];
    for (const text of texts) {
      expect(text).not.toContain(MONITOR_PASSWORD);
      expect(text).not.toContain('coder-Secret-42');
    }
  });
});

describe('the daemon when a replica hangs', () => {
  it('keeps its budget, explains its 6 connections by its address, and /metrics keeps answering', async () => {
    const hung = replicas[2]!;
    hung.setHang(true);
    try {
      await vi.waitFor(async () => expect(await metric('replica_up', { replica: hung.url })).toBe(0), { timeout: 10_000 });
      const started = performance.now();
      const samples = await daemon.scrape();
      expect(performance.now() - started).toBeLessThan(1000);
      expect(samples.get(`${prefix}replica_pool_max_connections{replica="${hung.url}"}`)).toBe(20);
      expect(samples.get(`${prefix}replica_open_connections{replica="${hung.url}"}`)).toBeUndefined();
      expect(samples.get(`${prefix}coder_budget_connections{phase="steady"}`)).toBe(63);
      // PostgreSQL still shows the hung replica's 6 backends from its own address (127.0.0.4).
      expect(samples.get(`${prefix}replica_backends{replica="${hung.url}"}`)).toBe(6);
      expect(samples.get(`${prefix}unaccounted_coder_connections`)).toBe(0);
      expect(samples.get(`${prefix}poll_errors_total{source="coder"}`)).toBeGreaterThan(0);
      expect(daemon.logs.entries().some((e) => e.msg.includes(`cannot scrape ${hung.url}`))).toBe(true);
    } finally {
      hung.setHang(false);
    }
    await vi.waitFor(async () => expect(await metric('replica_up', { replica: hung.url })).toBe(1), { timeout: 10_000 });
  });
});

describe('the daemon when PostgreSQL stops', () => {
  it('says postgres_up 0 with no stale headroom, stays up, and recovers by itself', async () => {
    // What each poll met, in order; PostgreSQL was up until now.
    const pollErrors: (string | null)[] = [];
    daemon.poller.onPoll((result) => pollErrors.push(result.postgresError));
    const logsBefore = daemon.logs.entries().length;
    await server.stop();
    try {
      await vi.waitFor(async () => expect(await metric('postgres_up')).toBe(0), { timeout: 10_000 });
      const samples = await daemon.scrape();
      for (const derived of ['available_connections', 'headroom_connections', 'utilization_ratio', 'used_connections', 'recommended_pool_max_connections', 'max_safe_replicas']) {
        expect(samples.get(prefix + derived), derived).toBeUndefined();
      }
      expect(samples.get(`${prefix}budget_headroom_connections{phase="steady"}`)).toBeUndefined();
      expect(samples.get(`${prefix}poll_errors_total{source="postgres"}`)).toBeGreaterThan(0);
      const api = (await (await fetch(`${daemon.url}/api/v1/capacity`)).json()) as { capacity: unknown; postgres: { error: string; full: boolean } };
      expect(api.capacity).toBeNull();
      expect(api.postgres).toMatchObject({ full: false, error: expect.stringMatching(/PostgreSQL at 127\.0\.0\.1/) });
    } finally {
      await server.start();
    }
    await vi.waitFor(async () => expect(await metric('headroom_connections')).toBeGreaterThan(0), { timeout: 15_000 });
    expect(daemon.logs.entries().some((e) => e.msg === 'PostgreSQL is reachable again')).toBe(true);
    // Logged on the transition, not at every poll: each error once, when the polls start
    // meeting it (a stop can show as a dropped connection, then as refused reconnects).
    const downLogs = daemon.logs.entries().slice(logsBefore).filter((e) => e.level === 50 && e.source === 'postgres');
    const newErrors = pollErrors.filter((error, i) => error !== null && error !== (pollErrors[i - 1] ?? null));
    expect(newErrors.length).toBeGreaterThanOrEqual(1);
    expect(downLogs.map((e) => e.msg)).toEqual(newErrors);
  });
});
