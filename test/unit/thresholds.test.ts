// One table of thresholds (src/model/thresholds.ts) for the findings, the alert rules and
// the dashboard: the findings import it; the rules (YAML) and the dashboard's colours
// cannot, so this test fails when either drifts from the table.

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildDashboard } from '../../grafana/dashboard.js';
import { thresholds } from '../../src/model/thresholds.js';

interface Rule {
  alert?: string;
  expr: string;
  labels?: { severity?: string };
}

const rules = (parse(await readFile(new URL('../../alerts/coder-pg-capacity.rules.yml', import.meta.url), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);

/** The number an alert's expression compares with at its end: `... > 0.8`. */
function comparedWith(alert: string, severity?: string): number {
  const rule = rules.find((r) => r.alert === alert && (severity === undefined || r.labels?.severity === severity));
  const match = rule && /[<>]=?\s*([\d.]+)\s*$/.exec(rule.expr.trim());
  if (!match) throw new Error(`${alert} ${severity ?? ''}: no trailing comparison in its expr`);
  return Number(match[1]);
}

/** The threshold steps of the dashboard panel with this title. */
function panelSteps(title: string): number[] {
  const panel = buildDashboard().panels?.flatMap((p) => ('panels' in p ? [p, ...((p.panels as unknown[]) ?? [])] : [p])).find((p) => (p as { title?: string }).title === title) as
    | { fieldConfig?: { defaults?: { thresholds?: { steps?: { value: number | null }[] } } } }
    | undefined;
  const steps = panel?.fieldConfig?.defaults?.thresholds?.steps;
  if (!steps) throw new Error(`no panel "${title}" with threshold steps`);
  return steps.flatMap((step) => (step.value === null ? [] : [step.value]));
}

describe('one table of thresholds', () => {
  it('CoderPostgresConnectionsHigh fires at the warning and critical utilization of the table', () => {
    expect(comparedWith('CoderPostgresConnectionsHigh', 'warning')).toBe(thresholds.utilizationWarning);
    expect(comparedWith('CoderPostgresConnectionsHigh', 'critical')).toBe(thresholds.utilizationCritical);
  });

  it('CoderPostgresLatencyHigh fires at the round trip of the table', () => {
    expect(comparedWith('CoderPostgresLatencyHigh')).toBe(thresholds.roundTripSeconds);
  });

  it('CoderPostgresIdleInTransaction fires at the age of the table, the same as the finding', () => {
    expect(comparedWith('CoderPostgresIdleInTransaction')).toBe(thresholds.idleInTransactionSeconds);
  });

  it('CoderPostgresNotifyQueueFilling warns and pages at the queue usage of the table', () => {
    expect(comparedWith('CoderPostgresNotifyQueueFilling', 'warning')).toBe(thresholds.notifyQueueWarning);
    expect(comparedWith('CoderPostgresNotifyQueueFilling', 'critical')).toBe(thresholds.notifyQueueCritical);
  });

  it('CoderDatabasePoolChurn fires at the closes a second of the table', () => {
    expect(comparedWith('CoderDatabasePoolChurn')).toBe(thresholds.poolChurnClosesPerSecond);
  });

  it("the dashboard's utilization and latency colours change at the same numbers", () => {
    expect(panelSteps('Utilization')).toEqual([thresholds.utilizationWarning, thresholds.utilizationCritical]);
    expect(panelSteps('Poll round trip')).toEqual([thresholds.roundTripSeconds]);
  });
});
