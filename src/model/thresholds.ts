// Every threshold a view, a finding, an alert or a dashboard colour compares with, in one
// table. The alert rules (YAML) and the Grafana dashboard cannot import it; a test
// (test/unit/thresholds.test.ts) reads both and fails when they drift from this table.

export const thresholds = {
  /** U / A above this: CoderPostgresConnectionsHigh (warning), yellow on the dashboard. */
  utilizationWarning: 0.8,
  /** U / A above this: CoderPostgresConnectionsHigh (critical), red on the dashboard. */
  utilizationCritical: 0.9,
  /** A poll round trip above this is slow: CoderPostgresLatencyHigh. */
  roundTripSeconds: 0.01,
  /** A Coder session idle in a transaction for longer than this: CoderPostgresIdleInTransaction, a warning finding. */
  idleInTransactionSeconds: 60,
  /** pg_notification_queue_usage() above this: CoderPostgresNotifyQueueFilling (warning); coder/observability warns at 0.5 too. */
  notifyQueueWarning: 0.5,
  /** ... and above this (critical): NOTIFY fails once the queue is full, and Coder's pubsub with it. */
  notifyQueueCritical: 0.9,
  /**
   * A replica closing more connections a second than this, all reasons together:
   * CoderDatabasePoolChurn, a warning finding. One reopen every 10 s per replica is noise
   * (a pool recycling connections by lifetime closes far fewer); sustained above it, the
   * pool's idle cap is below its working set.
   */
  poolChurnClosesPerSecond: 0.1,
} as const;
