// The PgBouncer layer: each instance's up, the pooler's client and server limits for
// Coder's budget, what would queue, who waits now, and whether Coder's pool is in session
// mode; and the budget on PostgreSQL, which budget_headroom_connections uses (it equals
// coder_budget_connections without a pooler). A pooler sum is absent unless every
// instance was read (blind reason pgbouncer_unreadable).

import type { SnapshotGauges } from './snapshot-gauges.js';

export function registerPgbouncerMetrics({ gauge, capacityGauge, phased }: SnapshotGauges): void {
  phased('postgres_budget_connections', "What Coder's budget may open on PostgreSQL, per phase: coder_budget_connections, or behind PgBouncer min(coder_budget_connections, pgbouncer_server_connections_cap). budget_headroom_connections uses it.", (c) => c.postgresBudget);
  // Labelled `pgbouncer`, not `instance`: Prometheus sets `instance` to the monitor's own
  // address at scrape time and would rename ours to exported_instance.
  gauge('pgbouncer_up', 'Whether the last poll of this PgBouncer admin console (--pgbouncer.url) succeeded; pgbouncer = its host:port.', ['pgbouncer'], (set, r) => {
    for (const instance of r.snapshot.pooler?.instances ?? []) set({ pgbouncer: instance.instance }, instance.up ? 1 : 0);
  });
  capacityGauge('pgbouncer_client_connections_limit', 'Client connections PgBouncer accepts: max_client_conn summed over the instances.', (c) => c.pooler?.clientCapacity ?? null);
  phased('pgbouncer_client_headroom_connections', "max_client_conn (all instances) - PgBouncer's other clients - Coder's budget, per phase; negative: PgBouncer refuses Coder's connections.", (c) => c.pooler?.clientHeadroom ?? null);
  capacityGauge('pgbouncer_server_connections_cap', "Server connections Coder's pool may hold on PostgreSQL, all instances: min(pool_size + reserve_pool, max_db_connections, max_user_connections) summed.", (c) => c.pooler?.serverCap ?? null);
  phased('pgbouncer_queued_connections', "Coder's budget beyond the server cap, per phase: connections that would wait in PgBouncer instead of reaching PostgreSQL.", (c) => c.pooler?.queued ?? null);
  capacityGauge('pgbouncer_clients_waiting', "Coder's clients waiting in PgBouncer for a server connection now (cl_waiting), all instances.", (c) => c.pooler?.clientsWaiting ?? null);
  capacityGauge('pgbouncer_max_wait_seconds', "How long the oldest of Coder's waiting clients has waited (maxwait), the longest over the instances.", (c) => c.pooler?.maxWaitSeconds ?? null);
  capacityGauge(
    'pgbouncer_pool_mode_session',
    "1 when Coder's pool is in session mode on every instance, 0 when it is not on one (Coder's LISTEN stops receiving there).",
    (c) => (c.pooler?.sessionMode == null ? null : c.pooler.sessionMode ? 1 : 0),
  );
}
