// Each Coder replica's pool as its go_sql_* metrics said it (the counters mirrored as
// counters), what PostgreSQL sees it hold, and its own latency as Coder's replicas table
// says it; one series per replica, and a replica gone from discovery leaves no series.

import type { FamilyName, LabelOf } from '../contract/metrics.js';
import type { ReplicaFootprint } from '../model/replica-footprints.js';
import type { ReplicaSample } from '../model/snapshot.js';
import type { SnapshotGauges } from './snapshot-gauges.js';

/** Families labelled by replica alone. */
type PerReplicaFamily = { [F in FamilyName]: [LabelOf<F>] extends ['replica'] ? F : never }[FamilyName];

export function registerReplicaMetrics({ gauge }: SnapshotGauges): void {
  const perReplica = (family: PerReplicaFamily, value: (replica: ReplicaSample) => number | null) =>
    gauge(family, (set, r) => {
      for (const replica of r.snapshot.replicas) {
        const v = value(replica);
        if (v !== null) set({ replica: replica.replica }, v);
      }
    });
  perReplica('replica_up', (replica) => (replica.up ? 1 : 0));
  perReplica('replica_pool_max_connections', (replica) => replica.poolMax);
  perReplica('replica_open_connections', (replica) => replica.open);
  perReplica('replica_in_use_connections', (replica) => replica.inUse);
  perReplica('replica_idle_connections', (replica) => replica.idle);
  perReplica('replica_wait_count_total', (replica) => replica.waitCount);
  perReplica('replica_wait_duration_seconds_total', (replica) => replica.waitDurationSeconds);
  perReplica('replica_scrape_bytes', (replica) => replica.scrapeBytes);
  perReplica('replica_pool_unbounded', (replica) => (replica.poolMax === null ? null : replica.poolMax === 0 ? 1 : 0));
  perReplica('replica_pubsub_connected', (replica) => (replica.up ? replica.pubsubConnected : null));

  // As PostgreSQL sees each replica (the model's footprints): absent where it cannot tell.
  const perFootprint = (family: PerReplicaFamily, value: (footprint: ReplicaFootprint & { extra: number }) => number | null) =>
    gauge(family, (set, r) => {
      for (const footprint of r.capacity?.replicaFootprints ?? []) {
        const v = value(footprint);
        if (v !== null) set({ replica: footprint.replica }, v);
      }
    });
  perFootprint('replica_backends', (footprint) => footprint.backends);
  perFootprint('replica_outside_pool_connections', (footprint) => footprint.outsidePool);
  perFootprint('replica_extra_connections', (footprint) => footprint.extra);

  gauge('replica_database_latency_seconds', (set, r) => {
    for (const row of r.snapshot.postgres?.replicaRows ?? []) set({ hostname: row.hostname }, row.databaseLatencySeconds);
  });
}
