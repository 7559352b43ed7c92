// Where slots go without being budgeted, and the pool Coder needs: the oldest session idle in
// a transaction per owner, the NOTIFY queue's fill, each replica's pool closes by reason
// (mirrored counters), and the needed pool max over the demand window.

import { poolCloseReasons } from '../model/pool-closes.js';
import type { SnapshotGauges } from './snapshot-gauges.js';

export function registerUnbudgetedMetrics({ gauge, capacityGauge }: SnapshotGauges): void {
  gauge('oldest_idle_in_transaction_seconds', (set, r) => {
    for (const { owner, oldestSeconds } of r.snapshot.postgres?.idleInTransaction ?? []) set({ owner }, oldestSeconds);
  });
  gauge('notify_queue_usage_ratio', (set, r) => {
    if (r.snapshot.postgres) set({}, r.snapshot.postgres.notifyQueueUsage);
  });
  gauge('replica_closed_connections_total', (set, r) => {
    for (const replica of r.snapshot.replicas) {
      if (!replica.up || replica.closed === null) continue;
      for (const reason of poolCloseReasons) {
        const value = replica.closed[reason];
        if (value !== null) set({ replica: replica.replica, reason }, value);
      }
    }
  });
  capacityGauge('needed_pool_max_connections', (c) => c.demand.needed?.connections ?? null);
}
