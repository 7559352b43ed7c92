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
} as const;
