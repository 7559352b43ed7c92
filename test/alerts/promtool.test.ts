// The alert rules are proven with Prometheus' own promtool: the file is valid, each alert
// fires and stays quiet as alerts/tests/*.yml say, and each carries what an operator
// needs at 3 a.m. (severity, summary, description, a runbook section that exists).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { blindReasons } from '../../src/model/blind.js';
import { DEFAULT_RUNBOOK_URL_BASE } from '../../scripts/runbook-urls.mjs';
import { runGenerate } from '../support/generate.js';
import { ensureDebianPackages } from '../support/prometheus-stack.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const ruleFile = 'alerts/coder-pg-capacity.rules.yml';
const testDir = 'alerts/tests';
const runbooks = 'docs/runbooks.md';
// The one setting of scripts/runbook-urls.mjs: the monitor's own /runbooks page.
const runbookBase = DEFAULT_RUNBOOK_URL_BASE;
/** The one alert whose runbook_url picks a subsection by label: one per blind reason. */
const perReasonAnchor = '{{ $labels.reason }}';

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
  tests: { name?: string; alert_rule_test?: { alertname: string; exp_alerts?: { exp_labels?: Record<string, string> }[] }[] }[];
}

function readYaml<T>(relativePath: string): T {
  return parse(readFileSync(path.resolve(repoRoot, relativePath), 'utf8')) as T;
}

function alertRules(file = ruleFile): Rule[] {
  return readYaml<RuleFile>(file).groups.flatMap((group) => group.rules.filter((rule) => rule.alert));
}

/** The anchors a runbook_url can land on: a templated reason expands to every blind reason. */
function anchorsOf(url: string, base: string): string[] {
  const anchor = url.slice(base.length);
  return anchor.includes(perReasonAnchor) ? blindReasons.map((reason) => anchor.replace(perReasonAnchor, reason)) : [anchor];
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

describe('runbook links on another base (npm run generate -- --runbook-url-base)', () => {
  const base = 'https://runbooks.example.com/coder/pg-capacity#';

  it('writes a plain rule file whose every runbook_url starts with the base and lands on a heading; promtool accepts it', () => {
    requirePromtool();
    const dir = mkdtempSync(path.join(tmpdir(), 'runbook-base-'));
    try {
      const out = path.join(dir, 'rules.yml');
      const generator = runGenerate(['--runbook-url-base', base, '--rules-out', out]);
      expect(generator.status, generator.stderr).toBe(0);
      const rewritten = alertRules(out);
      expect(rewritten.map((rule) => rule.alert)).toEqual(alertRules().map((rule) => rule.alert));
      const anchors = runbookAnchors();
      for (const rule of rewritten) {
        const url = rule.annotations?.runbook_url ?? '';
        expect(url.startsWith(base), `alert ${rule.alert}: ${url}`).toBe(true);
        for (const anchor of anchorsOf(url, base)) expect(anchors.has(anchor), `alert ${rule.alert}: #${anchor}`).toBe(true);
      }
      // Nothing else changed: the same text once the base is put back.
      expect(readFileSync(out, 'utf8').split(base).join(runbookBase)).toContain(readFileSync(path.join(repoRoot, ruleFile), 'utf8'));
      const check = promtool(['check', 'rules', out]);
      expect(check.status, check.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes a PrometheusRule with the base, and refuses a base that is not an absolute URL ending in #', () => {
    const rule = runGenerate([`--runbook-url-base=${base}`, '--prometheusrule-out', '-']);
    expect(rule.status, rule.stderr).toBe(0);
    const object = parse(rule.stdout) as { kind: string; spec: RuleFile };
    expect(object.kind).toBe('PrometheusRule');
    const urls = object.spec.groups.flatMap((group) => group.rules.filter((r) => r.alert).map((r) => r.annotations?.runbook_url ?? ''));
    expect(urls.length).toBe(alertRules().length);
    for (const url of urls) expect(url.startsWith(base), url).toBe(true);

    for (const bad of ['runbooks.example.com#', 'https://runbooks.example.com/runbooks', 'ftp://x/runbooks#']) {
      const refused = runGenerate(['--runbook-url-base', bad, '--rules-out', '-']);
      expect(refused.status, bad).toBe(1);
      expect(refused.stderr, bad).toMatch(/--runbook-url-base/);
    }
  });
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
      expect(rule.annotations?.runbook_url, `${where}: runbook_url`).toMatch(/^https?:\/\/[^\s#]+#\S/);
    }
  });

  it("every runbook_url is the configured base plus its alert's own heading in docs/runbooks.md", () => {
    const anchors = runbookAnchors();
    for (const rule of rules) {
      const url = rule.annotations?.runbook_url ?? '';
      expect(url.startsWith(runbookBase), `alert ${rule.alert}: ${url} does not start with ${runbookBase}`).toBe(true);
      for (const anchor of anchorsOf(url, runbookBase)) {
        expect(anchors.has(anchor), `alert ${rule.alert}: no heading for #${anchor} in ${runbooks}`).toBe(true);
        // The alert's own section, or a subsection named after it (per blind reason).
        expect(anchor === githubAnchor(rule.alert!) || anchor.startsWith(`${githubAnchor(rule.alert!)}-`), `alert ${rule.alert}: #${anchor}`).toBe(true);
      }
    }
    // The per-reason alert's parent section exists too, for a reason added later.
    expect(anchors.has('coderpostgrescapacityblind')).toBe(true);
  });

  it('every blind reason of the daemon has a promtool case where CoderPostgresCapacityBlind fires for it', () => {
    const fired = new Set<string>();
    for (const file of promtoolTestFiles()) {
      for (const group of readYaml<PromtoolTestFile>(file).tests) {
        for (const check of group.alert_rule_test ?? []) {
          if (check.alertname !== 'CoderPostgresCapacityBlind') continue;
          for (const alert of check.exp_alerts ?? []) if (alert.exp_labels?.reason) fired.add(alert.exp_labels.reason);
        }
      }
    }
    expect([...fired].sort()).toEqual([...blindReasons].sort());
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
