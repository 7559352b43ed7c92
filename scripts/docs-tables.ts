// The tables of docs/ that repeat the contract: metric families, alerts, thresholds and
// settings. Each is written between `<!-- generated:NAME start -->` and
// `<!-- generated:NAME end -->` in its page; the prose around it is hand-written.

import { alertRules } from '../alerts/rule-file.js';
import { metricFamilies, metricName, metricSections, type FamilyName } from '../src/contract/metrics.js';
import { settingsRows } from '../src/config/settings.js';
import { thresholdTable } from '../src/model/thresholds.js';

/** A Markdown table; `|` in a cell is escaped, line breaks become spaces. */
function table(head: string[], rows: string[][]): string {
  const cell = (text: string) => text.replaceAll('|', '\\|').replace(/\s*\n\s*/g, ' ');
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const code = (text: string) => `\`${text}\``;

export function metricsTable(): string {
  const families = Object.entries(metricFamilies) as [FamilyName, (typeof metricFamilies)[FamilyName]][];
  return Object.entries(metricSections)
    .map(([section, title]) => {
      const rows = families
        .filter(([, family]) => family.section === section)
        .map(([name, family]) => [code(metricName(name)), family.type, family.labels.map(code).join(', '), family.help]);
      return `### ${title}\n\n${table(['metric', 'type', 'labels', 'meaning'], rows)}`;
    })
    .join('\n\n');
}

export function alertsTable(): string {
  const rows = alertRules.map((rule) => {
    const anchor = rule.runbookAnchor?.includes('{{') ? rule.alert.toLowerCase() : (rule.runbookAnchor ?? rule.alert.toLowerCase());
    return [`[${rule.alert}](#${anchor})`, rule.severity, rule.for, rule.summary.replace(/\{\{.*?\}\}/g, '…')];
  });
  return table(['alert', 'severity', 'for', 'what it says'], rows);
}

export function thresholdsTable(): string {
  const rows = Object.entries(thresholdTable).map(([name, threshold]) => [threshold.shown, threshold.meaning, threshold.usedBy, code(name)]);
  return `${table(['value', 'meaning', 'used by', 'name in src/model/thresholds.ts'], rows)}\n\nTo change one, edit src/model/thresholds.ts and run \`npm run generate\`: the rules, the dashboard's colours, the findings and this table follow.`;
}

export function settingsTable(): string {
  const rows = settingsRows().map((row) => [code(`--${row.flag}`), row.env.map(code).join(', '), row.defaultText === '' ? '' : code(row.defaultText), row.help]);
  return table(['flag', 'environment', 'default', 'meaning'], rows);
}

/** Each page and the tables it carries, by marker name. */
export const docsTables: Record<string, Record<string, () => string>> = {
  'docs/metrics.md': { metrics: metricsTable },
  'docs/runbooks.md': { alerts: alertsTable, thresholds: thresholdsTable },
  'docs/configuration.md': { settings: settingsTable },
};

/** `page` with each marked table replaced; throws naming the page and the marker when one is missing. */
export function withTables(file: string, page: string, tables: Record<string, () => string>): string {
  let text = page;
  for (const [name, render] of Object.entries(tables)) {
    const start = `<!-- generated:${name} start -->`;
    const end = `<!-- generated:${name} end -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${file}: no ${start} ... ${end} pair for the ${name} table; put both lines where the table goes`);
    text = `${text.slice(0, from + start.length)}\n${render()}\n${text.slice(to)}`;
  }
  return text;
}
