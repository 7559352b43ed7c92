// Where the slots go, on a real PostgreSQL: the daemon watching the reference scenario
// (stand-in replicas holding real connections) exports what no budget counts: sessions idle
// in a transaction, the NOTIFY queue, each replica's pool closes, and the pool Coder needs.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StandInReplica } from '../../dev/stand-in-replica.js';
import type { RunningDaemon } from '../support/daemon.js';
import { startReferenceScenario, type ReferenceScenario } from '../support/reference-scenario.js';

let scenario: ReferenceScenario | undefined;
let daemon: RunningDaemon;
let replicas: StandInReplica[];

const metric = (name: string, labels: Record<string, string> = {}) => daemon.sample(`coder_pg_capacity_${name}`, labels);

beforeAll(async () => {
  scenario = await startReferenceScenario(['--capacity.demand-window', '10m']);
  ({ daemon, replicas } = scenario);
  await vi.waitFor(() => expect(daemon.poller.latest?.snapshot.replicas.filter((replica) => replica.up)).toHaveLength(3), { timeout: 15_000 });
});

afterAll(async () => {
  await scenario?.stop();
});

describe('what PostgreSQL shows of the stand-ins', () => {
  it("sees the replicas' in-use connections running statements, as a real pool's: Coder active 6, idle 12, the figures unchanged", async () => {
    await vi.waitFor(async () => expect(await metric('slots_connections', { part: 'coder_active' })).toBe(6), { timeout: 10_000 });
    expect(await metric('slots_connections', { part: 'coder_idle' })).toBe(12);
    expect(await metric('coder_connections')).toBe(18);
    expect(await metric('budget_headroom_connections', { phase: 'steady' })).toBe(-14);
    expect(await metric('recommended_pool_max_connections')).toBe(8);
  });

  it('exports the NOTIFY queue usage: 0 while every listener keeps up', async () => {
    expect(await metric('notify_queue_usage_ratio')).toBe(0);
  });
});

describe('the pool Coder needs', () => {
  it("follows the stand-ins' in-use peak: 2, then 4 after one replica's peak, kept when it falls back, and 5 once its waits rise", async () => {
    await vi.waitFor(async () => expect(await metric('needed_pool_max_connections')).toBe(2), { timeout: 10_000 });
    const busy = replicas[2]!;
    busy.setInUse(4);
    await vi.waitFor(async () => expect(await metric('needed_pool_max_connections')).toBe(4), { timeout: 10_000 });
    busy.setInUse(2);
    await vi.waitFor(async () => expect(await metric('replica_in_use_connections', { replica: busy.url })).toBe(2), { timeout: 10_000 });
    expect(await metric('needed_pool_max_connections')).toBe(4);
    busy.addWait(3, 0.2);
    await vi.waitFor(async () => expect(await metric('needed_pool_max_connections')).toBe(5), { timeout: 10_000 });
  });
});

describe("each replica's pool closes", () => {
  it('are counters, one series per reason, mirrored from go_sql_*_closed_total', async () => {
    const replica = replicas[1]!;
    replica.addClosed({ max_idle: 40, max_lifetime: 3 });
    await vi.waitFor(async () => expect(await metric('replica_closed_connections_total', { replica: replica.url, reason: 'max_idle' })).toBe(40), { timeout: 10_000 });
    expect(await metric('replica_closed_connections_total', { replica: replica.url, reason: 'max_idle_time' })).toBe(0);
    expect(await metric('replica_closed_connections_total', { replica: replica.url, reason: 'max_lifetime' })).toBe(3);
    const text = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(text).toContain('# TYPE coder_pg_capacity_replica_closed_connections_total counter');
  });

  it('closing 500 between two polls is pool churn: a finding naming CODER_PG_CONN_MAX_IDLE, gone once the closes stop', async () => {
    const replica = replicas[1]!;
    replica.addClosed({ max_idle: 500 });
    const findings = async () => ((await (await fetch(`${daemon.url}/api/v1/capacity`)).json()) as { findings: { id: string; detail: string }[] }).findings;
    await vi.waitFor(async () => expect((await findings()).find((finding) => finding.id === 'pool-churn')?.detail).toContain(`${replica.url} closes`), { timeout: 10_000 });
    expect((await findings()).find((finding) => finding.id === 'pool-churn')?.detail).toContain('Raise CODER_PG_CONN_MAX_IDLE');
    await vi.waitFor(async () => expect((await findings()).find((finding) => finding.id === 'pool-churn')).toBeUndefined(), { timeout: 10_000 });
  });
});

describe('sessions idle in a transaction', () => {
  it("shows the oldest Coder session's age for owner coder, growing with PostgreSQL's clock, and nothing for other owners", async () => {
    await replicas[0]!.setIdleInTransaction(1);
    await vi.waitFor(async () => expect(await metric('oldest_idle_in_transaction_seconds', { owner: 'coder' })).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    const age = (await metric('oldest_idle_in_transaction_seconds', { owner: 'coder' }))!;
    expect(age).toBeLessThan(30);
    await vi.waitFor(async () => expect(await metric('oldest_idle_in_transaction_seconds', { owner: 'coder' })).toBeGreaterThan(age), { timeout: 10_000 });
    expect(await metric('oldest_idle_in_transaction_seconds', { owner: 'other' })).toBeUndefined();
    expect(await metric('connections', { database: 'coder', role: 'coder', application: '', owner: 'coder', state: 'idle in transaction' })).toBe(1);
    // A Go Tx holds its connection: the pool counts it in use.
    expect(await metric('replica_in_use_connections', { replica: replicas[0]!.url })).toBe(3);
  });

  it('is absent once the transaction ends', async () => {
    await replicas[0]!.setIdleInTransaction(0);
    await vi.waitFor(async () => expect(await metric('oldest_idle_in_transaction_seconds', { owner: 'coder' })).toBeUndefined(), { timeout: 10_000 });
  });
});
