// The text client_golang's registry serves for Go's database/sql pool statistics
// (collectors.NewDBStatsCollector) and for coderd's pubsub gauge: what a stand-in
// replica serves and what tests build expositions from.

import type { PoolCloseReason } from '../src/model/pool-closes.js';

/** The numbers of Go's sql.DBStats, as client_golang's DBStatsCollector exports them. */
export interface DbStats {
  /** go_sql_max_open_connections; 0 means unlimited in Go. */
  maxOpen: number;
  open: number;
  inUse: number;
  /** Defaults to open - inUse, as Go computes it. */
  idle?: number;
  waitCount?: number;
  waitDurationSeconds?: number;
  /** go_sql_<reason>_closed_total by reason (Go's MaxIdleClosed, MaxIdleTimeClosed, MaxLifetimeClosed); each defaults to 0. */
  closed?: Partial<Record<PoolCloseReason, number>>;
  /** The db_name label; coderd registers the collector with "". */
  dbName?: string;
}

/** DbStats with every default filled in. */
export type FullDbStats = Required<Omit<DbStats, 'closed'>> & { closed: Record<PoolCloseReason, number> };

interface DbStatsFamily {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  value: (s: FullDbStats) => number;
}

// Exact names, types and HELP texts of client_golang's collectors.NewDBStatsCollector.
// Sorted by name because client_golang's Gather() sorts families: a scraper may not rely
// on any order, but it should see the one coderd really serves.
const DB_STATS_FAMILIES: readonly DbStatsFamily[] = sortByName([
  { name: 'go_sql_max_open_connections', type: 'gauge', help: 'Maximum number of open connections to the database.', value: (s) => s.maxOpen },
  { name: 'go_sql_open_connections', type: 'gauge', help: 'The number of established connections both in use and idle.', value: (s) => s.open },
  { name: 'go_sql_in_use_connections', type: 'gauge', help: 'The number of connections currently in use.', value: (s) => s.inUse },
  { name: 'go_sql_idle_connections', type: 'gauge', help: 'The number of idle connections.', value: (s) => s.idle },
  { name: 'go_sql_wait_count_total', type: 'counter', help: 'The total number of connections waited for.', value: (s) => s.waitCount },
  { name: 'go_sql_wait_duration_seconds_total', type: 'counter', help: 'The total time blocked waiting for a new connection.', value: (s) => s.waitDurationSeconds },
  { name: 'go_sql_max_idle_closed_total', type: 'counter', help: 'The total number of connections closed due to SetMaxIdleConns.', value: (s) => s.closed.max_idle },
  { name: 'go_sql_max_idle_time_closed_total', type: 'counter', help: 'The total number of connections closed due to SetConnMaxIdleTime.', value: (s) => s.closed.max_idle_time },
  { name: 'go_sql_max_lifetime_closed_total', type: 'counter', help: 'The total number of connections closed due to SetConnMaxLifetime.', value: (s) => s.closed.max_lifetime },
]);

function sortByName(families: DbStatsFamily[]): DbStatsFamily[] {
  // Byte order, as Go's sort of strings.
  return families.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The go_sql_* families as a client_golang registry prints them. */
export function formatDbStats(stats: DbStats): string {
  const full = withDefaults(stats);
  const label = `{db_name="${escapeLabelValue(full.dbName)}"}`;
  return DB_STATS_FAMILIES.map(
    (f) => `# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n${f.name}${label} ${formatGoFloat(f.value(full))}\n`,
  ).join('');
}

/** The pubsub backends a newer coderd names in coder_pubsub_connected's `backend` label. */
export type PubsubBackend = 'postgres' | 'nats';

/**
 * coderd's pubsub gauge (HELP text from coderd/database/pubsub). Without `backend`, the
 * unlabelled `coder_pubsub_connected 1` of older releases; with it, the gauge vector of newer
 * ones, `coder_pubsub_connected{backend="postgres"} 1`.
 */
export function formatPubsubConnected(connected: boolean, backend?: PubsubBackend): string {
  const labels = backend === undefined ? '' : `{backend="${escapeLabelValue(backend)}"}`;
  return (
    '# HELP coder_pubsub_connected Whether we are connected (1) or not connected (0) to postgres\n' +
    '# TYPE coder_pubsub_connected gauge\n' +
    `coder_pubsub_connected${labels} ${connected ? 1 : 0}\n`
  );
}

/**
 * Per-workspace series of the kind that make a real coderd exposition many MB, so a
 * scraper must stream past them to reach go_sql_*.
 */
export function formatFillerSeries(count: number): string {
  if (count <= 0) return '';
  const lines = ['# HELP coderd_agents_up The number of active agents per workspace.', '# TYPE coderd_agents_up gauge'];
  for (let i = 0; i < count; i++) {
    lines.push(`coderd_agents_up{template_name="t",username="u${i}",workspace_name="w${i}"} 1`);
  }
  return lines.join('\n') + '\n';
}

/**
 * A number as Go's expfmt writes it: strconv 'g' with shortest precision, which switches
 * to an exponent from 1e+06 on (so 1000000 reads "1e+06", not "1000000").
 */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0) return '0'; // Go's writeFloat prints -0 as 0 too
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  // Between 1e-4 and 1e+6 JavaScript's shortest decimal form is Go's too.
  return String(value);
}

export function withDefaults(stats: DbStats): FullDbStats {
  return {
    maxOpen: stats.maxOpen,
    open: stats.open,
    inUse: stats.inUse,
    idle: stats.idle ?? stats.open - stats.inUse,
    waitCount: stats.waitCount ?? 0,
    waitDurationSeconds: stats.waitDurationSeconds ?? 0,
    closed: {
      max_idle: stats.closed?.max_idle ?? 0,
      max_idle_time: stats.closed?.max_idle_time ?? 0,
      max_lifetime: stats.closed?.max_lifetime ?? 0,
    },
    dbName: stats.dbName ?? '',
  };
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * What client_golang 1.24 and later serve for `/metrics?name[]=a&name[]=b`: only the
 * families named (prometheus/client_golang#1925); no name[] at all means every family.
 * Families are the blocks that start at their `# HELP` line.
 */
export function filterFamilies(exposition: string, names: readonly string[]): string {
  if (names.length === 0) return exposition;
  const wanted = new Set(names);
  const blocks = exposition.split(/^(?=# HELP )/m);
  return blocks.filter((block) => wanted.has(/^# HELP (\S+)/.exec(block)?.[1] ?? '')).join('');
}
