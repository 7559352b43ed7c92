// The committed Grafana dashboard is the generator's output, points only at its own
// datasource variable, and asks Prometheus only valid PromQL over the metric contract.
// This test only reads: after changing grafana/, `npm run generate` rewrites the file.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildDashboard, dashboardJson } from '../../grafana/dashboard.js';
import { DEFAULT_RUNBOOK_URL_BASE } from '../../scripts/runbook-urls.mjs';
import { RUNBOOKS_FILE, renderRunbooks } from '../../src/web/runbooks.js';
import { contractSeriesNames, dashboardPanels, panelQueries, substituteVariables, variableQueries } from './dashboard-queries.js';

const committedFile = fileURLToPath(new URL('../../grafana/coder-pg-capacity.json', import.meta.url));
const dashboard = buildDashboard();
const testValues = { cluster: '.*', job: 'coder-pg-capacity', instance: '.+', __rate_interval: '1m', datasource: 'unused' };

/** Syntax errors lezer found in a PromQL expression, as "offset: text" strings. */
function syntaxErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`${node.from}: "${expr.slice(node.from, node.from + 20)}"`);
    },
  });
  return errors;
}

/** Metric names of every vector selector in a PromQL expression. */
function metricNames(expr: string): string[] {
  const names: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name !== 'VectorSelector') return;
      const identifier = node.node.getChild('Identifier');
      if (identifier) names.push(expr.slice(identifier.from, identifier.to));
    },
  });
  return names;
}

/** Every value under a key named `key`, anywhere in the JSON. */
function valuesOfKey(value: unknown, key: string, found: unknown[] = []): unknown[] {
  if (Array.isArray(value)) for (const item of value) valuesOfKey(item, key, found);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === key) found.push(v);
      valuesOfKey(v, key, found);
    }
  }
  return found;
}

describe('the Grafana dashboard', () => {
  it('is committed exactly as dashboardJson() generates it', async () => {
    const committed = await readFile(committedFile, 'utf8').catch(() => '(missing)');
    expect(committed, 'grafana/coder-pg-capacity.json differs from dashboardJson(): regenerate it with npm run generate').toBe(dashboardJson());
  });

  it('names no datasource uid but its own variable ${datasource}', () => {
    const refs = valuesOfKey(dashboard, 'datasource');
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(ref).toEqual({ type: 'prometheus', uid: '${datasource}' });
    // The only other uid is the dashboard's own.
    expect(valuesOfKey(dashboard, 'uid').filter((uid) => uid !== '${datasource}')).toEqual([dashboard.uid]);
    const datasourceVariable = dashboard.templating?.list?.find((variable) => variable.name === 'datasource');
    expect(datasourceVariable).toMatchObject({ type: 'datasource', query: 'prometheus' });
  });

  it('selects the monitors by cluster, job and instance from coder_pg_capacity_build_info, each within the one before', () => {
    expect(variableQueries(dashboard)).toEqual([
      { variable: 'cluster', selector: 'coder_pg_capacity_build_info', label: 'cluster' },
      { variable: 'job', selector: 'coder_pg_capacity_build_info{cluster=~"$cluster"}', label: 'job' },
      { variable: 'instance', selector: 'coder_pg_capacity_build_info{cluster=~"$cluster", job="$job"}', label: 'instance' },
    ]);
  });

  it('has the overview, connections, budget, PgBouncer, replicas, pool waits, slots, round trip and alerts rows', () => {
    const rows = (dashboard.panels ?? []).filter((panel) => panel.type === 'row').map((row) => row.title);
    expect(rows).toEqual(['Overview', 'Connections', 'Budget composition', 'PgBouncer', 'Coder replicas', 'Pool waits', 'Where the slots go', 'PostgreSQL round trip', 'Alerts']);
    const types = dashboardPanels(dashboard).map((panel) => panel.type);
    expect(new Set(types)).toEqual(new Set(['stat', 'timeseries', 'table', 'alertlist']));
  });

  it('gives every panel a description of what to do when it looks wrong', () => {
    for (const panel of dashboardPanels(dashboard)) {
      expect(panel.description, panel.title).toMatch(/\S.{60,}/);
    }
  });

  it('shows a legend on every time series', () => {
    for (const panel of dashboardPanels(dashboard).filter((p) => p.type === 'timeseries')) {
      expect((panel.options as { legend?: { showLegend?: boolean } }).legend?.showLegend, panel.title).toBe(true);
    }
  });

  it('colours budget headroom red below 0 and utilization yellow from 0.8 and red from 0.9, as the alerts fire', () => {
    const byTitle = (title: string) => dashboardPanels(dashboard).find((panel) => panel.title === title);
    expect(byTitle('Budget headroom')?.fieldConfig?.defaults?.thresholds?.steps).toEqual([
      { value: null, color: 'red' },
      { value: 0, color: 'green' },
    ]);
    expect(byTitle('Utilization')?.fieldConfig?.defaults?.thresholds?.steps).toEqual([
      { value: null, color: 'green' },
      { value: 0.8, color: 'yellow' },
      { value: 0.9, color: 'red' },
    ]);
  });

  it('draws the safety margin the daemon computes with the margin it runs, not a default baked in', () => {
    const panel = dashboardPanels(dashboard).find((p) => p.title === 'Connections by owner and state');
    const exprs = panelQueries(dashboard)
      .filter((q) => q.panel === panel?.title)
      .map((q) => q.expr);
    expect(exprs).toContain('min without (instance, pod) (coder_pg_capacity_margin_capacity_connections{cluster=~"$cluster", job="$job", instance=~"$instance"})');
    expect(exprs.join('\n')).not.toMatch(/\* 0\.8/);
  });

  it("stacks the budget composition from the daemon's slots_connections, one part per band", () => {
    const exprs = panelQueries(dashboard)
      .filter((q) => q.panel === 'Budget composition')
      .map((q) => q.expr);
    const parts = exprs.flatMap((expr) => /part="([a-z_]+)"/.exec(expr)?.[1] ?? []);
    expect(parts).toEqual(['superuser_reserved', 'reserved', 'provider', 'other', 'other_unopened', 'coder_active', 'coder_idle', 'coder_unopened', 'free', 'overcommit']);
  });

  it('writes every query in valid PromQL', () => {
    const queries = panelQueries(dashboard);
    expect(queries.length).toBeGreaterThan(25);
    for (const { panel, refId, expr } of queries) {
      expect(syntaxErrors(substituteVariables(expr, testValues)), `${panel} ${refId}: ${expr}`).toEqual([]);
    }
    for (const { variable, selector } of variableQueries(dashboard)) {
      expect(syntaxErrors(substituteVariables(selector, testValues)), `variable ${variable}`).toEqual([]);
    }
  });

  it('reads only metrics of the contract (src/exposition/metrics.ts) or Coder\'s own go_sql_*', async () => {
    const contract = await contractSeriesNames();
    expect(contract.has('coder_pg_capacity_budget_headroom_connections')).toBe(true);
    expect(contract.has('coder_pg_capacity_postgres_round_trip_seconds_bucket')).toBe(true);
    const exprs = [
      ...panelQueries(dashboard).map((q) => q.expr),
      ...variableQueries(dashboard).map((q) => q.selector),
    ].map((expr) => substituteVariables(expr, testValues));
    const used = new Set(exprs.flatMap(metricNames));
    expect(used.size).toBeGreaterThan(15);
    const unknown = [...used].filter((name) => !contract.has(name) && !name.startsWith('go_sql_'));
    expect(unknown).toEqual([]);
  });

  it('links every runbook at the daemon\'s own /runbooks, at a heading that exists', () => {
    const json = dashboardJson();
    expect(json).not.toContain('github.com');
    const anchors = [...json.matchAll(/runbooks#([\w-]+)/g)].map((match) => match[1] as string);
    expect(anchors.length).toBeGreaterThan(10);
    const page = renderRunbooks(readFileSync(RUNBOOKS_FILE, 'utf8'));
    for (const anchor of new Set(anchors)) expect(page, anchor).toContain(`id="${anchor}"`);
    expect(json).toContain(DEFAULT_RUNBOOK_URL_BASE);
  });
});
