// One Grafana for a fleet of Coder deployments (issue 20): every query keeps to the chosen
// `cluster` and aggregates only the monitors' own labels away, as the alert rules do, so a
// central Prometheus holding several clusters never draws two deployments as one line.

import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { buildDashboard } from '../../grafana/dashboard.js';
import { panelQueries, variableQueries } from './dashboard-queries.js';

const dashboard = buildDashboard();
const CLUSTER_MATCHER = 'cluster=~"$cluster"';

interface Aggregation {
  op: string;
  /** "without", "by", or "" for a bare aggregation. */
  modifier: string;
  labels: string[];
}

/** The aggregations and vector selectors of a PromQL expression, as written. */
function parts(expr: string): { aggregations: Aggregation[]; selectors: string[] } {
  // Grafana's range variable is not PromQL; the rest of the variables sit inside strings.
  const promql = expr.replaceAll('$__rate_interval', '1m');
  const aggregations: Aggregation[] = [];
  const selectors: string[] = [];
  parser.parse(promql).iterate({
    enter(node) {
      const text = (n: { from: number; to: number }) => promql.slice(n.from, n.to);
      if (node.name === 'VectorSelector') selectors.push(text(node));
      if (node.name !== 'AggregateExpr') return;
      const op = node.node.getChild('AggregateOp');
      const modifier = node.node.getChild('AggregateModifier');
      aggregations.push({
        op: op ? text(op) : '?',
        modifier: modifier?.firstChild ? text(modifier.firstChild) : '',
        labels: modifier?.getChild('GroupingLabels')?.getChildren('LabelName').map(text) ?? [],
      });
    },
  });
  return { aggregations, selectors };
}

const queries = panelQueries(dashboard);

describe('the dashboard on a fleet', () => {
  it('offers a cluster variable before job: All by default, one at a time, and "All" matching series without the label', () => {
    const variables = dashboard.templating?.list ?? [];
    expect(variables.map((variable) => variable.name)).toEqual(['datasource', 'cluster', 'job', 'instance']);
    expect(variables[1]).toMatchObject({
      type: 'query',
      query: 'label_values(coder_pg_capacity_build_info, cluster)',
      includeAll: true,
      multi: false,
      allValue: '.*',
      current: { value: '$__all' },
    });
  });

  it('selects the chosen cluster in every query of every panel and in the job and instance variables', () => {
    expect(queries.length).toBeGreaterThan(40);
    for (const { panel, refId, expr } of queries) expect(expr, `${panel} ${refId}`).toContain(CLUSTER_MATCHER);
    const listed = variableQueries(dashboard).filter(({ variable }) => variable !== 'cluster');
    expect(listed.map(({ variable }) => variable)).toEqual(['job', 'instance']);
    for (const { variable, selector } of listed) expect(selector, variable).toContain(CLUSTER_MATCHER);
  });

  it('selects the chosen cluster in each series selector, not only somewhere in the query', () => {
    let selectors = 0;
    for (const { panel, refId, expr } of queries) {
      for (const selector of parts(expr).selectors) {
        selectors++;
        expect(selector, `${panel} ${refId}: ${expr}`).toContain(CLUSTER_MATCHER);
      }
    }
    // A binary expression has two selectors: the count is above the number of queries.
    expect(selectors).toBe(queries.length + 1);
  });

  it('never aggregates bare: each max, min, sum, avg or count names what it removes, and never the cluster or job', () => {
    let aggregations = 0;
    for (const { panel, refId, expr } of queries) {
      // The literal form first, as a reader would grep for it.
      expect(expr, `${panel} ${refId}`).not.toMatch(/\b(max|min|sum|avg|count)\s*\(/);
      for (const aggregation of parts(expr).aggregations) {
        aggregations++;
        expect(aggregation.modifier, `${panel} ${refId}: ${expr}`).toBe('without');
        expect(aggregation.labels, `${panel} ${refId}: ${expr}`).not.toContain('cluster');
        expect(aggregation.labels, `${panel} ${refId}: ${expr}`).not.toContain('job');
      }
    }
    expect(aggregations).toBeGreaterThan(40);
  });

  it("takes the monitors' worst reading as the rules do: max or min without (instance, pod), the round trip per monitor", () => {
    for (const { panel, refId, expr } of queries) {
      const { aggregations } = parts(expr);
      if (panel === 'Poll round trip') {
        expect(aggregations, `${panel} ${refId}`).toEqual([]);
        continue;
      }
      const overMonitors = aggregations.filter(({ labels }) => labels.join(', ') === 'instance, pod');
      expect(overMonitors.length, `${panel} ${refId}: ${expr}`).toBeGreaterThan(0);
      for (const { op } of overMonitors) expect(['max', 'min'], `${panel} ${refId}: ${expr}`).toContain(op);
    }
  });
});
