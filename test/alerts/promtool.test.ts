// The alert rules are proven with Prometheus' own promtool: the file is valid, each alert
// fires and stays quiet as alerts/tests/*.yml say, and each carries what an operator
// needs at 3 a.m. (severity, summary, description, a runbook section that exists).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ensureDebianPackages } from '../support/prometheus-stack.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const ruleFile = 'alerts/coder-pg-capacity.rules.yml';
const testDir = 'alerts/tests';
const runbooks = 'docs/runbooks.md';
const runbookBase = 'https://github.com/coder-pg-capacity/coder-pg-capacity/blob/main/docs/runbooks.md#';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface PromtoolTestFile {
  rule_files: string[];
  tests: { name?: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

function readYaml<T>(relativePath: string): T {
  return parse(readFileSync(path.join(repoRoot, relativePath), 'utf8')) as T;
}

function alertRules(): Rule[] {
  return readYaml<RuleFile>(ruleFile).groups.flatMap((group) => group.rules.filter((rule) => rule.alert));
}

function promtoolTestFiles(): string[] {
  return readdirSync(path.join(repoRoot, testDir))
    .filter((name) => name.endsWith('.yml') || name.endsWith('.yaml'))
    .sort()
    .map((name) => path.join(testDir, name));
}

function promtool(args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  const output = [`$ promtool ${args.join(' ')}`, result.stdout, result.stderr, result.error ? String(result.error) : '']
    .filter(Boolean)
    .join('\n');
  return { status: result.status, output };
}

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to '-'. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function runbookAnchors(): Set<string> {
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of readFileSync(path.join(repoRoot, runbooks), 'utf8').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = !inFence && /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) anchors.add(githubAnchor(heading[1]!));
  }
  return anchors;
}

// Missing promtool fails every test below with the package to install: never a skip.
let toolError: Error | undefined;
beforeAll(() => {
  try {
    ensureDebianPackages(['prometheus']);
  } catch (err) {
    toolError = err as Error;
  }
}, 15 * 60_000);

function requirePromtool(): void {
  if (toolError) throw toolError;
}

describe('alert rules under promtool', () => {
  it('promtool check rules finds the rule file clean', () => {
    requirePromtool();
    const result = promtool(['check', 'rules', ruleFile]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('promtool test rules passes every case in alerts/tests', () => {
    requirePromtool();
    const files = promtoolTestFiles();
    expect(files.length).toBeGreaterThan(0);
    const result = promtool(['test', 'rules', ...files]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).not.toMatch(/FAILED/);
  }, 120_000);
});

describe('alert rules as an operator reads them', () => {
  const rules = alertRules();

  it('every alert has a severity, a summary, a description and a runbook_url', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const where = `alert ${rule.alert}`;
      expect(['critical', 'warning', 'info'], where).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary?.trim(), `${where}: summary`).toBeTruthy();
      expect(rule.annotations?.description?.trim(), `${where}: description`).toBeTruthy();
      expect(rule.annotations?.runbook_url, `${where}: runbook_url`).toMatch(/^https:\/\/\S+#\S+$/);
    }
  });

  it("every runbook_url points at its alert's own heading in docs/runbooks.md", () => {
    const anchors = runbookAnchors();
    for (const rule of rules) {
      const url = rule.annotations?.runbook_url ?? '';
      expect(url.startsWith(runbookBase), `alert ${rule.alert}: ${url}`).toBe(true);
      const anchor = url.slice(runbookBase.length);
      expect(anchors.has(anchor), `alert ${rule.alert}: no heading for #${anchor} in ${runbooks}`).toBe(true);
      expect(anchor, `alert ${rule.alert}`).toBe(githubAnchor(rule.alert!));
    }
  });

  it('every link inside docs/runbooks.md to a section of it resolves', () => {
    const anchors = runbookAnchors();
    const text = readFileSync(path.join(repoRoot, runbooks), 'utf8');
    const links = [...text.matchAll(/\]\(#([^)\s]+)\)/g)].map((match) => match[1]!);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(anchors.has(link), `#${link}`).toBe(true);
  });

  it('every alert aggregates away the monitor instance, so several monitors give one alert', () => {
    for (const rule of rules) {
      const expr = rule.expr.replace(/\s+/g, ' ');
      const dedupedOrAbsent = /(min|max) without \(instance, pod\)/.test(expr) || /^absent\(/.test(expr);
      expect(dedupedOrAbsent, `alert ${rule.alert}: ${expr}`).toBe(true);
    }
  });

  it('every alert has a promtool case where it fires and one where it stays quiet', () => {
    const fires = new Set<string>();
    const quiet = new Set<string>();
    for (const file of promtoolTestFiles()) {
      const tests = readYaml<PromtoolTestFile>(file);
      expect(tests.rule_files, file).toContain('../coder-pg-capacity.rules.yml');
      for (const group of tests.tests) {
        for (const check of group.alert_rule_test ?? []) {
          ((check.exp_alerts ?? []).length > 0 ? fires : quiet).add(check.alertname);
        }
      }
    }
    for (const name of new Set(rules.map((rule) => rule.alert!))) {
      expect(fires.has(name), `${name} never fires in ${testDir}`).toBe(true);
      expect(quiet.has(name), `${name} has no near miss in ${testDir}`).toBe(true);
    }
  });
});
