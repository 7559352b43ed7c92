// The metric contract (prefix coder_pg_capacity_), built fresh from the latest poll at
// each scrape: a scrape never touches PostgreSQL or Coder, a replica that went away
// leaves no stale series, and while PostgreSQL is down the derived figures are absent,
// never frozen at their last value.

import client from 'prom-client';
import type { PollResult } from '../poller.js';
import { registerSnapshotGauge } from './snapshot-gauge.js';

const PREFIX = 'coder_pg_capacity_';

export interface CapacityMetrics {
  registry: client.Registry;
  /** Counts and observes one poll; the gauges read `latest()` at scrape time. */
  record(result: PollResult): void;
}

type Latest = () => PollResult | null;

export function createMetrics(latest: Latest, version: string): CapacityMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });

  // Every gauge below is rebuilt from the latest poll at scrape time; none before the first poll.
  const gauge = <L extends string>(name: string, help: string, _labelNames: readonly L[], fill: (set: (labels: Partial<Record<L, string>>, value: number) => void, result: PollResult) => void, type: 'gauge' | 'counter' = 'gauge') =>
    registerSnapshotGauge<L>(registry, PREFIX + name, help, (set) => {
      const result = latest();
      if (result) fill(set, result);
    }, type);

  // Figures derived from a successful PostgreSQL poll: absent while PostgreSQL is down.
  const capacityGauge = (name: string, help: string, value: (c: NonNullable<PollResult['capacity']>) => number | null) =>
    gauge(name, help, [], (set, result) => {
      const v = result.capacity ? value(result.capacity) : null;
      if (v !== null) set({}, v);
    });

  gauge('postgres_up', 'Whether the last poll of PostgreSQL succeeded (1) or not (0).', [], (set, r) => set({}, r.snapshot.postgres ? 1 : 0));
  gauge('postgres_full', 'Whether PostgreSQL has no slot left for an ordinary role: it refused the monitor for want of one (SQLSTATE 53300), or headroom is 0 or less.', [], (set, r) => set({}, r.postgresFull ? 1 : 0));
  gauge('blind', 'Why the monitor cannot judge whether Coder fits: 1 per reason present (no_replicas_configured, no_replicas_found, replicas_table_unreadable, coder_role_missing, coder_database_missing, coder_connections_mismatch).', ['reason'], (set, r) => {
    for (const reason of r.blind) set({ reason }, 1);
  });
  gauge('postgres_privileges_sufficient', "Whether the monitor's role can see every connection's state (pg_read_all_stats, granted by pg_monitor).", [], (set, r) => {
    if (r.snapshot.postgres) set({}, r.snapshot.postgres.privilegesSufficient ? 1 : 0);
  });
  const roundTrip = new client.Histogram({
    name: `${PREFIX}postgres_round_trip_seconds`,
    help: "Wall time of the monitor's poll statement: the round trip between this process and PostgreSQL.",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  gauge('max_connections', "PostgreSQL's max_connections (M).", [], (set, r) => {
    if (r.snapshot.postgres) set({}, r.snapshot.postgres.maxConnections);
  });
  gauge('reserved_connections', 'Slots an ordinary role cannot use, by reason: superuser (S), reserved (R, PG 16+), provider (V).', ['reason'], (set, r) => {
    const c = r.capacity;
    if (!c) return;
    set({ reason: 'superuser' }, c.reserved.superuser);
    set({ reason: 'reserved' }, c.reserved.reserved);
    set({ reason: 'provider' }, c.reserved.provider);
  });
  capacityGauge('available_connections', 'Slots an ordinary role can use: A = M - S - R - V.', (c) => c.available);
  gauge('role_connection_limit', "Coder's role connection limit (rolconnlimit), when one is set.", ['role'], (set, r) => {
    const role = r.snapshot.postgres?.coderRole;
    if (role && role.connectionLimit >= 0) set({ role: role.name }, role.connectionLimit);
  });
  gauge('database_connection_limit', "Coder's database connection limit (datconnlimit), when one is set.", ['database'], (set, r) => {
    const database = r.snapshot.postgres?.coderDatabase;
    if (database && database.connectionLimit >= 0) set({ database: database.name }, database.connectionLimit);
  });
  gauge('connections', 'Client backends by database, role, application (rare ones folded into "(other)"), state and owner (coder, other, monitor).', ['database', 'role', 'application', 'state', 'owner'], (set, r) => {
    for (const group of r.snapshot.postgres?.connections ?? []) {
      set({ database: group.database, role: group.role, application: group.application, state: group.state, owner: group.owner }, group.count);
    }
  });
  capacityGauge('margin_capacity_connections', 'Slots left for Coder and other applications once the safety margin is kept: Am = floor(A x (1 - --capacity.safety-margin)).', (c) => c.marginCapacity);
  gauge('slots_connections', "Where max_connections goes, by part: superuser_reserved, reserved, provider, other, coder_active and coder_idle (PostgreSQL's state), coder_unopened (budget not yet open), free, and overcommit (the steady budget past the last slot). A part that cannot be known is absent.", ['part'], (set, r) => {
    for (const [part, slots] of Object.entries(r.capacity?.slots.parts ?? {})) set({ part }, slots);
  });
  capacityGauge('used_connections', "Client backends in use, all databases, the monitor's own included (U).", (c) => c.used);
  capacityGauge('coder_connections', "Client backends attributed to Coder (Uc).", (c) => c.coder);
  capacityGauge('other_connections', 'Client backends of everyone else, the monitor included (Uo = U - Uc).', (c) => c.other);
  capacityGauge('headroom_connections', 'Slots still free right now: A - U.', (c) => c.headroom);
  capacityGauge('utilization_ratio', 'Share of the available slots in use: U / A.', (c) => c.utilization);

  const perReplica = (name: string, help: string, value: (replica: PollResult['snapshot']['replicas'][number]) => number | null, type: 'gauge' | 'counter' = 'gauge') =>
    gauge(name, help, ['replica'], (set, r) => {
      for (const replica of r.snapshot.replicas) {
        const v = value(replica);
        if (v !== null) set({ replica: replica.replica }, v);
      }
    }, type);
  perReplica('replica_up', 'Whether the last scrape of this Coder replica succeeded.', (replica) => (replica.up ? 1 : 0));
  perReplica('replica_pool_max_connections', "The replica's go_sql_max_open_connections (last known while it is down); 0 = unbounded.", (replica) => replica.poolMax);
  perReplica('replica_open_connections', "The replica's go_sql_open_connections.", (replica) => replica.open);
  perReplica('replica_in_use_connections', "The replica's go_sql_in_use_connections.", (replica) => replica.inUse);
  perReplica('replica_idle_connections', "The replica's go_sql_idle_connections.", (replica) => replica.idle);
  perReplica('replica_wait_count_total', "The replica's go_sql_wait_count_total: connections waited for (the pool was full).", (replica) => replica.waitCount, 'counter');
  perReplica('replica_wait_duration_seconds_total', "The replica's go_sql_wait_duration_seconds_total.", (replica) => replica.waitDurationSeconds, 'counter');
  perReplica('replica_pool_unbounded', "Whether the replica's pool has no maximum (go_sql_max_open_connections 0).", (replica) => (replica.poolMax === null ? null : replica.poolMax === 0 ? 1 : 0));

  gauge('replicas', 'Coder replicas: observed (discovered this poll, up or not, or live in the replicas table) and planned (max of observed and --coder.replicas).', ['source'], (set, r) => {
    if (!r.capacity) return;
    set({ source: 'observed' }, r.capacity.replicas.observed);
    set({ source: 'planned' }, r.capacity.replicas.planned);
  });
  const phased = (name: string, help: string, value: (c: NonNullable<PollResult['capacity']>) => { steady: number; rollout: number } | null) =>
    gauge(name, help, ['phase'], (set, r) => {
      const v = r.capacity ? value(r.capacity) : null;
      if (!v) return;
      set({ phase: 'steady' }, v.steady);
      set({ phase: 'rollout' }, v.rollout);
    });
  phased('coder_budget_connections', 'Slots Coder may take at its pool maxima: steady, and during a rolling update (+Inf when a pool is unbounded); absent while no replica is known.', (c) => c.budget);
  phased('budget_headroom_connections', 'A - Uo - budget per phase; negative = overcommitted.', (c) => c.budgetHeadroom);
  capacityGauge('recommended_pool_max_connections', 'The largest per-replica pool max that fits a rolling update with the safety margin kept (0 = none fits).', (c) => c.recommendedPoolMax);
  capacityGauge('max_safe_replicas', 'How many replicas fit at the current pool max, steady, with the safety margin kept.', (c) => c.maxSafeReplicas);
  capacityGauge('unaccounted_coder_connections', "Coder connections no scraped replica explains (a replica not scraped, or a leak).", (c) => c.unaccounted);
  gauge('coder_role_superuser', "Whether Coder's role is a superuser (it can take the slots kept for admins).", [], (set, r) => {
    const role = r.snapshot.postgres?.coderRole;
    if (role) set({}, role.superuser ? 1 : 0);
  });

  const lastSuccess = new client.Gauge({
    name: `${PREFIX}last_poll_success_timestamp_seconds`,
    help: 'When PostgreSQL was last polled successfully (Unix time).',
    registers: [registry],
  });
  const duration = new client.Gauge({
    name: `${PREFIX}poll_duration_seconds`,
    help: 'Wall time of the last poll, by source.',
    labelNames: ['source'],
    registers: [registry],
  });
  const errors = new client.Counter({
    name: `${PREFIX}poll_errors_total`,
    help: 'Failed polls by source (postgres; coder: one per failing replica; discovery: one per name that did not resolve).',
    labelNames: ['source'],
    registers: [registry],
  });
  for (const source of ['postgres', 'coder', 'discovery']) errors.inc({ source }, 0);
  new client.Gauge({
    name: `${PREFIX}build_info`,
    help: 'Always 1; the version label says which build runs.',
    labelNames: ['version'],
    registers: [registry],
  }).set({ version }, 1);

  return {
    registry,
    record(result) {
      if (result.roundTripSeconds !== null) roundTrip.observe(result.roundTripSeconds);
      if (result.postgresError === null) lastSuccess.set(result.completedAt / 1000);
      else errors.inc({ source: 'postgres' });
      duration.set({ source: 'postgres' }, result.durations.postgres);
      duration.set({ source: 'coder' }, result.durations.coder);
      for (const error of result.coderErrors) errors.inc({ source: error.source });
    },
  };
}
