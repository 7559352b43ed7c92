// Evaluates an alert's own expression with Prometheus' engine (promtool) over the figures a
// daemon exposed, so "the alert's condition holds" is decided by Prometheus, not by a
// re-implementation of it.

import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { ensureDebianPackages } from './prometheus-stack.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The `expr` of an alert in alerts/coder-pg-capacity.rules.yml. */
export async function alertExpression(alert: string): Promise<string> {
  const rules = parse(await readFile(path.join(repoRoot, 'alerts/coder-pg-capacity.rules.yml'), 'utf8')) as { groups: { rules: { alert?: string; expr: string }[] }[] };
  const rule = rules.groups.flatMap((group) => group.rules).find((r) => r.alert === alert);
  if (!rule) throw new Error(`no alert ${alert} in alerts/coder-pg-capacity.rules.yml`);
  return rule.expr.trim();
}

/**
 * Whether `expr` returns at least one series when the samples (keyed `name{labels}`, as
 * test/support/daemon.ts scrapes them) have held for five minutes, scraped with `labels`.
 */
export async function expressionHolds(expr: string, samples: Map<string, number>, labels: Record<string, string>): Promise<{ holds: boolean; output: string }> {
  ensureDebianPackages(['prometheus']);
  const used = new Set(expr.match(/coder_pg_capacity_[a-z_]+/g) ?? []);
  const extra = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  const inputSeries = [...samples]
    .filter(([key, value]) => used.has(key.replace(/\{.*$/, '')) && Number.isFinite(value))
    .map(([key, value]) => ({
      series: key.includes('{') ? key.replace('{', `{${extra},`) : `${key}{${extra}}`,
      values: `${value}x10`,
    }));
  const dir = await mkdtemp(path.join(tmpdir(), 'promql-'));
  try {
    await writeFile(path.join(dir, 'empty.rules.yml'), 'groups: []\n');
    const test = {
      rule_files: ['empty.rules.yml'],
      evaluation_interval: '1m',
      tests: [{ interval: '30s', input_series: inputSeries, promql_expr_test: [{ expr: `count((${expr}))`, eval_time: '5m', exp_samples: [{ labels: '{}', value: 1 }] }] }],
    };
    await writeFile(path.join(dir, 'test.yml'), stringify(test));
    const result = spawnSync('promtool', ['test', 'rules', 'test.yml'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    return { holds: result.status === 0, output: `${result.stdout}${result.stderr}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
