// npm run generate: writes every file that repeats the contract (src/contract/metrics.ts,
// src/model/thresholds.ts, src/config/settings.ts, alerts/rules/*.ts, grafana/): the rule
// file, the dashboard, the deploy/ manifests and the tables in docs/.
//
//   npm run generate                   writes what differs
//   npm run generate -- --check        writes nothing; exits 1 naming each file that differs
//   npm run generate -- --check --root DIR
//        compares the generated files under DIR instead (a copy of the tree; for the tests)
//   npm run generate -- --runbook-url-base URL --rules-out FILE
//        a plain Prometheus rule file with its runbook links on URL (FILE - is stdout)
//   npm run generate -- --runbook-url-base URL --prometheusrule-out FILE
//        the PrometheusRule with that base, e.g. into your kustomize overlay
//
// URL ends with '#', e.g. https://github.com/you/coder-pg-capacity/blob/main/docs/runbooks.md#

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RULES_FILE, ruleFileText } from '../alerts/rule-file.js';
import { dashboardJson } from '../grafana/dashboard.js';
import { docsTables, withTables } from './docs-tables.js';
import { manifestFiles, prometheusRule } from './manifests.js';
import { DEFAULT_RUNBOOK_URL_BASE, checkRunbookUrlBase } from './runbook-urls.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DASHBOARD_FILE = 'grafana/coder-pg-capacity.json';

const usage = 'usage: npm run generate -- [--check [--root DIR]] [--runbook-url-base URL (--rules-out FILE | --prometheusrule-out FILE)]';

interface Options {
  check: boolean;
  root: string;
  runbookUrlBase: string | undefined;
  rulesOut: string | undefined;
  prometheusRuleOut: string | undefined;
}

/** --flag, --flag value and --flag=value; anything else is an error. */
function parseArgs(args: string[]): Options {
  const options: Options = { check: false, root: repo, runbookUrlBase: undefined, rulesOut: undefined, prometheusRuleOut: undefined };
  const valued = { '--runbook-url-base': 'runbookUrlBase', '--rules-out': 'rulesOut', '--prometheusrule-out': 'prometheusRuleOut', '--root': 'root' } as const;
  for (let i = 0; i < args.length; i++) {
    const [flag = '', inline] = (args[i] ?? '').split(/=(.*)/s, 2);
    if (flag === '--check' && inline === undefined) {
      options.check = true;
    } else if (flag in valued) {
      const value = inline ?? args[++i];
      if (value === undefined || value === '') throw new Error(`${flag} needs a value\n${usage}`);
      options[valued[flag as keyof typeof valued]] = value;
    } else {
      throw new Error(`unknown argument ${args[i]}\n${usage}`);
    }
  }
  if (options.runbookUrlBase !== undefined) checkRunbookUrlBase(options.runbookUrlBase);
  if (options.check && (options.runbookUrlBase !== undefined || options.rulesOut || options.prometheusRuleOut)) {
    throw new Error('--check compares the committed files, which use the default runbook base: give it alone');
  }
  return options;
}

const read = (root: string, relative: string) => readFile(path.join(root, relative), 'utf8').catch(() => null);

/** Every generated file and the text the contract gives it; the docs pages' prose is read from `root`. */
async function generatedFiles(root: string): Promise<Map<string, string>> {
  const rules = ruleFileText(DEFAULT_RUNBOOK_URL_BASE);
  const dashboard = dashboardJson();
  const files = new Map([[RULES_FILE, rules], [DASHBOARD_FILE, dashboard]]);
  for (const [file, text] of await manifestFiles(rules, dashboard, DEFAULT_RUNBOOK_URL_BASE)) files.set(file, text);
  for (const [file, tables] of Object.entries(docsTables)) {
    const page = await read(root, file);
    if (page === null) throw new Error(`cannot read ${file}, whose tables are generated`);
    files.set(file, withTables(file, page, tables));
  }
  return files;
}

async function writeOut(file: string, content: string): Promise<void> {
  if (file === '-') {
    process.stdout.write(content);
  } else {
    await writeFile(file, content);
    process.stderr.write(`wrote ${file}\n`);
  }
}

async function main(args: string[]): Promise<number> {
  const { check, root, runbookUrlBase, rulesOut, prometheusRuleOut } = parseArgs(args);
  if (rulesOut || prometheusRuleOut) {
    const base = runbookUrlBase ?? DEFAULT_RUNBOOK_URL_BASE;
    const rules = ruleFileText(base);
    if (rulesOut) await writeOut(rulesOut, rules);
    if (prometheusRuleOut) await writeOut(prometheusRuleOut, prometheusRule(rules, base));
    return 0;
  }
  if (runbookUrlBase !== undefined) throw new Error(`--runbook-url-base needs --rules-out or --prometheusrule-out: the committed files keep the default base\n${usage}`);
  const stale: string[] = [];
  for (const [relative, content] of await generatedFiles(root)) {
    if ((await read(root, relative)) === content) continue;
    if (check) {
      stale.push(relative);
    } else {
      await writeFile(path.join(root, relative), content);
      process.stdout.write(`wrote ${relative}\n`);
    }
  }
  if (stale.length > 0) {
    process.stderr.write(`generated files differ from the contract (edited by hand, or not regenerated): run npm run generate and commit the result:\n${stale.map((file) => `  ${file}\n`).join('')}`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`generate: ${error.message}\n`);
    process.exit(1);
  },
);
