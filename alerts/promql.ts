// The shared pieces every rule is built from, as the mixins' config.libsonnet: which labels
// identify a monitor (and only those are aggregated away), how a contract metric is
// selected, and how an annotation looks up a second figure of the same deployment.
//
// Why look-ups select by every label the alert keeps: under a Thanos or Mimir ruler every
// series carries its cluster's external labels and clusters share one job name; a look-up
// by `job` alone returns whichever cluster answers first. So each annotation that looks
// figures up first builds `$sel` from the alert's own labels ($labels), leaving out the
// labels of the families its expression reads (phase, replica, ...: the look-up sets
// those itself when it needs them), and every look-up selects `{…, $sel}`.

import { metricFamilies, metricName, type FamilyName, type LabelOf } from '../src/contract/metrics.js';

/** The labels that tell two monitors of one deployment apart (an HA pair, a sidecar per replica). */
export const MONITOR_LABELS = ['instance', 'pod'] as const;

const WITHOUT_MONITOR = `without (${MONITOR_LABELS.join(', ')})`;

/** `max without (instance, pod) (expr)`: every label but the monitor's kept. */
export const max = (expr: string) => `max ${WITHOUT_MONITOR} (${expr})`;
export const min = (expr: string) => `min ${WITHOUT_MONITOR} (${expr})`;

/** A label value taken from the alert: `{ replica: alertLabel('replica') }` in a look-up. */
export interface AlertLabel {
  alertLabel: string;
}
export const alertLabel = (name: string): AlertLabel => ({ alertLabel: name });

/** A regular-expression matcher: `{ state: regex('idle in transaction.*') }`. */
export interface Regex {
  regex: string;
}
export const regex = (pattern: string): Regex => ({ regex: pattern });

type Matchers<F extends FamilyName> = Partial<Record<LabelOf<F>, string | AlertLabel | Regex>>;

/** A contract family, selected in an alert expression: `coder_pg_capacity_x{phase="steady"}`. */
export function m<F extends FamilyName>(family: F, matchers: Partial<Record<LabelOf<F>, string>> = {}, suffix = ''): string {
  const pairs = Object.entries(matchers).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  return `${metricName(family)}${suffix}${pairs.length > 0 ? `{${pairs.join(', ')}}` : ''}`;
}

/**
 * The families an expression reads (its `coder_pg_capacity_*` names), so that a look-up
 * leaves their labels out of `$sel`: those are the alert's own, not the deployment's.
 */
export function familiesIn(expr: string): FamilyName[] {
  const names = new Set<FamilyName>();
  for (const match of expr.matchAll(/coder_pg_capacity_(\w+)/g)) {
    const name = (match[1] ?? '').replace(/_(bucket|count|sum)$/, '');
    if (name in metricFamilies) names.add(name as FamilyName);
  }
  return [...names];
}

/** The labels of the families an expression reads, sorted. */
export function ownLabelsOf(expr: string): string[] {
  return [...new Set(familiesIn(expr).flatMap((family) => [...metricFamilies[family].labels]))].sort();
}

/** Builds `$sel`: `name="value", ` for each label of the alert but its own. Go templates range over a map in key order. */
export function selectorPreamble(ownLabels: readonly string[]): string {
  const add = '{{ $sel = printf "%s%s=%q, " $sel $k $v }}';
  const body = ownLabels.length === 0 ? add : `{{ if not (eq $k ${ownLabels.map((label) => JSON.stringify(label)).join(' ')}) }}${add}{{ end }}`;
  return `{{ $sel := "" }}{{ range $k, $v := $labels }}${body}{{ end }}`;
}

/** How a looked-up figure is printed. */
export type Format = 'humanize' | 'humanizeDuration' | 'printf "%.2f"';

/** A selector for a look-up, collecting the alert labels it refers to as printf arguments. */
export class LookUp {
  readonly args: string[] = ['$sel'];

  /** `coder_pg_capacity_x{phase="steady", replica=<the alert's>, <$sel>}` inside a printf format. */
  m<F extends FamilyName>(family: F, matchers: Matchers<F> = {}, suffix = ''): string {
    const pairs = Object.entries(matchers as Record<string, string | AlertLabel | Regex>).map(([name, value]) => {
      if (typeof value === 'string') return `${name}=${JSON.stringify(value)}`;
      if ('regex' in value) return `${name}=~${JSON.stringify(value.regex)}`;
      this.args.push(`$labels.${value.alertLabel}`);
      return `${name}=%[${this.args.length}]q`;
    });
    return `${metricName(family)}${suffix}{${[...pairs, '%[1]s'].join(', ')}}`;
  }
}

/**
 * A second figure of the alert's deployment in an annotation: `(unknown)` when it has no
 * series. The expression is a Go raw string, so PromQL's quotes need no escaping.
 */
export function figure(build: (q: LookUp) => string, format: Format = 'humanize'): string {
  return `{{ with ${query(build)} }}{{ . | first | value | ${format} }}{{ else }}(unknown){{ end }}`;
}

/** The template pipeline that runs a look-up: `printf `expr` $sel … | query`. */
export function query(build: (q: LookUp) => string): string {
  const q = new LookUp();
  const expr = build(q);
  if (expr.includes('`')) throw new Error(`a look-up cannot hold a backquote: ${expr}`);
  return `printf \`${expr}\` ${q.args.join(' ')} | query`;
}
