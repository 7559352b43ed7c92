// The alert rules end to end, with every part real: PostgreSQL (max_connections 60),
// three stand-in Coder replicas holding real connections, the daemon polling them, and
// Prometheus + Alertmanager loading alerts/coder-pg-capacity.rules.yml (only `for:`
// shortened). The reference scenario is overcommitted: Alertmanager must deliver
// CoderPostgresBudgetOvercommitted with the figures an operator acts on; after the
// operator lowers CODER_PG_CONN_MAX_OPEN to 8 and the replicas roll, it must resolve.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startStandInReplica, type StandInReplica } from '../../dev/stand-in-replica.js';
import { alertingScenario, type AlertingScenario } from '../support/alerting-scenario.js';
import { findAlert } from '../support/prometheus-stack.js';
import { coderUrl } from '../support/scenario.js';

const ALERT = 'CoderPostgresBudgetOvercommitted';
const POOL_MAX_AFTER = 8; // what the daemon recommends for this scenario
const OPEN_PER_REPLICA = 5;

// The reference scenario, with Prometheus and Alertmanager watching it: available 57,
// other 8 (7 + the monitor), three replicas at pool max 20 holding 5 + 1 each.
const scenario = alertingScenario();
let started: AlertingScenario;
let replicas: StandInReplica[] = [];

beforeAll(async () => {
  started = await scenario.start();
  replicas = started.cluster.replicas;
}, 120_000);
afterAll(() => scenario.stop(), 60_000);

function standIn(connectionString: string, poolMax: number, address: string, port: number): Promise<StandInReplica> {
  return startStandInReplica({ connectionString, poolMax, open: OPEN_PER_REPLICA, inUse: 2, address, port, applicationName: '' });
}

/** Replaces one stand-in by a new one at the same address and port: a pod restarted with a new setting. */
async function restartWithPoolMax(index: number, poolMax: number, connectionString: string): Promise<void> {
  const old = replicas[index]!;
  const { hostname, port } = new URL(old.url);
  await old.close();
  replicas[index] = await standIn(connectionString, poolMax, hostname, Number(port));
}

describe('alerts end to end: daemon, Prometheus and Alertmanager on a real PostgreSQL', () => {
  it('an overcommitted budget pages with its figures, and resolves once CODER_PG_CONN_MAX_OPEN is lowered to 8', async () => {
    const stack = started.prometheus;
    // available 57 - other 8 (7 + the monitor) = 49 left for Coder; budget 3 x (20 + 1) = 63.
    const firing = await stack.webhook.waitFor((payload) => findAlert(payload, ALERT, 'firing') !== undefined, 40_000);
    const alert = findAlert(firing, ALERT, 'firing')!;
    expect(alert.labels).toMatchObject({ severity: 'critical', phase: 'steady', job: 'coder-pg-capacity' });
    expect(alert.annotations.description).toContain('Steady-state budget 63 connections > 49 left for Coder');
    expect(alert.annotations.description).toContain('budget headroom -14 connections');
    expect(alert.annotations.runbook_url).toMatch(/\/runbooks#coderpostgresbudgetovercommitted$/);

    // The operator follows the runbook: CODER_PG_CONN_MAX_OPEN=8, and the Deployment
    // rolls the replicas one by one (same addresses, as behind a Service).
    for (let i = 0; i < replicas.length; i++) await restartWithPoolMax(i, POOL_MAX_AFTER, coderUrl(started.cluster.server));

    // It fits again as soon as two replicas run at 8 (9 + 9 + 21 = 39 <= 49).
    await stack.webhook.waitFor((payload) => findAlert(payload, ALERT, 'resolved') !== undefined, 40_000);
    // Once all three have rolled: budget 3 x (8 + 1) = 27 of the 49 left for Coder.
    const steady = async (metric: string) => (await stack.query(`coder_pg_capacity_${metric}{phase="steady"}`)).result;
    await vi.waitFor(async () => expect(await steady('coder_budget_connections')).toMatchObject([{ value: [expect.any(Number), '27'] }]), { timeout: 10_000 });
    expect(await steady('budget_headroom_connections')).toMatchObject([{ value: [expect.any(Number), '22'] }]);
  }, 90_000);
});
