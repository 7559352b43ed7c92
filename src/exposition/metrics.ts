// The metric contract (prefix coder_pg_capacity_), built fresh from the latest poll at
// each scrape: a scrape never touches PostgreSQL or Coder, a replica that went away
// leaves no stale series, and while PostgreSQL is down the derived figures are absent,
// never frozen at their last value. One file per concern: PostgreSQL's own figures, the
// capacity model's, each replica's pool, and the monitor itself.

import client from 'prom-client';
import type { PollResult } from '../model/poll-result.js';
import { registerCapacityMetrics } from './capacity-metrics.js';
import { registerMonitorMetrics } from './monitor-metrics.js';
import { registerPostgresMetrics } from './postgres-metrics.js';
import { registerReplicaMetrics } from './replica-metrics.js';
import { snapshotGauges, type Latest } from './snapshot-gauges.js';

export interface CapacityMetrics {
  registry: client.Registry;
  /** Counts and observes one poll; the gauges read `latest()` at scrape time. */
  record(result: PollResult): void;
}

/** `sourceNames`: every report the sources give (postgres, discovery, coder, ...). */
export function createMetrics(latest: Latest, version: string, sourceNames: readonly string[] = ['postgres', 'discovery', 'coder']): CapacityMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const gauges = snapshotGauges(registry, latest);
  registerPostgresMetrics(gauges);
  registerCapacityMetrics(gauges);
  registerReplicaMetrics(gauges);
  const record = registerMonitorMetrics(registry, gauges, sourceNames, version);
  return { registry, record };
}
