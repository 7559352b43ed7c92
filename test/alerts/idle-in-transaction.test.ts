// A Coder session left idle in a transaction, end to end with every part real: a stand-in
// replica runs BEGIN; SELECT 1 on one of its pooled connections on a real PostgreSQL and
// leaves it; the daemon reads the session's age from PostgreSQL's clock; Prometheus and
// Alertmanager load alerts/coder-pg-capacity.rules.yml (only `for:` shortened). The age
// threshold (60 s) is not shortened, so this test waits for real: about 95 s.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { alertingScenario, type AlertingScenario } from '../support/alerting-scenario.js';
import { findAlert } from '../support/prometheus-stack.js';

const ALERT = 'CoderPostgresIdleInTransaction';

// The session goes idle in its transaction first: the stack's start-up counts towards its 90 s.
const scenario = alertingScenario({ prepare: (cluster) => cluster.replicas[0]!.setIdleInTransaction(1) });
let started: AlertingScenario;

beforeAll(async () => {
  started = await scenario.start();
}, 120_000);
afterAll(() => scenario.stop(), 60_000);

describe('a Coder session idle in a transaction, with a real PostgreSQL, Prometheus and Alertmanager', () => {
  it('after 90 s /metrics shows its age (about 90) for owner coder, CoderPostgresIdleInTransaction has fired, and the status page names it', async () => {
    const running = started.daemon;
    const age = () => running.sample('coder_pg_capacity_oldest_idle_in_transaction_seconds', { owner: 'coder' });

    const firing = await started.prometheus.webhook.waitFor((payload) => findAlert(payload, ALERT, 'firing') !== undefined, 120_000);
    const alert = findAlert(firing, ALERT, 'firing')!;
    expect(alert.labels).toMatchObject({ severity: 'warning', owner: 'coder', job: 'coder-pg-capacity' });
    expect(alert.annotations.description).toMatch(/has been so for 1m \d+s; 1 of Coder's connections are idle in a transaction/);
    expect(alert.annotations.runbook_url).toMatch(/\/runbooks#coderpostgresidleintransaction$/);

    await vi.waitFor(async () => expect(await age()).toBeGreaterThanOrEqual(90), { timeout: 60_000, interval: 1000 });
    expect(await age()).toBeLessThan(95);

    const page = await (await fetch(`${running.url}/`)).text();
    expect(page).toContain('data-finding="idle-in-transaction"');
    expect(page).toMatch(/1 connection of Coder&#39;s is idle in a transaction, the oldest for 9\d s \(over 60 s\)/);
  }, 200_000);
});
