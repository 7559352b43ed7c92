// The families the extractor reads and the field each fills, written out independently of
// src/sources/pool-metrics-parser.ts so that tests check the extractor against the
// contract rather than against its own table.

import type { PoolMetrics } from '../../src/sources/pool-metrics-parser.js';

export const POOL_FAMILIES: ReadonlyArray<readonly [string, keyof PoolMetrics]> = [
  ['go_sql_max_open_connections', 'maxOpen'],
  ['go_sql_open_connections', 'open'],
  ['go_sql_in_use_connections', 'inUse'],
  ['go_sql_idle_connections', 'idle'],
  ['go_sql_wait_count_total', 'waitCount'],
  ['go_sql_wait_duration_seconds_total', 'waitDurationSeconds'],
  ['coder_pubsub_connected', 'pubsubConnected'],
  ['go_sql_max_idle_closed_total', 'maxIdleClosed'],
  ['go_sql_max_idle_time_closed_total', 'maxIdleTimeClosed'],
  ['go_sql_max_lifetime_closed_total', 'maxLifetimeClosed'],
];
