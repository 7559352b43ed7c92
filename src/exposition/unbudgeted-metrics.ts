// Where slots go without being budgeted, and the pool Coder needs: the oldest session idle in
// a transaction per owner, the NOTIFY queue's fill, each replica's pool closes by reason
// (mirrored counters), and the needed pool max over the demand window.

import { poolCloseField, poolCloseReasons } from '../model/unbudgeted.js';
import type { SnapshotGauges } from './snapshot-gauges.js';

export function registerUnbudgetedMetrics({ gauge, capacityGauge }: SnapshotGauges): void {
  gauge('oldest_idle_in_transaction_seconds', "The oldest session idle in a transaction, per owner (coder, other, monitor): PostgreSQL's now() minus its state_change. Absent for an owner with none.", ['owner'], (set, r) => {
    for (const { owner, oldestSeconds } of r.snapshot.postgres?.idleInTransaction ?? []) set({ owner }, oldestSeconds);
  });
  gauge('notify_queue_usage_ratio', "pg_notification_queue_usage(): the share of the NOTIFY queue in use (Coder's pubsub rides on it; NOTIFY fails when it is full).", [], (set, r) => {
    if (r.snapshot.postgres) set({}, r.snapshot.postgres.notifyQueueUsage);
  });
  gauge('replica_closed_connections_total', "Connections the replica's pool closed, by reason: max_idle (go_sql_max_idle_closed_total, the idle cap CODER_PG_CONN_MAX_IDLE), max_idle_time, max_lifetime. Each is reopened later as a new PostgreSQL backend. Mirrored while the replica is up.", ['replica', 'reason'], (set, r) => {
    for (const replica of r.snapshot.replicas) {
      if (!replica.up || replica.closed === null) continue;
      for (const reason of poolCloseReasons) {
        const value = replica.closed[poolCloseField[reason]];
        if (value !== null) set({ replica: replica.replica, reason }, value);
      }
    }
  }, 'counter');
  capacityGauge('needed_pool_max_connections', 'The pool max Coder needed over --capacity.demand-window: the largest per-replica peak of in-use connections, plus one for a replica whose wait count rose in the window. Compare with recommended_pool_max_connections.', (c) => c.demand.needed?.connections ?? null);
}
