// The metric contract is the one list of families: the exposition registers exactly those,
// docs/metrics.md documents each, and every alert and dashboard query names only those.

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { alertRules, ruleGroups } from '../../alerts/rule-file.js';
import { familiesIn } from '../../alerts/promql.js';
import { metricFamilies, metricName, type FamilyName } from '../../src/contract/metrics.js';
import { createMetrics } from '../../src/exposition/metrics.js';

const families = Object.keys(metricFamilies) as FamilyName[];
const docs = await readFile(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
const runbooks = await readFile(new URL('../../docs/runbooks.md', import.meta.url), 'utf8');

describe('the metric contract', () => {
  it('is exactly what the exposition registers: no family without a declaration, none declared and never exposed', () => {
    const registered = createMetrics(() => null, 'test')
      .registry.getMetricsAsArray()
      .map((metric) => metric.name)
      .sort();
    expect(registered).toEqual(families.map(metricName).sort());
  });

  it('has every family documented in docs/metrics.md with its type and help', () => {
    for (const family of families) {
      expect(docs, family).toContain(`| \`${metricName(family)}\` | ${metricFamilies[family].type} |`);
    }
  });

  it('is the only source of the names the alert rules read', () => {
    for (const group of ruleGroups) {
      for (const rule of group.rules) {
        const named = [...rule.expr.matchAll(/coder_pg_capacity_\w+/g)].map((match) => match[0].replace(/_(bucket|count|sum)$/, ''));
        const known = familiesIn(rule.expr).map(metricName);
        expect(named.filter((name) => !known.includes(name)), 'record' in rule ? rule.record : rule.alert).toEqual([]);
      }
    }
  });

  it('gives every alert a section in docs/runbooks.md and a row in its table', () => {
    for (const { alert } of alertRules) {
      expect(runbooks, alert).toMatch(new RegExp(`^#+ ${alert}$`, 'm'));
      expect(runbooks, alert).toContain(`| [${alert}](#${alert.toLowerCase()}) |`);
    }
  });
});
