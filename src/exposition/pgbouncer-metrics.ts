// The PgBouncer layer: each instance's up, the pooler's client and server limits for
// Coder's budget, what would queue, who waits now, and whether Coder's pool is in session
// mode; and the budget on PostgreSQL, which budget_headroom_connections uses (it equals
// coder_budget_connections without a pooler). A pooler sum is absent unless every
// instance was read (blind reason pgbouncer_unreadable).

import type { SnapshotGauges } from './snapshot-gauges.js';

export function registerPgbouncerMetrics({ gauge, capacityGauge, phased }: SnapshotGauges): void {
  phased('postgres_budget_connections', (c) => c.postgresBudget);
  gauge('pgbouncer_up', (set, r) => {
    for (const instance of r.snapshot.pooler?.instances ?? []) set({ pgbouncer: instance.instance }, instance.up ? 1 : 0);
  });
  capacityGauge('pgbouncer_client_connections_limit', (c) => c.pooler?.clientCapacity ?? null);
  phased('pgbouncer_client_headroom_connections', (c) => c.pooler?.clientHeadroom ?? null);
  capacityGauge('pgbouncer_server_connections_cap', (c) => c.pooler?.serverCap ?? null);
  phased('pgbouncer_queued_connections', (c) => c.pooler?.queued ?? null);
  capacityGauge('pgbouncer_clients_waiting', (c) => c.pooler?.clientsWaiting ?? null);
  capacityGauge('pgbouncer_max_wait_seconds', (c) => c.pooler?.maxWaitSeconds ?? null);
  capacityGauge('pgbouncer_pool_mode_session', (c) => (c.pooler?.sessionMode == null ? null : c.pooler.sessionMode ? 1 : 0));
}
