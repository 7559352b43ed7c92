// Each Coder replica's pool as its go_sql_* metrics said it (the counters mirrored as
// counters), what PostgreSQL sees it hold, and its own latency as Coder's replicas table
// says it; one series per replica, and a replica gone from discovery leaves no series.

import type { FamilyName, LabelOf } from '../contract/metrics.js';
import type { PollResult } from '../model/poll-result.js';
import type { SnapshotGauges } from './snapshot-gauges.js';

/** Families labelled by replica alone. */
type PerReplicaFamily = { [F in FamilyName]: [LabelOf<F>] extends ['replica'] ? F : never }[FamilyName];

export function registerReplicaMetrics({ gauge }: SnapshotGauges): void {
  /** A family with one series per entry `entries` gives for the latest poll: a scraped replica, or a footprint. */
  const perReplica = <T extends { replica: string }>(family: PerReplicaFamily, entries: (r: PollResult) => readonly T[], value: (entry: T) => number | null) =>
    gauge(family, (set, r) => {
      for (const entry of entries(r)) {
        const v = value(entry);
        if (v !== null) set({ replica: entry.replica }, v);
      }
    });
  const scraped = (r: PollResult) => r.snapshot.replicas;
  // As PostgreSQL sees each replica (the model's footprints): absent where it cannot tell.
  const footprints = (r: PollResult) => r.capacity?.replicaFootprints ?? [];

  perReplica('replica_up', scraped, (replica) => (replica.up ? 1 : 0));
  perReplica('replica_pool_max_connections', scraped, (replica) => replica.poolMax);
  perReplica('replica_open_connections', scraped, (replica) => replica.open);
  perReplica('replica_in_use_connections', scraped, (replica) => replica.inUse);
  perReplica('replica_idle_connections', scraped, (replica) => replica.idle);
  perReplica('replica_wait_count_total', scraped, (replica) => replica.waitCount);
  perReplica('replica_wait_duration_seconds_total', scraped, (replica) => replica.waitDurationSeconds);
  perReplica('replica_scrape_bytes', scraped, (replica) => replica.scrapeBytes);
  perReplica('replica_pool_unbounded', scraped, (replica) => (replica.poolMax === null ? null : replica.poolMax === 0 ? 1 : 0));
  perReplica('replica_pubsub_connected', scraped, (replica) => (replica.up ? replica.pubsubConnected : null));
  perReplica('replica_backends', footprints, (footprint) => footprint.backends);
  perReplica('replica_outside_pool_connections', footprints, (footprint) => footprint.outsidePool);
  perReplica('replica_extra_connections', footprints, (footprint) => footprint.extra);

  gauge('replica_database_latency_seconds', (set, r) => {
    for (const row of r.snapshot.postgres?.replicaRows ?? []) set({ hostname: row.hostname }, row.databaseLatencySeconds);
  });
}
