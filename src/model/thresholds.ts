// Every threshold a view, a finding, an alert or a dashboard colour compares with, in one
// table with what it means: the findings and views import `thresholds`, the alert rules
// and the dashboard are generated from it (npm run generate), and so is the table in
// docs/runbooks.md. Change a number here, run npm run generate, and every place follows.

export interface Threshold {
  value: number;
  /** How the value reads in the docs: '0.8', '10 ms', '1 h'. */
  shown: string;
  meaning: string;
  /** The alert (or dashboard) that compares with it. */
  usedBy: string;
}

export const thresholdTable = {
  utilizationWarning: { value: 0.8, shown: '0.8', meaning: 'utilization U/A, warning; yellow on the dashboard', usedBy: 'CoderPostgresConnectionsHigh (warning)' },
  utilizationCritical: { value: 0.9, shown: '0.9', meaning: 'utilization U/A, critical; red on the dashboard', usedBy: 'CoderPostgresConnectionsHigh (critical)' },
  forecastWindowHours: { value: 1, shown: '1 h', meaning: 'the trend window of used connections', usedBy: 'CoderPostgresConnectionsForecast' },
  forecastHorizonHours: { value: 4, shown: '4 h', meaning: 'how far ahead the trend is extended', usedBy: 'CoderPostgresConnectionsForecast' },
  connectionLimitRatio: { value: 0.9, shown: '0.9', meaning: "connections of Coder's role (database) over its rolconnlimit (datconnlimit)", usedBy: 'CoderPostgresRoleLimitNear' },
  roundTripSeconds: { value: 0.01, shown: '10 ms', meaning: 'p90 round trip from the monitor to PostgreSQL (an empty statement); slow above it', usedBy: 'CoderPostgresLatencyHigh' },
  replicaDatabaseLatencySeconds: {
    value: 0.01,
    shown: '10 ms',
    meaning: "a replica's own round trip to PostgreSQL (Coder's replicas table); Coder's validated architectures ask for under 10 ms, its health check warns at 15 ms",
    usedBy: 'CoderReplicaDatabaseLatencyHigh',
  },
  idleInTransactionSeconds: { value: 60, shown: '60 s', meaning: 'a Coder session idle in a transaction for longer is a warning finding', usedBy: 'CoderPostgresIdleInTransaction' },
  notifyQueueWarning: { value: 0.5, shown: '0.5', meaning: 'pg_notification_queue_usage(), warning (coder/observability warns at 0.5 too)', usedBy: 'CoderPostgresNotifyQueueFilling (warning)' },
  notifyQueueCritical: { value: 0.9, shown: '0.9', meaning: 'pg_notification_queue_usage(), critical: NOTIFY fails once the queue is full, and Coder\'s pubsub with it', usedBy: 'CoderPostgresNotifyQueueFilling (critical)' },
  // One reopen every 10 s per replica is noise (a pool recycling connections by lifetime
  // closes far fewer); sustained above it, the pool's idle cap is below its working set.
  poolChurnClosesPerSecond: { value: 0.1, shown: '0.1 /s', meaning: "connections a replica's pool closes a second, all reasons together", usedBy: 'CoderDatabasePoolChurn' },
  neededPoolMaxDays: { value: 7, shown: '7 d', meaning: 'the long view of the needed pool max, kept by Prometheus', usedBy: 'the recording rule job:coder_pg_capacity_needed_pool_max_connections:max_over_time<days>d' },
} as const satisfies Record<string, Threshold>;

export type ThresholdName = keyof typeof thresholdTable;

/** Each threshold's value, for the code that compares with it. */
export const thresholds = Object.fromEntries(Object.entries(thresholdTable).map(([name, { value }]) => [name, value])) as {
  readonly [N in ThresholdName]: (typeof thresholdTable)[N]['value'];
};
