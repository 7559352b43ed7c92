// The dashboard's shared vocabulary: how a query selects and aggregates the contract's
// series, and the panel, threshold and link builders every row uses alike.

import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  FieldColorModeId,
  MappingType,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type DynamicConfigValue,
  type Panel,
  type Threshold,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { DEFAULT_RUNBOOK_URL_BASE } from '../scripts/runbook-urls.mjs';
import { metricName, type FamilyName } from '../src/contract/metrics.js';
// The runbooks the daemon serves at /runbooks, at the same base as the alert rules' links.
export const RUNBOOKS = DEFAULT_RUNBOOK_URL_BASE;

/** Every panel and query goes through the dashboard's datasource variable. */
export const datasource = { type: 'prometheus', uid: '${datasource}' };

/** One row of the dashboard: its title and its panels, in layout order. */
export interface Row {
  title: string;
  panels: cog.Builder<Panel>[];
}

/**
 * A contract metric of the selected cluster, job and monitors, with more label matchers if
 * given. On a single Prometheus no series has a `cluster` label and the variable is All
 * (`.*`), which an absent label (the empty value) matches.
 */
export function m(family: FamilyName, matchers = '', suffix = ''): string {
  return `${metricName(family)}${suffix}{cluster=~"$cluster", job="$job", instance=~"$instance"${matchers ? `, ${matchers}` : ''}}`;
}

// Several monitors of one Coder (a sidecar per coderd replica) differ only in these labels.
// Aggregating them away as alerts/coder-pg-capacity.rules.yml does draws one line per Coder
// while clusters, jobs and the metric's own labels (phase, part, replica ...) stay apart,
// where a bare max() would merge a fleet's deployments into one line.
const MONITOR_LABELS = 'instance, pod';

/** The largest of the monitors' readings, per Coder: the rules' choice where more is worse. */
export function maxOfMonitors(expr: string): string {
  return `max without (${MONITOR_LABELS}) (${expr})`;
}

/** The smallest of the monitors' readings, per Coder: the rules' choice where less is worse. */
export function minOfMonitors(expr: string): string {
  return `min without (${MONITOR_LABELS}) (${expr})`;
}

export function runbook(anchor: string, text = 'runbook'): string {
  return `[${text}](${RUNBOOKS}${anchor})`;
}

export function query(refId: string, expr: string, legend: string): DataqueryBuilder {
  return new DataqueryBuilder().refId(refId).datasource(datasource).expr(expr).legendFormat(legend);
}

export function tableQuery(refId: string, expr: string): DataqueryBuilder {
  return new DataqueryBuilder().refId(refId).datasource(datasource).expr(expr).instant().format(PromQueryFormat.Table);
}

/** Threshold steps: the base colour, then [from, colour] pairs (a step applies from its value up). */
export function steps(base: string, ...rest: [number, string][]): ThresholdsConfigBuilder {
  const list: Threshold[] = [{ value: null, color: base }, ...rest.map(([value, color]) => ({ value, color }))];
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(list);
}

export function fixedColor(color: string): DynamicConfigValue {
  return { id: 'color', value: { mode: FieldColorModeId.Fixed, fixedColor: color } };
}

/** Overrides that turn one series of a stacked panel into a plain reference line. */
export function referenceLine(color: string, dash: boolean): DynamicConfigValue[] {
  return [
    fixedColor(color),
    { id: 'custom.stacking', value: { mode: common.StackingMode.None, group: 'A' } },
    { id: 'custom.fillOpacity', value: 0 },
    { id: 'custom.lineWidth', value: 2 },
    ...(dash ? [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }] : []),
  ];
}

const legend = () => new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom);
export const tableLegend = () =>
  new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Right).calcs(['lastNotNull', 'max']);
const sharedTooltip = () => new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending);
const lastValue = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

export function stat(title: string, description: string): StatPanelBuilder {
  return new StatPanelBuilder()
    .title(title)
    .description(description)
    .datasource(datasource)
    .height(5)
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .textMode(common.BigValueTextMode.Auto)
    .decimals(0);
}

export function timeseries(title: string, description: string): TimeseriesPanelBuilder {
  return new TimeseriesPanelBuilder()
    .title(title)
    .description(description)
    .datasource(datasource)
    .height(9)
    .legend(legend())
    .tooltip(sharedTooltip())
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never);
}

export const upDown: ValueMapping[] = [
  { type: MappingType.ValueToText, options: { '0': { text: 'down', color: 'red', index: 0 }, '1': { text: 'up', color: 'green', index: 1 } } },
];
