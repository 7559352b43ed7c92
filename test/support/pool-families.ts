// The families the extractor reads and the field each fills, written out independently of
// src/sources/pool-metrics-parser.ts so that tests check the extractor against the
// contract rather than against its own table.

import { poolCloseReasons, type PoolCloseReason } from '../../src/model/pool-closes.js';
import type { PoolMetricField, PoolMetrics } from '../../src/sources/pool-metrics-parser.js';

export const POOL_FAMILIES: ReadonlyArray<readonly [string, PoolMetricField]> = [
  ['go_sql_max_open_connections', 'maxOpen'],
  ['go_sql_open_connections', 'open'],
  ['go_sql_in_use_connections', 'inUse'],
  ['go_sql_idle_connections', 'idle'],
  ['go_sql_wait_count_total', 'waitCount'],
  ['go_sql_wait_duration_seconds_total', 'waitDurationSeconds'],
  ['coder_pubsub_connected', 'pubsubConnected'],
  ['go_sql_max_idle_closed_total', 'max_idle'],
  ['go_sql_max_idle_time_closed_total', 'max_idle_time'],
  ['go_sql_max_lifetime_closed_total', 'max_lifetime'],
];

/** True when the field is a close reason, whose figure lives in PoolMetrics.closed. */
export function isCloseReason(field: PoolMetricField): field is PoolCloseReason {
  return (poolCloseReasons as readonly string[]).includes(field);
}

/** The figure a field names in the extractor's result. */
export function poolMetric(metrics: PoolMetrics, field: PoolMetricField): number | null {
  return isCloseReason(field) ? metrics.closed[field] : metrics[field];
}
