// Fault: other clients take every slot an ordinary role may use. The monitor, holding its
// one connection, must keep reporting headroom 0 and utilization 1, and the
// CoderPostgresConnectionsExhausted alert's own expression must hold (evaluated by
// promtool over the daemon's figures). Then its connection is killed while the slots stay
// full: on PostgreSQL 16+ with reserved_connections and pg_use_reserved_connections it gets
// back in; without them it says why it cannot (53300) and what to grant.

import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MONITOR_APPLICATION_NAME } from '../../src/sources/postgres.js';
import { startTestDaemon, type RunningDaemon } from '../support/daemon.js';
import { reportFault, seconds } from '../support/faults.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { findAlert, startPrometheusStack } from '../support/prometheus-stack.js';
import { alertExpression, expressionHolds } from '../support/promql.js';
import { OTHER_PASSWORD, createCoderCluster, monitorUrl } from '../support/scenario.js';

const prefix = 'coder_pg_capacity_';
const ruleFile = fileURLToPath(new URL('../../alerts/coder-pg-capacity.rules.yml', import.meta.url));
const MAX_CONNECTIONS = 12;
// Started while the file is collected, not in beforeAll: which cases apply depends on the
// server's version, and a case skipped for it must show as skipped, not pass as empty.
const server: TestPostgres = await startPostgres({ maxConnections: MAX_CONNECTIONS });
const hasReservedSlots = server.majorVersion >= 16;
let admin: pg.Client;
let daemon: RunningDaemon;
const others: pg.Client[] = [];

/** Opens another application's connection; null when PostgreSQL has no slot for it (53300). */
async function takeSlot(): Promise<pg.Client | null> {
  const client = new pg.Client({ connectionString: server.url('postgres', 'analytics', OTHER_PASSWORD), application_name: 'slot-hog' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    others.push(client);
    return client;
  } catch (error) {
    if ((error as { code?: string }).code === '53300') return null;
    throw error;
  }
}

/** Resolves right after the daemon's next poll: the most time before the one after. */
function nextPoll(): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    daemon.poller.onPoll(() => {
      if (!done) {
        done = true;
        resolve();
      }
    });
  });
}

/** Kills the monitor's connection and gives any slot that frees to other clients. */
async function killMonitorAndRefill(): Promise<void> {
  await nextPoll();
  const killed = await admin.query<{ killed: boolean }>('SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1', [MONITOR_APPLICATION_NAME]);
  expect(killed.rows).toEqual([{ killed: true }]);
  // The backend needs a moment to exit and free its slot (an ordinary one, or the reserved one).
  await vi.waitFor(async () => expect((await admin.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [MONITOR_APPLICATION_NAME])).rowCount).toBe(0), {
    timeout: 2000,
    interval: 10,
  });
  while ((await takeSlot()) !== null) {
    // Refilling what the monitor left.
  }
}

beforeAll(async () => {
  await createCoderCluster(server);
  admin = await server.admin();
  admin.on('error', () => undefined);
  if (hasReservedSlots) {
    await admin.query('ALTER SYSTEM SET reserved_connections = 1');
    await admin.query('GRANT pg_use_reserved_connections TO monitor');
    await server.stop();
    await server.start();
    admin = await server.admin();
    admin.on('error', () => undefined);
  }
  daemon = await startTestDaemon(['--postgres.url', monitorUrl(server), '--coder.role', 'coder']);
  await vi.waitFor(async () => expect(await daemon.sample(`${prefix}postgres_up`)).toBe(1), { timeout: 10_000 });
});

afterAll(async () => {
  await daemon?.stop();
  await Promise.all(others.map((client) => client.end().catch(() => undefined)));
  await admin?.end().catch(() => undefined);
  await server?.destroy();
});

describe('fault: every slot taken by other clients', () => {
  it('keeps reporting headroom 0 and utilization 1 over its held connection, and the exhaustion alert holds', async () => {
    const available = MAX_CONNECTIONS - 3 - (hasReservedSlots ? 1 : 0);
    const expr = await alertExpression('CoderPostgresConnectionsExhausted');
    const jobLabels = { job: 'coder-pg-capacity', instance: 'monitor-0' };
    expect((await expressionHolds(expr, await daemon.scrape(), jobLabels)).holds).toBe(false);

    while ((await takeSlot()) !== null) {
      // Filling every ordinary slot.
    }
    await vi.waitFor(async () => expect(await daemon.sample(`${prefix}headroom_connections`)).toBe(0), { timeout: 5000 });
    for (let poll = 0; poll < 3; poll++) {
      await nextPoll();
      const samples = await daemon.scrape();
      expect(samples.get(`${prefix}postgres_up`)).toBe(1);
      expect(samples.get(`${prefix}available_connections`)).toBe(available);
      expect(samples.get(`${prefix}used_connections`)).toBe(available);
      expect(samples.get(`${prefix}headroom_connections`)).toBe(0);
      expect(samples.get(`${prefix}utilization_ratio`)).toBe(1);
    }
    const evaluation = await expressionHolds(expr, await daemon.scrape(), jobLabels);
    expect(evaluation.holds, evaluation.output).toBe(true);
    reportFault('slots-exhausted', `${available} of ${available} slots used by others and the monitor: headroom 0, utilization 1 over 3 polls; CoderPostgresConnectionsExhausted's expression holds (promtool)`);
  });

  it.skipIf(!hasReservedSlots)(
    `gets back in through the reserved slot when its connection is killed, on PostgreSQL 16+ with the grant${hasReservedSlots ? '' : ` (skipped: PostgreSQL ${server.majorVersion} has no reserved_connections; the next case covers it)`}`,
    async () => {
      const killedAt = performance.now();
      await killMonitorAndRefill();
      await vi.waitFor(
        async () => {
          const rows = await admin.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [MONITOR_APPLICATION_NAME]);
          expect(rows.rowCount).toBe(1);
          expect(await daemon.sample(`${prefix}postgres_up`)).toBe(1);
        },
        { timeout: 5000, interval: 50 },
      );
      const backMs = performance.now() - killedAt;
      const samples = await daemon.scrape();
      // Every ordinary slot is others', and the monitor sits in the reserved one.
      expect(samples.get(`${prefix}headroom_connections`)).toBeLessThanOrEqual(0);
      reportFault('slots-exhausted-reserved-reconnect', `connection killed with every ordinary slot taken; back in through reserved_connections in ${seconds(backMs)}, headroom ${samples.get(`${prefix}headroom_connections`)}`);
    },
  );

  it('says why it cannot get back in, what to grant, and pages that PostgreSQL is full, without the reserved slot', async () => {
    if (hasReservedSlots) await admin.query('REVOKE pg_use_reserved_connections FROM monitor');
    await killMonitorAndRefill();
    await vi.waitFor(async () => expect(await daemon.sample(`${prefix}postgres_up`)).toBe(0), { timeout: 5000, interval: 50 });
    await nextPoll();
    const api = (await (await fetch(`${daemon.url}/api/v1/capacity`)).json()) as { postgres: { error: string; full: boolean }; capacity: unknown; verdict: { headline: string } };
    expect(api.capacity).toBeNull();
    expect(api.postgres.error).toBe(
      `PostgreSQL at 127.0.0.1:${server.port} has no free slot for the monitor (53300 too_many_connections): on PostgreSQL 16+ set reserved_connections >= 1 and GRANT pg_use_reserved_connections TO the monitor's role; otherwise free slots`,
    );
    // The refusal is the measurement: PostgreSQL is full, and the exhaustion alert says so
    // though every figure derived from a poll is gone.
    expect(api.postgres.full).toBe(true);
    expect(api.verdict.headline).toBe('PostgreSQL is full');
    const samples = await daemon.scrape();
    expect(samples.get(`${prefix}postgres_full`)).toBe(1);
    expect(samples.get(`${prefix}headroom_connections`)).toBeUndefined();
    const exhausted = await expressionHolds(await alertExpression('CoderPostgresConnectionsExhausted'), samples, { job: 'coder-pg-capacity', instance: 'monitor-0' });
    expect(exhausted.holds, exhausted.output).toBe(true);
    // And in a real Prometheus and Alertmanager: the page reaches the receiver.
    const stack = await startPrometheusStack({ scrapeTargets: [new URL(daemon.url).host], ruleFile, forOverride: '1s' });
    try {
      const firing = await stack.webhook.waitFor((payload) => findAlert(payload, 'CoderPostgresConnectionsExhausted', 'firing') !== undefined, 45_000);
      expect(findAlert(firing, 'CoderPostgresConnectionsExhausted', 'firing')?.annotations.description).toContain('refused the monitor');
    } finally {
      await stack.stop();
    }
    const logged = daemon.logs.entries().filter((e) => e.level === 50 && e.msg.includes('53300'));
    expect(logged.length).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    reportFault('slots-exhausted-no-reserved-slot', `reconnect refused, postgres_up 0, postgres_full 1, CoderPostgresConnectionsExhausted fired through Prometheus and Alertmanager; the API and the log say: ${api.postgres.error}`);

    // A slot frees up: the monitor is back at the next poll.
    await others.pop()?.end();
    await vi.waitFor(async () => expect(await daemon.sample(`${prefix}postgres_up`)).toBe(1), { timeout: 5000, interval: 50 });
  }, 120_000);
});
