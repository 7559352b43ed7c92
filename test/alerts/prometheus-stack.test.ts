// The Prometheus + Alertmanager test stack works end to end: a static fake exporter
// shows an overcommitted budget, the webhook receives CoderPostgresBudgetOvercommitted
// firing with its figures, and after the budget fits again, resolved.
import { afterAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { findAlert, startPrometheusStack, type PrometheusStack } from '../support/prometheus-stack.js';

const ruleFile = fileURLToPath(new URL('../../alerts/coder-pg-capacity.rules.yml', import.meta.url));

/** The series CoderPostgresBudgetOvercommitted and its description read, for a given budget. */
function exposition(budget: number): string {
  const available = 97;
  const other = 48;
  return [
    '# TYPE coder_pg_capacity_budget_headroom_connections gauge',
    `coder_pg_capacity_budget_headroom_connections{phase="steady"} ${available - other - budget}`,
    '# TYPE coder_pg_capacity_coder_budget_connections gauge',
    `coder_pg_capacity_coder_budget_connections{phase="steady"} ${budget}`,
    '# TYPE coder_pg_capacity_available_connections gauge',
    `coder_pg_capacity_available_connections ${available}`,
    '# TYPE coder_pg_capacity_other_connections gauge',
    `coder_pg_capacity_other_connections ${other}`,
    '# TYPE coder_pg_capacity_coder_available_connections gauge',
    `coder_pg_capacity_coder_available_connections ${available - other}`,
    '# TYPE coder_pg_capacity_postgres_up gauge',
    'coder_pg_capacity_postgres_up 1',
    '# TYPE coder_pg_capacity_build_info gauge',
    'coder_pg_capacity_build_info{version="test"} 1',
    '',
  ].join('\n');
}

describe('Prometheus and Alertmanager test stack', () => {
  let exporter: Server | undefined;
  let stack: PrometheusStack | undefined;

  afterAll(async () => {
    await stack?.stop();
    if (exporter?.listening) {
      exporter.closeAllConnections();
      await new Promise<void>((resolve) => exporter!.close(() => resolve()));
    }
  }, 30_000);

  it('an overcommitted budget reaches the webhook firing, then resolved once it fits', async () => {
    let budget = 63; // 97 available - 48 other = 49 left for Coder: headroom -14
    exporter = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition(budget));
    });
    exporter.listen(0, '127.0.0.1');
    await once(exporter, 'listening');
    const { port } = exporter.address() as AddressInfo;

    stack = await startPrometheusStack({
      scrapeTargets: [`127.0.0.1:${port}`],
      ruleFile,
      forOverride: '3s',
    });

    const firing = await stack.webhook.waitFor(
      (payload) => findAlert(payload, 'CoderPostgresBudgetOvercommitted', 'firing') !== undefined,
      40_000,
    );
    const alert = findAlert(firing, 'CoderPostgresBudgetOvercommitted', 'firing')!;
    expect(alert.labels).toMatchObject({ severity: 'critical', phase: 'steady', job: 'coder-pg-capacity' });
    expect(alert.labels.instance).toBeUndefined();
    expect(alert.annotations.description).toContain(
      'Steady-state budget 63 connections > 49 left for Coder',
    );
    expect(alert.annotations.description).toContain('budget headroom -14 connections');

    budget = 44; // headroom 5
    await stack.webhook.waitFor(
      (payload) => findAlert(payload, 'CoderPostgresBudgetOvercommitted', 'resolved') !== undefined,
      30_000,
    );
    const headroom = await stack.query('coder_pg_capacity_budget_headroom_connections{phase="steady"}');
    expect(headroom.result).toMatchObject([{ value: [expect.any(Number), '5'] }]);
  }, 90_000);
});
