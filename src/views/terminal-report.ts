// The report `check` prints in a terminal: the verdict, the plan it judged, the
// connection facts an admin would otherwise collect by hand, the figures, the replicas
// and the findings, as aligned plain text (no colour: it goes to CI logs as often as
// to a terminal).

import type { PostgresFacts, Snapshot } from '../model/snapshot.js';
import type { PollResult } from '../model/poll-result.js';
import { redactUrl } from '../redact.js';
import { figureRows } from './figures.js';
import type { Assessment } from '../model/verdict.js';
import type { MaxConnectionsFit } from '../model/max-connections-fit.js';
import { formatCount, formatPercent, plural } from '../model/wording.js';
import { otherBudgetRows } from './other-budget-rows.js';
import { coderTableRows, plannedOnly, replicaRows } from './replica-rows.js';
import { poolerFigureRows, poolerInstanceRows } from './pooler-rows.js';

export interface TerminalReportInput {
  /** The poll, with the plan applied (what `check` judged). */
  result: PollResult;
  assessment: Assessment;
  exitCode: 0 | 1 | 2;
  /** The snapshot as polled, before a what-if pool max replaced the replicas'. */
  scraped: Snapshot;
  /** --coder.pool-max from the command line: every replica judged at it. */
  whatIfPoolMax: number | null;
  /** --postgres.max-connections: the fleet judged on a server of this size, and the size polled. */
  whatIfMaxConnections?: number | null;
  polledMaxConnections?: number | null;
  /** --pgbouncer.pool-size: Coder's PgBouncer pool judged at this pool_size on every instance. */
  whatIfPgbouncerPoolSize?: number | null;
  width?: number;
}

const exitMeaning = { 0: 'fits', 1: 'fits, with a warning', 2: 'does not fit, or the monitor cannot judge' } as const;

/**
 * Words wrapped so that each line, indented by `indent`, stays within `width`. The first
 * line comes without the indent: the caller writes it (or a label of the same width).
 */
export function wrap(text: string, width: number, indent: string): string {
  const room = Math.max(20, width - indent.length);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join(`\n${indent}`);
}

/** Rows of cells as columns padded to the widest cell; `right` lists right-aligned columns. */
export function alignColumns(rows: string[][], right: number[] = [], indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      (indent + row.map((cell, i) => (i === row.length - 1 && !right.includes(i) ? cell : right.includes(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ')).trimEnd(),
    )
    .join('\n');
}

function yesNo(value: boolean, yes: string, no: string): string {
  return value ? yes : no;
}

function connectionFacts(pg: PostgresFacts, roundTripSeconds: number | null): string[][] {
  const { session } = pg;
  const monitorReserved =
    session.superuser ? 'may use the superuser slots' : pg.coderRole && pg.coderRole.name === session.user ? yesNo(pg.coderRole.canUseReservedConnections, 'can use reserved connections', 'cannot use reserved connections') : null;
  const monitor = [
    session.user,
    yesNo(session.superuser, 'superuser', 'not a superuser'),
    ...(monitorReserved ? [monitorReserved] : []),
    yesNo(pg.privilegesSufficient, 'privileges sufficient (pg_read_all_stats)', 'privileges insufficient (no pg_read_all_stats)'),
  ];
  const role = pg.coderRole;
  const coder = role
    ? [
        role.name,
        yesNo(role.superuser, 'SUPERUSER', 'not a superuser'),
        yesNo(role.canUseReservedConnections, 'can use reserved connections', 'cannot use reserved connections'),
        role.connectionLimit < 0 ? 'no connection limit' : `connection limit ${role.connectionLimit}`,
      ]
    : ['(role not found: check --coder.role)'];
  const database = pg.coderDatabase;
  const provider = pg.providerReservedSource === 'none' ? '' : ` (${pg.providerReservedSource})`;
  return [
    ['server', `PostgreSQL ${pg.serverVersion}, port ${session.port ?? 'unknown'}`],
    ['current database', session.database],
    ['current user', monitor.join(', ')],
    ["Coder's role", coder.join(', ')],
    ["Coder's database", database ? `${database.name}, ${database.connectionLimit < 0 ? 'no connection limit' : `connection limit ${database.connectionLimit}`}` : '(not found: check --coder.database)'],
    ['max_connections', String(pg.maxConnections)],
    ['reserved slots', `${pg.superuserReservedConnections} superuser_reserved_connections, ${pg.reservedConnections} reserved_connections, ${pg.providerReservedConnections} provider${provider}`],
    ['round trip', roundTripSeconds === null ? 'n/a' : `${(roundTripSeconds * 1000).toFixed(1)} ms (the poll statement, first on its connection)`],
  ];
}

function planSection(input: TerminalReportInput): string[] {
  const { result, whatIfPoolMax, assessment } = input;
  const whatIfMaxConnections = input.whatIfMaxConnections ?? null;
  const capacity = result.capacity;
  if (!capacity) return [];
  const { observed, planned } = capacity.replicas;
  const replicas = planned === observed ? `${plural(planned, 'replica')} (observed)` : `${plural(planned, 'replica')} (${observed} observed, ${planned - observed} more planned)`;
  const poolMax = whatIfPoolMax !== null ? `every one at pool max ${whatIfPoolMax} (--coder.pool-max)` : `largest pool max ${formatCount(capacity.largestPoolMax === 0 ? Infinity : capacity.largestPoolMax)}`;
  const margin = formatPercent(result.snapshot.plan.safetyMargin);
  const server =
    whatIfMaxConnections === null ? '' : `, on max_connections ${whatIfMaxConnections} (the server has ${input.polledMaxConnections ?? 'unknown'})`;
  const fit = maxConnectionsRow(result.snapshot.postgres?.maxConnections ?? null, capacity.fittingMaxConnections, margin);
  return [
    whatIfPoolMax !== null || whatIfMaxConnections !== null ? 'Plan (what-if)' : 'Plan',
    alignColumns([
      ['judged', `${replicas}, ${poolMax}${server}`],
      ['answer', assessment.verdict],
      ['largest pool max', `${formatCount(capacity.recommendedPoolMax)} for ${plural(planned, 'replica')} (fits a rollout with ${margin} spare)`],
      ['replicas that fit', `${formatCount(capacity.maxSafeReplicas)} at pool max ${capacity.largestPoolMax === 0 ? 'unbounded' : capacity.largestPoolMax} (steady, ${margin} spare)`],
      ...(fit ? [['max_connections', fit]] : []),
    ]),
    '',
  ];
}

/** Which max_connections fits, said against the one judged: the resize answer. */
function maxConnectionsRow(judged: number | null, fit: MaxConnectionsFit | null, margin: string): string | null {
  if (judged === null || fit === null) return null;
  if (judged >= fit.margin) return `${judged} fits; ${fit.rollout} would fit a rollout, ${fit.margin} with ${margin} spare`;
  if (judged >= fit.rollout) return `${judged} fits a rollout, not the ${margin} margin: ${fit.margin} keeps it`;
  return `${judged} is too small: ${fit.rollout} fits a rollout, ${fit.margin} keeps ${margin} spare`;
}

/** The PgBouncer layer: its figures, then one line per instance. */
function poolerSection(input: TerminalReportInput): string[] {
  const { result } = input;
  if (!result.snapshot.pooler) return [];
  const whatIf = input.whatIfPgbouncerPoolSize ?? null;
  const out = [whatIf === null ? 'PgBouncer' : `PgBouncer (what-if: pool_size ${whatIf} on every instance, --pgbouncer.pool-size)`];
  if (result.capacity) out.push(alignColumns(poolerFigureRows(result.capacity).map((row) => [row.label, row.value, row.meaning]), [1]));
  const instances = poolerInstanceRows(result.snapshot, result.capacity);
  out.push(
    alignColumns(
      [
        ['INSTANCE', 'UP', "CODER'S POOL", 'MODE', 'POOL_SIZE', 'RESERVE', 'CAP', 'MAX_CLIENT_CONN', 'CLIENTS', 'WAITING'],
        ...instances.map((row) => [row.instance, row.up ? 'up' : 'DOWN', row.pool, row.modeBad ? row.mode.toUpperCase() : row.mode, row.poolSize, row.reserve, row.cap, row.maxClientConn, row.clients, row.waiting]),
      ],
      [4, 5, 6, 7, 8, 9],
    ),
  );
  for (const error of result.snapshot.pooler.discoveryErrors) out.push(`  ${error.message}`);
  out.push('');
  return out;
}

export function renderTerminalReport(input: TerminalReportInput): string {
  const { result, assessment } = input;
  const width = input.width ?? 100;
  const out: string[] = [];
  out.push(`${assessment.verdict}`, '');
  out.push(`  ${wrap(assessment.summary, width, '  ')}`);
  if (assessment.fix) out.push(`  ${wrap(`Fix: ${assessment.fix}`, width, '  ')}`);
  out.push('');
  out.push(...planSection(input));

  const pg = result.snapshot.postgres;
  if (pg) {
    // The server as polled: a what-if size (--postgres.max-connections) is in the plan and the figures.
    out.push('PostgreSQL', alignColumns(connectionFacts(input.scraped.postgres ?? pg, result.roundTripSeconds)), '');
  }
  if (pg && result.capacity) {
    const rows = figureRows({ ...result.snapshot, postgres: pg }, result.capacity, { poolMaxPlanned: input.whatIfPoolMax !== null });
    out.push('Figures', alignColumns(rows.map((row) => [row.label, row.value, row.meaning]), [1]), '');
  }
  out.push(...poolerSection(input));

  const replicas = replicaRows(input.scraped, result.capacity);
  const planned = plannedOnly(result.snapshot, result.capacity);
  out.push('Coder replicas');
  if (replicas.length === 0 && !planned) {
    out.push('  none configured (--coder.targets)');
  } else {
    out.push(
      alignColumns(
        [
          ['REPLICA', 'UP', 'POOL MAX', 'OPEN', 'IN USE', 'IDLE', 'WAITS', 'BACKENDS', 'OUTSIDE POOL', 'BUDGETED EXTRA'],
          ...replicas.map((row) => [
            row.hostname ? `${row.hostname} (${redactUrl(row.replica)})` : redactUrl(row.replica),
            row.up ? 'up' : 'DOWN',
            row.poolMax,
            row.open,
            row.inUse,
            row.idle,
            row.waits,
            row.backends,
            row.outsidePool,
            row.extra,
          ]),
        ],
        [2, 3, 4, 5, 6, 7, 8, 9],
      ),
    );
    if (planned) out.push(`  ${planned.text}`);
  }
  const own = coderTableRows(result.snapshot);
  if (own.length > 0) {
    out.push('', "As Coder sees itself (its replicas table)");
    out.push(alignColumns([['HOSTNAME', 'VERSION', 'LATENCY', 'ERROR'], ...own.map((row) => [row.hostname, row.version, row.slow ? `${row.latency} (slow)` : row.latency, row.error === '' ? '–' : row.error])], [2]));
  }
  out.push('');

  const declared = otherBudgetRows(result.capacity);
  if (declared.length > 0) {
    out.push('Other applications (--other.budget)');
    out.push(alignColumns([['DECLARED', 'POOL', 'HOLDS NOW'], ...declared.map((row) => [row.selector, String(row.declared), `${row.live}${row.stale ? ' (stale)' : ''}`])], [1, 2]));
    out.push(`  ${formatCount(result.capacity?.otherCommitted ?? null)} committed in all, undeclared live connections and the monitor's own included`, '');
  }

  out.push('Findings');
  if (assessment.findings.length === 0) out.push('  none');
  for (const finding of assessment.findings) {
    const label = finding.severity.toUpperCase().padEnd(9);
    out.push(`  ${label}${finding.title}`);
    out.push(`${' '.repeat(11)}${wrap(redactUrl(finding.detail), width, ' '.repeat(11))}`);
    if (finding.sql) out.push(`${' '.repeat(11)}${finding.sql}`);
  }
  out.push('');
  out.push(`Exit code ${input.exitCode}: ${exitMeaning[input.exitCode]}.`);
  return `${out.join('\n')}\n`;
}
