// The one table a run prints (Markdown, readable in a terminal too), and the results part
// of docs/performance.md: `--write` replaces the text between its two results markers and
// leaves the prose around them (what each figure means) as it is.

import { readFile, writeFile } from 'node:fs/promises';

function number(value, decimals) {
  return value.toLocaleString('en', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Two or three significant figures for measured values: the noise is larger than that. */
function significant(value) {
  const magnitude = Math.abs(value);
  if (magnitude === 0) return '0';
  if (magnitude < 1) return number(value, 3);
  if (magnitude < 10) return number(value, 2);
  if (magnitude < 100) return number(value, 1);
  return number(value, 0);
}

export function formatValue(value, unit) {
  if (value === null || value === undefined) return '';
  switch (unit) {
    case 'bytes':
      return value >= 1000 ? `${significant(value / 1000)} kB` : `${number(value, 0)} B`;
    case 'count':
      return Number.isInteger(value) ? number(value, 0) : number(value, 2);
    case 'req/s':
      return `${number(value, 0)} req/s`;
    case 'MB/s':
      return `${number(value, 0)} MB/s`;
    default:
      return `${significant(value)} ${unit}`;
  }
}

function ratio(ours, reference) {
  if (ours === null || reference === null || reference === undefined || reference === 0) return '';
  const r = ours / reference;
  return `${r < 0.1 ? number(r, 3) : r < 10 ? number(r, 2) : number(r, 0)}×`;
}

/** rows: { case, figure, unit, ours, reference, referenceName, target?: { text, met } } */
export function renderTable(rows) {
  const lines = ['| case | figure | ours | reference | ours ÷ ref. | target | |', '| --- | --- | ---: | --- | ---: | --- | --- |'];
  for (const row of rows) {
    const reference = row.reference === null || row.reference === undefined ? '' : `${formatValue(row.reference, row.unit)} (${row.referenceName})`;
    const verdict = row.target ? (row.target.met ? 'met' : '**missed**') : '';
    lines.push(`| ${row.case} | ${row.figure} | ${formatValue(row.ours, row.unit)} | ${reference} | ${ratio(row.ours, row.reference)} | ${row.target?.text ?? ''} | ${verdict} |`);
  }
  return lines.join('\n');
}

export function renderMachine(machine) {
  return [
    `- CPU: ${machine.cpu}, ${machine.cores} cores; ${machine.memoryGb} GB RAM; load average ${machine.loadBefore} before the run, ${machine.loadAfter} after`,
    `- Node.js ${machine.node}; PostgreSQL ${machine.postgres}; postgres_exporter ${machine.exporter}`,
    `- ${machine.date}, ${machine.seconds} s for the whole run${machine.quick ? ' (--quick: reduced sizes, not the reference figures)' : ''}`,
  ].join('\n');
}

export const RESULTS_START = '<!-- bench:results start -->';
export const RESULTS_END = '<!-- bench:results end -->';

/** What goes between the markers: the machine, the table, the notes. */
export function renderResults({ table, machine, notes }) {
  const parts = [renderMachine(machine), table];
  if (notes.length > 0) parts.push(notes.map((note) => `- ${note}`).join('\n'));
  return parts.join('\n\n');
}

/** `page` with the text between its results markers replaced by `results`; throws naming `path` when the markers are missing. */
export function replaceResults(page, results, path) {
  const start = page.indexOf(RESULTS_START);
  const end = page.indexOf(RESULTS_END);
  if (start === -1 || end === -1 || end < start || page.indexOf(RESULTS_START, start + 1) !== -1) {
    throw new Error(`${path} needs one "${RESULTS_START}" line and, after it, one "${RESULTS_END}" line: the results are written between them`);
  }
  return `${page.slice(0, start + RESULTS_START.length)}\n\n${results}\n\n${page.slice(end)}`;
}

/** Writes the results into `path` (docs/performance.md) between its markers. */
export async function writeResults(path, { table, machine, notes }) {
  const page = await readFile(path, 'utf8');
  await writeFile(path, replaceResults(page, renderResults({ table, machine, notes }), path));
}
