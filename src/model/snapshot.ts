// The one input of the capacity model: what the sources saw in one poll, plus the
// planning settings the formulas need. Sources produce the parts; nothing here does I/O.

import type { DemandWindow } from './demand.js';
import type { PostgresFailure } from './postgres-failure.js';
import type { PoolCloses } from './pool-closes.js';
import type { PoolerObservation } from './pooler.js';

export type { PoolCloses } from './pool-closes.js';

/** Who a PostgreSQL client backend belongs to. */
export type ConnectionOwner = 'coder' | 'other' | 'monitor';

/** Client backends that share database, role, application, state and owner. */
export interface ConnectionGroup {
  database: string;
  role: string;
  application: string;
  /** pg_stat_activity.state, or "unknown" where the monitor may not see it. */
  state: string;
  owner: ConnectionOwner;
  count: number;
}

/** Facts about the role Coder connects as (pg_roles). */
export interface CoderRoleFacts {
  name: string;
  superuser: boolean;
  /** pg_roles.rolconnlimit; -1 = no limit. */
  connectionLimit: number;
  /** Member of pg_use_reserved_connections (PG 16+); false before 16. */
  canUseReservedConnections: boolean;
}

/** Facts about Coder's database (pg_database). */
export interface CoderDatabaseFacts {
  name: string;
  /** pg_database.datconnlimit; -1 = no limit. */
  connectionLimit: number;
}

/** The monitor's own session: what an admin would otherwise collect by hand. */
export interface MonitorSession {
  user: string;
  database: string;
  port: number | null;
  superuser: boolean;
}

/** One live row of Coder's `replicas` table (Enterprise): how the replica sees itself. */
export interface CoderReplicaRow {
  /** The pod name under Coder's chart. */
  hostname: string;
  /** http://<pod IP>:<port> under Coder's chart: its host matches a target's address. */
  relayAddress: string;
  version: string;
  /** The replica's own error text; '' when it has none. */
  error: string;
  /** database_latency (microseconds in the table): the replica's own ping to PostgreSQL, in seconds. */
  databaseLatencySeconds: number;
}

/** Coder's client backends that came from one address (pg_stat_activity.client_addr). */
export interface AddressCount {
  /** null: a Unix socket, or an address the monitor may not see (no pg_read_all_stats). */
  address: string | null;
  count: number;
}

/** What one successful PostgreSQL poll read. */
export interface PostgresFacts {
  serverVersion: string;
  serverVersionNum: number;
  /** M: max_connections. */
  maxConnections: number;
  /** S: superuser_reserved_connections. */
  superuserReservedConnections: number;
  /** R: reserved_connections (PG 16+; 0 before). */
  reservedConnections: number;
  /** V: slots the provider keeps (RDS setting, or --postgres.provider-reserved). */
  providerReservedConnections: number;
  /** Where V came from, for people reading the figures. */
  providerReservedSource: 'configured' | 'rds.rds_superuser_reserved_connections' | 'none';
  /** null when the role does not exist (a typo in --coder.role). */
  coderRole: CoderRoleFacts | null;
  /** null when the database does not exist. */
  coderDatabase: CoderDatabaseFacts | null;
  /** false without pg_read_all_stats: other roles' states are unknown. */
  privilegesSufficient: boolean;
  /** Client backends, aggregated in PostgreSQL. */
  connections: ConnectionGroup[];
  /** pg_is_in_recovery(): a standby (a reader endpoint), where Coder holds no connection. */
  inRecovery: boolean;
  /** Coder's client backends per client_addr: what each replica holds, as PostgreSQL sees it. */
  coderAddresses: AddressCount[];
  /** inet_client_addr(): where the monitor's own backend comes from (a sidecar shares its pod's address with its coderd). */
  monitorAddress: string | null;
  /** Live primary replicas in Coder's `replicas` table, when asked for and readable. */
  liveReplicasFromDb: number | null;
  /** Those replicas' rows (--coder.replicas-from-db); null when not asked for or unreadable. */
  replicaRows: CoderReplicaRow[] | null;
  /** Why the replicas table could not be read (--coder.replicas-from-db); null when it was, or was not asked for. */
  replicasTableError: string | null;
  session: MonitorSession;
  /**
   * Per owner, the oldest session idle in a transaction: the statement's now() minus its
   * state_change, in seconds, computed in PostgreSQL so that no clock enters the model.
   * Owners with none are left out.
   */
  idleInTransaction: { owner: ConnectionOwner; oldestSeconds: number }[];
  /** pg_notification_queue_usage(): the share of the NOTIFY queue in use, 0 to 1. */
  notifyQueueUsage: number;
}

/** What one Coder replica's /metrics said (or last said). */
export interface ReplicaSample {
  /** The target, as an address (no credentials): e.g. http://10.0.0.7:2112/metrics. */
  replica: string;
  /**
   * The IP the target resolved to (the pod's address: its PostgreSQL backends come from it
   * where pod IPs reach PostgreSQL); null when it is not known (never resolved or reached).
   */
  address: string | null;
  up: boolean;
  /**
   * go_sql_max_open_connections, from this scrape or the last one that succeeded:
   * a replica that cannot be scraped still holds its pool. 0 = unbounded (Go's default).
   * null = never scraped successfully.
   */
  poolMax: number | null;
  /** The figures below are null when the replica is down: a down replica's pool is unknown. */
  open: number | null;
  inUse: number | null;
  idle: number | null;
  waitCount: number | null;
  waitDurationSeconds: number | null;
  /** coder_pubsub_connected: the LISTEN connection outside the pool (null when absent). */
  pubsubConnected: number | null;
  /** Size of the last exposition, decompressed: many MB from a coderd that ignores name[] (before client_golang 1.24). */
  scrapeBytes: number | null;
  /** The pool's close counters (null when down): each close is a backend reopened later. */
  closed: PoolCloses | null;
}

/** How many extra pods a rolling update may add: a count or a percentage of replicas. */
export type MaxSurge = { kind: 'count'; value: number } | { kind: 'percent'; value: number };

/** Which connections an --other.budget declaration covers. */
export type OtherSelector = { kind: 'role'; role: string; database: string | null } | { kind: 'application'; application: string };

/** An other application's pool, declared: its connections may grow to `budget`. */
export interface OtherBudget {
  /** As written: etl, etl@warehouse, app:airflow. */
  text: string;
  selector: OtherSelector;
  budget: number;
}

/** Planning inputs from configuration. */
export interface PlanSettings {
  /** --coder.replicas: a planned count (e.g. the HPA maximum); null = observed only. */
  plannedReplicas: number | null;
  /** --coder.pool-max: the pool max assumed where a replica never reported one. */
  defaultPoolMax: number;
  /** E: --coder.extra-connections, the pubsub listener. */
  extraConnections: number;
  maxSurge: MaxSurge;
  /**
   * --coder.max-unavailable: old pods a rolling update stops at once (rounded down, as
   * Kubernetes does). They still hold their pools while they stop, and Kubernetes does not
   * count terminating pods against maxSurge.
   */
  maxUnavailable: MaxSurge;
  /** --other.budget: other applications' declared pools; empty = only what they hold now. */
  otherBudgets: OtherBudget[];
  /** m: --capacity.safety-margin. */
  safetyMargin: number;
}

/** Which sources of replicas the operator configured: without any, the monitor is blind. */
export interface ReplicaSources {
  /** --coder.targets names at least one target (static or dns+). */
  coderTargetsConfigured: boolean;
  /** --coder.replicas-from-db: count live replicas in Coder's `replicas` table. */
  replicasFromDb: boolean;
}

/** What the sources observed in one poll; the poller merges their parts into the Snapshot. */
export interface Observations {
  postgres: PostgresFacts | null;
  postgresFailure: PostgresFailure | null;
  /** An empty statement's round trip to PostgreSQL (the network, not the poll's work); null when it did not run. */
  roundTripSeconds: number | null;
  replicas: ReplicaSample[];
  /** What the PgBouncer instances in front of Coder said; null when no --pgbouncer.url is configured. */
  pooler: PoolerObservation | null;
}

/** How Coder's connections are recognised: --coder.role, --coder.database, --coder.application-name. */
export interface CoderAttribution {
  role: string;
  database: string;
  applicationName: string | null;
}

export interface Snapshot {
  /** null when PostgreSQL could not be polled: no capacity figure is derived then. */
  postgres: PostgresFacts | null;
  /** Why PostgreSQL could not be polled; null when it was. */
  postgresFailure: PostgresFailure | null;
  replicas: ReplicaSample[];
  plan: PlanSettings;
  sources: ReplicaSources;
  attribution: CoderAttribution;
  /** The previous poll's unaccounted figure: a mismatch must hold for two polls in a row. */
  previousUnaccounted: number | null;
  /** The previous poll's close counters and how long before this one it ran: a rate needs two polls. */
  previousCloses: { secondsAgo: number; replicas: { replica: string; closed: PoolCloses }[] } | null;
  /** Each replica's in-use peaks over --capacity.demand-window, through this poll (demand.ts). */
  demand: DemandWindow | null;
  /** PgBouncer between Coder and PostgreSQL (--pgbouncer.url); absent or null: Coder connects directly. */
  pooler?: PoolerObservation | null;
}
