// Every panel of the Grafana dashboard shows data on a live system: a real PostgreSQL
// (max_connections 60), three stand-in Coder replicas, the daemon polling them every
// second (with --capacity.safety-margin 0.5, so that a margin baked into a view would
// show), and a real Prometheus scraping the daemon every second. Each panel's query is
// sent to Prometheus as Grafana would send it, with the template variables filled in.
// The same scenario then proves the views agree: /metrics, the status page,
// /api/v1/capacity, check --output json and every Grafana query show the same figures.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import { buildDashboard } from '../../grafana/dashboard.js';
import { runCheckCli } from '../support/check-cli.js';
import { MONITOR_APPLICATION_NAME } from '../../src/sources/postgres.js';
import { monitorUrl } from '../support/scenario.js';
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
  scenario = await startReferenceScenario(['--capacity.safety-margin', '0.5']);
  daemon = scenario.daemon;
  const waiting = scenario.replicas[0];
  // One replica keeps waiting for connections, so the wait panels draw a rate above 0.
  waits = setInterval(() => waiting?.addWait(2, 0.05), 500);
  const instance = new URL(daemon.url).host;
  stack = await startPrometheusStack({ scrapeTargets: [instance], ruleFile, jobName: JOB, scrapeInterval: '1s' });
  // No series here has a `cluster` label (one Prometheus, no external labels): the
  // variable lists nothing and stays at All, whose `.*` matches the absent label.
  variables = { cluster: '.*', job: JOB, instance, __rate_interval: RATE_INTERVAL };
}, 120_000);

afterAll(async () => {
  clearInterval(waits);
  await stack?.stop();
  await scenario?.stop();
}, 60_000);

describe('the Grafana dashboard against a live Prometheus', () => {
  it('finds the monitor through its job and instance variables, with no cluster to list', async () => {
    for (const { variable, selector, label } of variableQueries(dashboard)) {
      const expected = variable === 'cluster' ? [] : [variables[variable]];
      const match = encodeURIComponent(substituteVariables(selector, variables));
      // Until the first scrape, there is nothing to list.
      await vi.waitFor(
        async () => {
          const res = await fetch(`${stack!.prometheusUrl}/api/v1/label/${label}/values?match[]=${match}`);
          const body = (await res.json()) as { data: string[] };
          expect(body.data, `variable ${variable}`).toEqual(expected);
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
        // The PgBouncer row's pooler figures exist only with --pgbouncer.url, which this
        // scenario has not: test/integration/pgbouncer.test.ts reads them from the daemon.
        if (expr.includes('coder_pg_capacity_pgbouncer_')) continue;
        // No session of this scenario is idle in a transaction, and the metric is absent
        // rather than 0 then: test/alerts/idle-in-transaction.test.ts holds one open, reads
        // the figure and has the alert on it fire in a real Prometheus.
        if (expr.includes('coder_pg_capacity_oldest_idle_in_transaction_seconds')) continue;
        const samples = await instant(substituteVariables(expr, variables));
        if (!samples.some((sample) => sample.value[1] !== 'NaN')) missing.push(`${panel} ${refId}: ${expr}`);
      }
      return missing;
    };
    await vi.waitFor(async () => expect(await empty()).toEqual([]), { timeout: 45_000, interval: 1_000 });
  }, 60_000);

  it('shows the reference figures: budget headroom -14 steady, margin line 28 at a 50% margin, replica waits above 0', async () => {
    const budgetPanel = panelQueries(dashboard).find((q) => q.panel === 'Budget headroom')!;
    const headroom = await instant(substituteVariables(budgetPanel.expr, variables));
    expect(headroom.find((s) => s.metric.phase === 'steady')?.value[1]).toBe('-14');
    expect(headroom.find((s) => s.metric.phase === 'rollout')?.value[1]).toBe('-35');

    const margin = panelQueries(dashboard).find((q) => q.panel === 'Connections by owner and state' && q.refId === 'C')!;
    expect((await instant(substituteVariables(margin.expr, variables)))[0]?.value[1]).toBe('28'); // floor(57 × 0.5), as the daemon runs it
    expect(await daemon!.sample('coder_pg_capacity_margin_capacity_connections')).toBe(28);

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

  describe('one scenario, the same numbers in every view', () => {
    type Capacity = Record<string, unknown> & { slots: { parts: Record<string, number> } };
    // Each figure: its series on /metrics, its path in the JSON document, its row on the status page.
    const figures: { series: string; json: (c: Capacity) => unknown; row?: string }[] = [
      { series: 'available_connections', json: (c) => c.available, row: 'available' },
      { series: 'used_connections', json: (c) => c.used, row: 'used' },
      { series: 'coder_connections', json: (c) => c.coder, row: 'coder' },
      { series: 'other_connections', json: (c) => c.other, row: 'other' },
      { series: 'headroom_connections', json: (c) => c.headroom, row: 'headroom' },
      { series: 'coder_budget_connections{phase="steady"}', json: (c) => (c.budget as { steady: number }).steady, row: 'budget-steady' },
      { series: 'coder_budget_connections{phase="rollout"}', json: (c) => (c.budget as { rollout: number }).rollout, row: 'budget-rollout' },
      { series: 'budget_headroom_connections{phase="steady"}', json: (c) => (c.budgetHeadroom as { steady: number }).steady, row: 'budget-headroom-steady' },
      { series: 'budget_headroom_connections{phase="rollout"}', json: (c) => (c.budgetHeadroom as { rollout: number }).rollout, row: 'budget-headroom-rollout' },
      { series: 'margin_capacity_connections', json: (c) => c.marginCapacity, row: 'margin-capacity' },
      { series: 'recommended_pool_max_connections', json: (c) => c.recommendedPoolMax, row: 'recommended-pool-max' },
      { series: 'max_safe_replicas', json: (c) => c.maxSafeReplicas, row: 'max-safe-replicas' },
      { series: 'unaccounted_coder_connections', json: (c) => c.unaccounted, row: 'unaccounted' },
      ...['superuser_reserved', 'reserved', 'provider', 'other', 'other_unopened', 'coder_active', 'coder_idle', 'coder_unopened', 'free', 'overcommit'].map((part) => ({
        series: `slots_connections{part="${part}"}`,
        json: (c: Capacity) => c.slots.parts[part],
      })),
    ];
    const metricsValue = (samples: Map<string, number>, series: string) => samples.get(`coder_pg_capacity_${series}`);
    let samples: Map<string, number>;
    let api: { capacity: Capacity; verdict: { headline: string; exitCode: number } };

    beforeAll(async () => {
      samples = await daemon!.scrape();
      api = (await (await fetch(`${daemon!.url}/api/v1/capacity`)).json()) as typeof api;
    });

    it('/metrics and /api/v1/capacity hold the same figures, the reference ones', () => {
      for (const figure of figures) expect(figure.json(api.capacity), figure.series).toBe(metricsValue(samples, figure.series));
      expect(metricsValue(samples, 'budget_headroom_connections{phase="steady"}')).toBe(-14);
      expect(metricsValue(samples, 'slots_connections{part="coder_unopened"}')).toBe(31);
    });

    it('the status page shows the same figures in its rows and its slot bar', async () => {
      const page = await (await fetch(`${daemon!.url}/`)).text();
      for (const figure of figures) {
        const value = metricsValue(samples, figure.series);
        if (figure.row) {
          const cell = new RegExp(`data-figure="${figure.row}"><th scope="row">[^<]*</th><td class="num[^"]*">([^<]*)</td>`).exec(page)?.[1];
          expect(cell, figure.series).toBe(String(value));
        } else {
          const part = /part="(\w+)"/.exec(figure.series)?.[1] as string;
          // The bar's legend lists the parts inside max_connections; overcommit shows as "overcommit, steady".
          const legend = part === 'overcommit' ? /overcommit, steady <b>(\d+)<\/b>/.exec(page)?.[1] : new RegExp(`seg-${part}"></i>[^<]*<b>(\\d+)</b>`).exec(page)?.[1];
          // Declared-but-unopened other slots are listed only when there are some.
          expect(legend, figure.series).toBe(part === 'other_unopened' && value === 0 ? undefined : String(value));
        }
      }
    });

    it('every Grafana query of a single figure returns what /metrics says', async () => {
      const byFigure = new Map(figures.map((figure) => [figure.series, figure]));
      const compared = new Set<string>();
      for (const { panel, refId, expr } of panelQueries(dashboard)) {
        const names = new Set(expr.match(/coder_pg_capacity_[a-z_]+/g) ?? []);
        if (names.size !== 1) continue;
        const name = [...names][0]!.replace('coder_pg_capacity_', '');
        for (const sample of await instant(substituteVariables(expr, variables))) {
          // A label the query aggregated away is still named in its matchers.
          const phase = sample.metric.phase ?? /phase="(\w+)"/.exec(expr)?.[1];
          const part = sample.metric.part ?? /part="(\w+)"/.exec(expr)?.[1];
          const label = phase ? `{phase="${phase}"}` : part ? `{part="${part}"}` : '';
          const series = `${name}${label}`;
          if (!byFigure.has(series)) continue;
          expect(Number(sample.value[1]), `${panel} ${refId}: ${expr}`).toBe(metricsValue(samples, series));
          compared.add(series);
        }
      }
      // The stat panels, the budget headroom panel, the margin line and every band of the stack.
      expect([...compared].sort()).toEqual(
        expect.arrayContaining([
          'budget_headroom_connections{phase="rollout"}',
          'budget_headroom_connections{phase="steady"}',
          'headroom_connections',
          'margin_capacity_connections',
          'max_safe_replicas',
          'recommended_pool_max_connections',
          ...figures.filter((figure) => figure.series.startsWith('slots_')).map((figure) => figure.series),
        ]),
      );
    });

    it('check --output json prints the same document and figures (run once the daemon has stopped, so it sees what the daemon saw)', async () => {
      const { server, replicas } = scenario!;
      // The daemon's connection would be one more "other" for check: stop it and wait for its backend to go.
      await daemon!.stop();
      const admin = await server.admin();
      try {
        await vi.waitFor(async () => expect((await admin.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [MONITOR_APPLICATION_NAME])).rowCount).toBe(0), { timeout: 5000, interval: 50 });
      } finally {
        await admin.end();
      }
      const run = await runCheckCli(['--output', 'json', '--postgres.url', monitorUrl(server), '--coder.role', 'coder', '--coder.targets', replicas.map((r) => r.url).join(','), '--capacity.safety-margin', '0.5']);
      const report = JSON.parse(run.stdout) as typeof api;
      expect(Object.keys(report).sort()).toEqual(Object.keys(api).sort());
      expect(report.verdict).toMatchObject({ headline: api.verdict.headline, exitCode: run.status });
      for (const figure of figures) expect(figure.json(report.capacity), figure.series).toBe(metricsValue(samples, figure.series));
    });
  });
});
