// Every panel of the Grafana dashboard shows data on a live system: a real PostgreSQL
// (max_connections 60), three stand-in Coder replicas, the daemon polling them every
// second, and a real Prometheus scraping the daemon every second. Each panel's query is
// sent to Prometheus as Grafana would send it, with the template variables filled in.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import { buildDashboard } from '../../grafana/dashboard.js';
import type { RunningDaemon } from '../support/daemon.js';
import { startPrometheusStack, type PrometheusStack } from '../support/prometheus-stack.js';
import { startReferenceScenario, type ReferenceScenario } from '../support/reference-scenario.js';
import { dashboardPanels, panelQueries, substituteVariables, variableQueries } from './dashboard-queries.js';

const ruleFile = fileURLToPath(new URL('../../alerts/coder-pg-capacity.rules.yml', import.meta.url));
const JOB = 'coder-pg-capacity';
// Prometheus scrapes every second; Grafana's $__rate_interval would be at least 4 scrape
// intervals. 10s holds ~10 samples, enough for rate() and histogram_quantile().
const RATE_INTERVAL = '10s';

const dashboard = buildDashboard();
let scenario: ReferenceScenario | undefined;
let daemon: RunningDaemon | undefined;
let stack: PrometheusStack | undefined;
let waits: NodeJS.Timeout | undefined;
let variables: Record<string, string>;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function instant(promql: string): Promise<Sample[]> {
  const result = await stack!.query(promql);
  return result.resultType === 'vector' ? (result.result as Sample[]) : [];
}

beforeAll(async () => {
  scenario = await startReferenceScenario();
  daemon = scenario.daemon;
  const waiting = scenario.replicas[0];
  // One replica keeps waiting for connections, so the wait panels draw a rate above 0.
  waits = setInterval(() => waiting?.addWait(2, 0.05), 500);
  const instance = new URL(daemon.url).host;
  stack = await startPrometheusStack({ scrapeTargets: [instance], ruleFile, jobName: JOB, scrapeInterval: '1s' });
  variables = { job: JOB, instance, __rate_interval: RATE_INTERVAL };
}, 120_000);

afterAll(async () => {
  clearInterval(waits);
  await stack?.stop();
  await scenario?.stop();
}, 60_000);

describe('the Grafana dashboard against a live Prometheus', () => {
  it('finds the monitor through its job and instance variables', async () => {
    for (const { variable, selector, label } of variableQueries(dashboard)) {
      const match = encodeURIComponent(substituteVariables(selector, variables));
      // Until the first scrape, there is nothing to list.
      await vi.waitFor(
        async () => {
          const res = await fetch(`${stack!.prometheusUrl}/api/v1/label/${label}/values?match[]=${match}`);
          const body = (await res.json()) as { data: string[] };
          expect(body.data, `variable ${variable}`).toEqual([variables[variable]]);
        },
        { timeout: 15_000, interval: 500 },
      );
    }
  });

  it('has data in every query of every panel once the rate windows have filled', async () => {
    const queries = panelQueries(dashboard);
    const empty = async () => {
      const missing: string[] = [];
      for (const { panel, refId, expr } of queries) {
        const samples = await instant(substituteVariables(expr, variables));
        if (!samples.some((sample) => sample.value[1] !== 'NaN')) missing.push(`${panel} ${refId}: ${expr}`);
      }
      return missing;
    };
    await vi.waitFor(async () => expect(await empty()).toEqual([]), { timeout: 45_000, interval: 1_000 });
  }, 60_000);

  it('shows the reference figures: budget headroom -14 steady, margin line 45, replica waits above 0', async () => {
    const budgetPanel = panelQueries(dashboard).find((q) => q.panel === 'Budget headroom')!;
    const headroom = await instant(substituteVariables(budgetPanel.expr, variables));
    expect(headroom.find((s) => s.metric.phase === 'steady')?.value[1]).toBe('-14');
    expect(headroom.find((s) => s.metric.phase === 'rollout')?.value[1]).toBe('-35');

    const margin = panelQueries(dashboard).find((q) => q.panel === 'Connections by owner and state' && q.refId === 'C')!;
    expect((await instant(substituteVariables(margin.expr, variables)))[0]?.value[1]).toBe('45'); // floor(57 × 0.8)

    const waitRate = panelQueries(dashboard).find((q) => q.panel === 'Waits for a connection')!;
    const rates = await instant(substituteVariables(waitRate.expr, variables));
    expect(rates.find((s) => s.metric.replica === scenario!.replicas[0]!.url)?.value[1]).not.toBe('0');
  });

  it("lists the rules' alerts in the alert list panel's filter", async () => {
    const panel = dashboardPanels(dashboard).find((p) => p.type === 'alertlist')!;
    const nameFilter = (panel.options as { alertName: string }).alertName;
    // Without a shortened `for:` the overcommitted budget is pending: the panel shows pending too.
    await vi.waitFor(
      async () => {
        const alerts = await instant(`ALERTS{alertname=~".*${nameFilter}.*"}`);
        expect(alerts.map((a) => a.metric.alertname)).toContain('CoderPostgresBudgetOvercommitted');
      },
      { timeout: 15_000, interval: 1_000 },
    );
  });
});
