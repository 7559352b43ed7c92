// The metric contract: every coder_pg_capacity_* family declared once, as client_golang's
// Desc: name, type, help and label names. The exposition registers from this table, the
// alert rules and the dashboard name families through it (a typo fails the typecheck),
// and docs/metrics.md's table is generated from it (npm run generate).

import { blindReasons } from '../model/blind.js';
import { slotParts } from '../model/slots.js';
import { poolCloseReasons } from '../model/pool-closes.js';

export const METRIC_PREFIX = 'coder_pg_capacity_';

/** Where a family is listed in docs/metrics.md, in this order. */
export const metricSections = {
  postgres: "PostgreSQL's own figures",
  capacity: "The budget: Coder's planned worst case against what is left",
  replicas: "Each Coder replica's pool",
  pgbouncer: 'PgBouncer between Coder and PostgreSQL',
  unbudgeted: 'Where slots go without being budgeted, and the pool Coder needs',
  monitor: 'The monitor itself',
} as const;

export interface FamilyDeclaration {
  type: 'gauge' | 'counter' | 'histogram';
  section: keyof typeof metricSections;
  help: string;
  labels: readonly string[];
}

const list = (values: readonly string[]) => values.join(', ');

export const metricFamilies = {
  // ---- PostgreSQL ----
  postgres_up: { type: 'gauge', section: 'postgres', labels: [], help: 'Whether the last poll of PostgreSQL succeeded (1) or not (0).' },
  postgres_full: {
    type: 'gauge',
    section: 'postgres',
    labels: [],
    help: 'Whether PostgreSQL has no slot left for an ordinary role: it refused the monitor for want of one (SQLSTATE 53300), or headroom is 0 or less.',
  },
  postgres_privileges_sufficient: {
    type: 'gauge',
    section: 'postgres',
    labels: [],
    help: "Whether the monitor's role can see every connection's state (pg_read_all_stats, granted by pg_monitor).",
  },
  max_connections: { type: 'gauge', section: 'postgres', labels: [], help: "PostgreSQL's max_connections (M)." },
  reserved_connections: {
    type: 'gauge',
    section: 'postgres',
    labels: ['reason'],
    help: 'Slots an ordinary role cannot use, by reason: superuser (S), reserved (R, PG 16+), provider (V).',
  },
  available_connections: { type: 'gauge', section: 'postgres', labels: [], help: 'Slots an ordinary role can use: A = M - S - R - V.' },
  role_connection_limit: { type: 'gauge', section: 'postgres', labels: ['role'], help: "Coder's role connection limit (rolconnlimit), when one is set." },
  database_connection_limit: { type: 'gauge', section: 'postgres', labels: ['database'], help: "Coder's database connection limit (datconnlimit), when one is set." },
  connections: {
    type: 'gauge',
    section: 'postgres',
    labels: ['database', 'role', 'application', 'state', 'owner'],
    help: 'Client backends by database, role, application (rare ones folded into "(other)"), state and owner (coder, other, monitor).',
  },
  used_connections: { type: 'gauge', section: 'postgres', labels: [], help: "Client backends in use, all databases, the monitor's own included (U)." },
  coder_connections: { type: 'gauge', section: 'postgres', labels: [], help: 'Client backends attributed to Coder (Uc).' },
  other_connections: { type: 'gauge', section: 'postgres', labels: [], help: 'Client backends of everyone else, the monitor included (Uo = U - Uc).' },
  headroom_connections: { type: 'gauge', section: 'postgres', labels: [], help: 'Slots still free right now: A - U.' },
  utilization_ratio: { type: 'gauge', section: 'postgres', labels: [], help: 'Share of the available slots in use: U / A.' },
  coder_role_superuser: {
    type: 'gauge',
    section: 'postgres',
    labels: [],
    help: "Whether Coder's role is a superuser (it can take the slots kept for admins).",
  },

  // ---- The budget ----
  blind: {
    type: 'gauge',
    section: 'capacity',
    labels: ['reason'],
    help: `Why the monitor cannot judge whether Coder fits: 1 per reason present (${list(blindReasons)}).`,
  },
  margin_capacity_connections: {
    type: 'gauge',
    section: 'capacity',
    labels: [],
    help: 'Slots left for Coder and other applications once the safety margin is kept: Am = floor(A x (1 - --capacity.safety-margin)).',
  },
  slots_connections: {
    type: 'gauge',
    section: 'capacity',
    labels: ['part'],
    help: `Where max_connections goes, by part: ${list(slotParts)} (coder_active and coder_idle as PostgreSQL reports them; *_unopened: budgeted, not yet open; overcommit: the steady budget past the last slot). A part that cannot be known is absent.`,
  },
  other_committed_connections: {
    type: 'gauge',
    section: 'capacity',
    labels: [],
    help: "Other applications' committed connections Uo': their --other.budget pools plus undeclared live connections (= other_connections without declarations); the budget leaves room for the larger of the two.",
  },
  coder_available_connections: {
    type: 'gauge',
    section: 'capacity',
    labels: [],
    help: "Slots left for Coder: A - max(Uo, Uo'), what other applications hold or have committed taken away. budget_headroom_connections = this - postgres_budget_connections.",
  },
  // `count`, not `source`: on poll_errors_total and source_up, `source` names a source.
  replicas: {
    type: 'gauge',
    section: 'capacity',
    labels: ['count'],
    help: 'Coder replicas: observed (discovered this poll, up or not, or live in the replicas table) and planned (max of observed and --coder.replicas).',
  },
  coder_budget_connections: {
    type: 'gauge',
    section: 'capacity',
    labels: ['phase'],
    help: 'Slots Coder may take at its pool maxima: steady, and during a rolling update (+Inf when a pool is unbounded); absent while no replica is known.',
  },
  postgres_budget_connections: {
    type: 'gauge',
    section: 'capacity',
    labels: ['phase'],
    help: "What Coder's budget may open on PostgreSQL, per phase: coder_budget_connections, or behind PgBouncer min(coder_budget_connections, pgbouncer_server_connections_cap). budget_headroom_connections uses it.",
  },
  budget_headroom_connections: {
    type: 'gauge',
    section: 'capacity',
    labels: ['phase'],
    help: 'coder_available_connections - postgres_budget_connections per phase: A - max(Uo, Uo\') - Bpg; negative = overcommitted.',
  },
  recommended_pool_max_connections: {
    type: 'gauge',
    section: 'capacity',
    labels: [],
    help: 'The largest per-replica pool max that fits a rolling update with the safety margin kept (0 = none fits).',
  },
  max_safe_replicas: { type: 'gauge', section: 'capacity', labels: [], help: 'How many replicas fit at the current pool max, steady, with the safety margin kept.' },
  unaccounted_coder_connections: {
    type: 'gauge',
    section: 'capacity',
    labels: [],
    help: "Coder connections no replica explains: Uc minus each replica's backends where its address tells them, else its open connections plus its LISTEN (a replica not scraped, a starting pod, connections outside the pools the budget does not count, a leak).",
  },
  unaccounted_per_replica_connections: {
    type: 'gauge',
    section: 'capacity',
    labels: [],
    help: 'k when the unaccounted connections stayed k >= 1 per replica up through --capacity.demand-window: most likely k more outside each pool; set --coder.extra-connections to E + k. Absent otherwise.',
  },

  // ---- Each replica ----
  replica_up: { type: 'gauge', section: 'replicas', labels: ['replica'], help: 'Whether the last scrape of this Coder replica succeeded.' },
  replica_pool_max_connections: {
    type: 'gauge',
    section: 'replicas',
    labels: ['replica'],
    help: "The replica's go_sql_max_open_connections (last known while it is down); 0 = unbounded.",
  },
  replica_open_connections: { type: 'gauge', section: 'replicas', labels: ['replica'], help: "The replica's go_sql_open_connections." },
  replica_in_use_connections: { type: 'gauge', section: 'replicas', labels: ['replica'], help: "The replica's go_sql_in_use_connections." },
  replica_idle_connections: { type: 'gauge', section: 'replicas', labels: ['replica'], help: "The replica's go_sql_idle_connections." },
  replica_wait_count_total: {
    type: 'counter',
    section: 'replicas',
    labels: ['replica'],
    help: "The replica's go_sql_wait_count_total: connections waited for (the pool was full).",
  },
  replica_wait_duration_seconds_total: {
    type: 'counter',
    section: 'replicas',
    labels: ['replica'],
    help: "The replica's go_sql_wait_duration_seconds_total.",
  },
  replica_backends: {
    type: 'gauge',
    section: 'replicas',
    labels: ['replica'],
    help: "Coder's backends from the replica's own address (pg_stat_activity.client_addr): what it holds as PostgreSQL sees it. Absent when the address is shared (SNAT, a proxy, PgBouncer) or matches nothing.",
  },
  replica_outside_pool_connections: {
    type: 'gauge',
    section: 'replicas',
    labels: ['replica'],
    help: "replica_backends - go_sql_open_connections: what the replica holds outside its pool (the LISTEN, the chat pubsub's batch sender). Absent with replica_backends.",
  },
  replica_extra_connections: {
    type: 'gauge',
    section: 'replicas',
    labels: ['replica'],
    help: 'Ei, the connections outside its pool that the budget gives the replica: max(--coder.extra-connections, the most it held outside its pool over --capacity.demand-window).',
  },
  replica_pubsub_connected: {
    type: 'gauge',
    section: 'replicas',
    labels: ['replica'],
    help: "The replica's coder_pubsub_connected (backend=\"postgres\", or unlabelled): 0 = its LISTEN is down, and coderd exits after 5 minutes without a pubsub heartbeat.",
  },
  replica_database_latency_seconds: {
    type: 'gauge',
    section: 'replicas',
    labels: ['hostname'],
    help: "Each live replica's own round trip to PostgreSQL, from Coder's replicas table (database_latency) with --coder.replicas-from-db; hostname is the pod name.",
  },
  replica_scrape_bytes: {
    type: 'gauge',
    section: 'replicas',
    labels: ['replica'],
    help: "Size of the replica's last /metrics answer, decompressed: about 1 kB from a coderd that honours name[] (client_golang 1.24+), many MB from an older one.",
  },
  replica_pool_unbounded: {
    type: 'gauge',
    section: 'replicas',
    labels: ['replica'],
    help: "Whether the replica's pool has no maximum (go_sql_max_open_connections 0).",
  },

  // ---- PgBouncer ----
  // Labelled `pgbouncer`, not `instance`: Prometheus sets `instance` to the monitor's own
  // address at scrape time and would rename ours to exported_instance.
  pgbouncer_up: {
    type: 'gauge',
    section: 'pgbouncer',
    labels: ['pgbouncer'],
    help: 'Whether the last poll of this PgBouncer admin console (--pgbouncer.url) succeeded; pgbouncer = its host:port.',
  },
  pgbouncer_client_connections_limit: {
    type: 'gauge',
    section: 'pgbouncer',
    labels: [],
    help: 'Client connections PgBouncer accepts: max_client_conn summed over the instances.',
  },
  pgbouncer_client_headroom_connections: {
    type: 'gauge',
    section: 'pgbouncer',
    labels: ['phase'],
    help: "max_client_conn (all instances) - PgBouncer's other clients - Coder's budget, per phase; negative: PgBouncer refuses Coder's connections.",
  },
  pgbouncer_server_connections_cap: {
    type: 'gauge',
    section: 'pgbouncer',
    labels: [],
    help: "Server connections Coder's pool may hold on PostgreSQL, all instances: min(pool_size + reserve_pool, max_db_connections, max_user_connections) summed.",
  },
  pgbouncer_queued_connections: {
    type: 'gauge',
    section: 'pgbouncer',
    labels: ['phase'],
    help: "Coder's budget beyond the server cap, per phase: connections that would wait in PgBouncer instead of reaching PostgreSQL.",
  },
  pgbouncer_clients_waiting: {
    type: 'gauge',
    section: 'pgbouncer',
    labels: [],
    help: "Coder's clients waiting in PgBouncer for a server connection now (cl_waiting), all instances.",
  },
  pgbouncer_max_wait_seconds: {
    type: 'gauge',
    section: 'pgbouncer',
    labels: [],
    help: "How long the oldest of Coder's waiting clients has waited (maxwait), the longest over the instances.",
  },
  pgbouncer_pool_mode_session: {
    type: 'gauge',
    section: 'pgbouncer',
    labels: [],
    help: "1 when Coder's pool is in session mode on every instance, 0 when it is not on one (Coder's LISTEN stops receiving there).",
  },

  // ---- Where slots go unbudgeted ----
  oldest_idle_in_transaction_seconds: {
    type: 'gauge',
    section: 'unbudgeted',
    labels: ['owner'],
    help: "The oldest session idle in a transaction, per owner (coder, other, monitor): PostgreSQL's now() minus its state_change. Absent for an owner with none.",
  },
  notify_queue_usage_ratio: {
    type: 'gauge',
    section: 'unbudgeted',
    labels: [],
    help: "pg_notification_queue_usage(): the share of the NOTIFY queue in use (Coder's pubsub rides on it; NOTIFY fails when it is full).",
  },
  replica_closed_connections_total: {
    type: 'counter',
    section: 'unbudgeted',
    labels: ['replica', 'reason'],
    help: `Connections the replica's pool closed, by reason (${list(poolCloseReasons)}: go_sql_max_idle_closed_total, go_sql_max_idle_time_closed_total, go_sql_max_lifetime_closed_total). Each is reopened later as a new PostgreSQL backend. Mirrored while the replica is up.`,
  },
  needed_pool_max_connections: {
    type: 'gauge',
    section: 'unbudgeted',
    labels: [],
    help: 'The pool max Coder needed over --capacity.demand-window: the largest per-replica peak of in-use connections, plus one for a replica whose wait count rose in the window. Compare with recommended_pool_max_connections.',
  },

  // ---- The monitor ----
  source_up: {
    type: 'gauge',
    section: 'monitor',
    labels: ['source'],
    help: 'Whether everything a source asked in the last poll answered (postgres, discovery, coder, ...).',
  },
  postgres_round_trip_seconds: {
    type: 'histogram',
    section: 'monitor',
    labels: [],
    help: "Wall time of the monitor's poll statement: the round trip between this process and PostgreSQL.",
  },
  last_poll_success_timestamp_seconds: { type: 'gauge', section: 'monitor', labels: [], help: 'When PostgreSQL was last polled successfully (Unix time).' },
  poll_duration_seconds: {
    type: 'gauge',
    section: 'monitor',
    labels: ['source'],
    help: 'Wall time of the last poll, by source (discovery: resolving the targets; coder: scraping them).',
  },
  poll_errors_total: {
    type: 'counter',
    section: 'monitor',
    labels: ['source'],
    help: 'Failures by source: postgres, one per failed poll; coder, one per failing replica; discovery, one per name that did not resolve; pgbouncer, one per instance that could not be read (or dns+ name that found none).',
  },
  build_info: { type: 'gauge', section: 'monitor', labels: ['version'], help: 'Always 1; the version label says which build runs.' },
} as const satisfies Record<string, FamilyDeclaration>;

export type FamilyName = keyof typeof metricFamilies;
export type LabelOf<F extends FamilyName> = (typeof metricFamilies)[F]['labels'][number];

/** The exposed name of a family: coder_pg_capacity_<family>. */
export function metricName(family: FamilyName): string {
  return METRIC_PREFIX + family;
}
