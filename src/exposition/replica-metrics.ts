// Each Coder replica's pool as its go_sql_* metrics said it (the counters mirrored as
// counters), one series per replica; a replica gone from discovery leaves no series.

import type { ReplicaSample } from '../model/snapshot.js';
import type { SnapshotGauges } from './snapshot-gauges.js';

export function registerReplicaMetrics({ gauge }: SnapshotGauges): void {
  const perReplica = (name: string, help: string, value: (replica: ReplicaSample) => number | null, type: 'gauge' | 'counter' = 'gauge') =>
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
  perReplica('replica_scrape_bytes', "Size of the replica's last /metrics answer, decompressed: about 1 kB from a coderd that honours name[] (client_golang 1.24+), many MB from an older one.", (replica) => replica.scrapeBytes);
  perReplica('replica_pool_unbounded', "Whether the replica's pool has no maximum (go_sql_max_open_connections 0).", (replica) => (replica.poolMax === null ? null : replica.poolMax === 0 ? 1 : 0));

}
