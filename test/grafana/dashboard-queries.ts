// What the dashboard asks Prometheus, read from the generated dashboard itself, with
// Grafana's template variables replaced the way Grafana would: shared by the static
// checks (parse, contract names) and the end-to-end run against a real Prometheus.

import type { Dashboard, Panel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import { createMetrics } from '../../src/exposition/metrics.js';

export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
}

/** Panels of the dashboard, rows' nested panels included, rows themselves left out. */
export function dashboardPanels(dashboard: Dashboard): Panel[] {
  const panels: Panel[] = [];
  for (const panel of (dashboard.panels ?? []) as (Panel & { panels?: Panel[] })[]) {
    if (panel.type === 'row') panels.push(...(panel.panels ?? []));
    else panels.push(panel);
  }
  return panels;
}

export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  return dashboardPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((target) => {
      const { refId, expr } = target as { refId?: string; expr?: string };
      if (typeof expr !== 'string' || expr === '') throw new Error(`panel "${panel.title}" has a target without expr`);
      return { panel: panel.title ?? '(untitled)', refId: refId ?? '?', expr };
    }),
  );
}

export interface VariableQuery {
  variable: string;
  /** The series selector inside label_values(...). */
  selector: string;
  label: string;
}

/** The query variables' label_values(selector, label): Grafana's syntax, not PromQL. */
export function variableQueries(dashboard: Dashboard): VariableQuery[] {
  const variables = (dashboard.templating?.list ?? []) as VariableModel[];
  return variables
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const text = typeof variable.query === 'string' ? variable.query : String((variable.query as { query?: unknown })?.query);
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(text);
      if (!match) throw new Error(`variable ${variable.name}: expected label_values(selector, label), got ${text}`);
      return { variable: variable.name, selector: match[1] as string, label: match[2] as string };
    });
}

/**
 * Replaces $name and ${name} as Grafana does before a query leaves the browser; an
 * unknown variable throws, so a variable added to the dashboard cannot go untested.
 */
export function substituteVariables(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    const value = values[name];
    if (value === undefined) throw new Error(`no test value for template variable ${whole} in ${expr}`);
    return value;
  });
}

/** Series names the contract exposes: the registry's own list, histograms with their suffixes. */
export async function contractSeriesNames(): Promise<Set<string>> {
  const { registry } = createMetrics(() => null, 'test');
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    if (!metric.name.startsWith('coder_pg_capacity_')) continue;
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    else names.add(metric.name);
  }
  return names;
}
