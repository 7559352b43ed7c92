// The one statement a PostgreSQL poll runs, and the parsing of its one row.
// Aggregation happens in PostgreSQL: however many backends there are, a bounded number
// of grouped rows crosses the wire (as one JSON array), in one round trip.

import type { AddressCount, CoderReplicaRow, ConnectionGroup, ConnectionOwner, PostgresFacts } from '../model/snapshot.js';
import { byCodeUnits } from '../model/text-order.js';

/** Settings read with current_setting(name, true); absent ones (reserved_connections before 16, rds.* off RDS) stay absent. */
const settingNames = [
  'max_connections',
  'superuser_reserved_connections',
  'reserved_connections',
  'rds.rds_superuser_reserved_connections',
  'server_version',
  'server_version_num',
];

/**
 * Coder's `replicas` table: alive when the heartbeat (every 5 s) is under 15 s old. Its
 * own statement, not part of the poll's: a missing GRANT or column (another Coder
 * version) must fail this read alone, never the poll. database_latency is each replica's
 * own ping to PostgreSQL at its heartbeat, in microseconds.
 */
export const liveReplicasStatement = `SELECT hostname, relay_address, version, error, database_latency FROM replicas
WHERE "primary" AND updated_at > now() - interval '15 seconds' ORDER BY hostname`;

export interface ReplicaTableRow {
  hostname: string;
  relay_address: string;
  version: string;
  error: string | null;
  database_latency: number | string;
}

export function parseReplicaRows(rows: ReplicaTableRow[]): CoderReplicaRow[] {
  return rows.map((row) => ({
    hostname: row.hostname,
    relayAddress: row.relay_address,
    version: row.version,
    error: row.error ?? '',
    databaseLatencySeconds: Number(row.database_latency) / 1e6,
  }));
}

/** An empty statement: the round trip to PostgreSQL without the poll's own work on pg_stat_activity. */
export const roundTripStatement = ';';

/**
 * $1 Coder's role, $2 Coder's database, $3 optional application_name, $4 setting names.
 *
 * current_setting(name, true) rather than the pg_settings view: the view builds every
 * setting's row, which made up a third of the poll's PostgreSQL CPU at 100 connections
 * (bench, case 2: 2.0 ms -> 0.6 ms per poll).
 *
 * Counted: client backends. Without pg_read_all_stats, other roles' rows show NULL
 * backend_type and state but keep usename, so those rows count too (as state "unknown").
 * PG 18's io workers and all background processes have no usename and are left out.
 *
 * pg_stat_get_activity(NULL), the function under the pg_stat_activity view, grouped by the
 * database's and role's OIDs and named after grouping: the view joins pg_database and
 * pg_authid for every backend, which made our poll 1.6x the count(*) floor at 2,000
 * connections (bench, case 2: 7.6 ms against 4.7 ms); joining the few groups instead
 * brings it to 5.6 ms against 4.3 ms, 1.3x.
 *
 * The same scan gives each group's oldest state_change age when the group is idle in a
 * transaction: the statement's now() minus it, so the age comes from PostgreSQL's clock
 * and no clock enters the model. pg_notification_queue_usage() needs no privilege.
 *
 * Coder's groups are split by client_addr in the same aggregation (what each replica
 * holds, as PostgreSQL sees it; every other group's address is NULL), so the backends are
 * still scanned once: at 2,000 connections the statement costs what it did without the
 * addresses (15.4 ms both, in alternating runs on one machine; the scan itself is 15 ms).
 * inet_client_addr() is the monitor's own address.
 */
export function pollStatement(): string {
  return `
SELECT
  (SELECT json_object_agg(name, value) FROM (
     SELECT name, current_setting(name, true) AS value FROM unnest($4::text[]) AS name) s
   WHERE value IS NOT NULL) AS settings,
  (SELECT row_to_json(r) FROM (
     SELECT rolname, rolsuper, rolconnlimit,
            coalesce(pg_has_role(oid, to_regrole('pg_use_reserved_connections'), 'MEMBER'), false) AS can_use_reserved
     FROM pg_roles WHERE rolname = $1) r) AS coder_role,
  (SELECT row_to_json(d) FROM (SELECT datname, datconnlimit FROM pg_database WHERE datname = $2) d) AS coder_database,
  (pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')) AS privileged,
  current_user AS session_user_name,
  current_database() AS session_database,
  inet_server_port() AS session_port,
  (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS session_superuser,
  (SELECT coalesce(json_agg(g), '[]'::json) FROM (
     SELECT coalesce(d.datname, '') AS database, coalesce(r.rolname, '') AS role,
            a.application, a.state, a.owner, a.address, a.count, a.idle_in_transaction_seconds
     FROM (
       -- Coder's backends by the address they come from: what each replica holds.
       SELECT datid, usesysid, application, state, owner, CASE WHEN owner = 'coder' THEN host(client_addr) END AS address, count(*) AS count,
              extract(epoch FROM now() - min(state_change) FILTER (WHERE state LIKE 'idle in transaction%')) AS idle_in_transaction_seconds
       FROM (
         SELECT datid, usesysid, coalesce(application_name, '') AS application, coalesce(state, 'unknown') AS state, state_change,
                CASE WHEN pid = pg_backend_pid() THEN 'monitor'
                     WHEN usesysid = (SELECT oid FROM pg_roles WHERE rolname = $1)
                          AND datid = (SELECT oid FROM pg_database WHERE datname = $2)
                          AND ($3::text IS NULL OR application_name = $3) THEN 'coder'
                     ELSE 'other' END AS owner,
                client_addr
         FROM pg_stat_get_activity(NULL)
         WHERE backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL)
       ) b
       GROUP BY datid, usesysid, application, state, owner, address
     ) a
     LEFT JOIN pg_database d ON d.oid = a.datid
     LEFT JOIN pg_roles r ON r.oid = a.usesysid) g) AS connections,
  host(inet_client_addr()) AS monitor_address,
  pg_is_in_recovery() AS in_recovery,
  pg_notification_queue_usage() AS notify_queue_usage`;
}

/**
 * A named statement is parsed and planned once per connection instead of at every poll
 * (bench, case 2: PostgreSQL CPU per poll 4.6 -> 2.0 ms at 100 connections).
 */
export const pollStatementName = 'coder_pg_capacity_poll';

export function pollParameters(role: string, database: string, applicationName: string | null): unknown[] {
  return [role, database, applicationName, settingNames];
}

export interface PollRow {
  settings: Record<string, string> | null;
  coder_role: { rolname: string; rolsuper: boolean; rolconnlimit: number; can_use_reserved: boolean } | null;
  coder_database: { datname: string; datconnlimit: number } | null;
  privileged: boolean | null;
  session_user_name: string;
  session_database: string;
  session_port: number | null;
  session_superuser: boolean | null;
  connections: (ConnectionGroup & {
    /** Only for the groups idle in a transaction; null when the monitor may not see state_change. */
    idle_in_transaction_seconds: number | null;
    /** client_addr of Coder's groups; null for the others (and for a Unix socket or a hidden address). */
    address: string | null;
  })[];
  notify_queue_usage: number;
  monitor_address: string | null;
  in_recovery: boolean;
}

/** Applications beyond this many distinct names fold into OTHER_APPLICATION: a label must stay bounded. */
export const MAX_APPLICATIONS = 10;
export const OTHER_APPLICATION = '(other)';

/** Keeps the busiest applications' names and folds the rest, merging the groups that then coincide. */
export function foldApplications(groups: ConnectionGroup[], keep = MAX_APPLICATIONS): ConnectionGroup[] {
  const totals = new Map<string, number>();
  for (const group of groups) totals.set(group.application, (totals.get(group.application) ?? 0) + group.count);
  if (totals.size <= keep) return groups;
  const kept = new Set(
    [...totals.entries()]
      .sort((a, b) => b[1] - a[1] || byCodeUnits(a[0], b[0]))
      .slice(0, keep)
      .map(([name]) => name),
  );
  return mergeGroups(groups.map((group) => (kept.has(group.application) ? group : { ...group, application: OTHER_APPLICATION })));
}

/** Groups that share database, role, application, state and owner, added up into one. */
function mergeGroups(groups: ConnectionGroup[]): ConnectionGroup[] {
  const merged = new Map<string, ConnectionGroup>();
  for (const group of groups) {
    const key = JSON.stringify([group.database, group.role, group.application, group.state, group.owner]);
    const existing = merged.get(key);
    if (existing) existing.count += group.count;
    else merged.set(key, { ...group });
  }
  return [...merged.values()];
}

function intSetting(settings: Record<string, string>, name: string): number | null {
  const value = settings[name];
  return value === undefined ? null : Number.parseInt(value, 10);
}

/** Turns the poll row into PostgresFacts; providerReserved 'auto' reads the RDS setting when present. */
export function parsePollRow(row: PollRow, providerReserved: number | 'auto'): PostgresFacts {
  const settings = row.settings ?? {};
  const rds = intSetting(settings, 'rds.rds_superuser_reserved_connections');
  const provider =
    providerReserved !== 'auto'
      ? { value: providerReserved, source: 'configured' as const }
      : rds !== null
        ? { value: rds, source: 'rds.rds_superuser_reserved_connections' as const }
        : { value: 0, source: 'none' as const };

  return {
    serverVersion: settings.server_version ?? 'unknown',
    serverVersionNum: intSetting(settings, 'server_version_num') ?? 0,
    maxConnections: intSetting(settings, 'max_connections') ?? 0,
    superuserReservedConnections: intSetting(settings, 'superuser_reserved_connections') ?? 0,
    reservedConnections: intSetting(settings, 'reserved_connections') ?? 0,
    providerReservedConnections: provider.value,
    providerReservedSource: provider.source,
    coderRole: row.coder_role && {
      name: row.coder_role.rolname,
      superuser: row.coder_role.rolsuper,
      connectionLimit: row.coder_role.rolconnlimit,
      canUseReservedConnections: row.coder_role.can_use_reserved,
    },
    coderDatabase: row.coder_database && {
      name: row.coder_database.datname,
      connectionLimit: row.coder_database.datconnlimit,
    },
    privilegesSufficient: row.privileged === true || row.session_superuser === true,
    connections: foldApplications(withoutAddresses(row.connections)),
    inRecovery: row.in_recovery === true,
    coderAddresses: coderAddresses(row.connections),
    monitorAddress: row.monitor_address,
    liveReplicasFromDb: null,
    replicaRows: null,
    replicasTableError: null,
    session: {
      user: row.session_user_name,
      database: row.session_database,
      port: row.session_port,
      superuser: row.session_superuser === true,
    },
    idleInTransaction: oldestIdleInTransaction(row.connections),
    notifyQueueUsage: Number(row.notify_queue_usage),
  };
}

/** The groups as ConnectionGroups: Coder's groups, split by address in PostgreSQL, merged back. */
function withoutAddresses(groups: PollRow['connections']): ConnectionGroup[] {
  return mergeGroups(groups.map(({ idle_in_transaction_seconds: _age, address: _address, ...group }) => ({ ...group, count: Number(group.count) })));
}

/** Coder's backends per address, ordered by address (null, a Unix socket or a hidden address, last). */
function coderAddresses(groups: PollRow['connections']): AddressCount[] {
  const counts = new Map<string | null, number>();
  for (const group of groups) if (group.owner === 'coder') counts.set(group.address, (counts.get(group.address) ?? 0) + Number(group.count));
  return [...counts]
    .map(([address, count]) => ({ address, count }))
    .sort((a, b) => (a.address === null ? 1 : b.address === null ? -1 : byCodeUnits(a.address, b.address)));
}

/**
 * The oldest idle-in-transaction age per owner, over the groups. A session that changed
 * state after the statement began shows a hair below 0: that is 0.
 */
function oldestIdleInTransaction(groups: PollRow['connections']): PostgresFacts['idleInTransaction'] {
  const oldest = new Map<ConnectionOwner, number>();
  for (const group of groups) {
    if (group.idle_in_transaction_seconds === null || group.idle_in_transaction_seconds === undefined) continue;
    const age = Math.max(0, Number(group.idle_in_transaction_seconds));
    oldest.set(group.owner, Math.max(oldest.get(group.owner) ?? 0, age));
  }
  return [...oldest.entries()].sort(([a], [b]) => byCodeUnits(a, b)).map(([owner, oldestSeconds]) => ({ owner, oldestSeconds }));
}
