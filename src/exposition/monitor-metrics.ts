// The monitor itself: how each source fared (source_up, poll_duration_seconds and
// poll_errors_total per source, discovery included, as postgres_exporter's
// collector_success), the poll statement's round trip, the last success, and the build.

import client from 'prom-client';
import type { PollResult } from '../model/poll-result.js';
import { PREFIX, type SnapshotGauges } from './snapshot-gauges.js';

/** Counts and observes one poll as it lands. */
export type RecordPoll = (result: PollResult) => void;

export function registerMonitorMetrics(registry: client.Registry, { gauge }: SnapshotGauges, sourceNames: readonly string[], version: string): RecordPoll {
  gauge('source_up', 'Whether everything a source asked in the last poll answered (postgres, discovery, coder, ...).', ['source'], (set, r) => {
    for (const report of r.sources) set({ source: report.source }, report.up ? 1 : 0);
  });
  const roundTrip = new client.Histogram({
    name: `${PREFIX}postgres_round_trip_seconds`,
    help: "Wall time of the monitor's poll statement: the round trip between this process and PostgreSQL.",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const lastSuccess = new client.Gauge({
    name: `${PREFIX}last_poll_success_timestamp_seconds`,
    help: 'When PostgreSQL was last polled successfully (Unix time).',
    registers: [registry],
  });
  const duration = new client.Gauge({
    name: `${PREFIX}poll_duration_seconds`,
    help: 'Wall time of the last poll, by source (discovery: resolving the targets; coder: scraping them).',
    labelNames: ['source'],
    registers: [registry],
  });
  const errors = new client.Counter({
    name: `${PREFIX}poll_errors_total`,
    help: 'Failures by source: postgres, one per failed poll; coder, one per failing replica; discovery, one per name that did not resolve; pgbouncer, one per instance that could not be read (or dns+ name that found none).',
    labelNames: ['source'],
    registers: [registry],
  });
  // Every source's counter exists from the start, so rate() sees its first failure.
  for (const source of sourceNames) errors.inc({ source }, 0);
  new client.Gauge({
    name: `${PREFIX}build_info`,
    help: 'Always 1; the version label says which build runs.',
    labelNames: ['version'],
    registers: [registry],
  }).set({ version }, 1);

  return (result) => {
    if (result.roundTripSeconds !== null) roundTrip.observe(result.roundTripSeconds);
    if (result.snapshot.postgres) lastSuccess.set(result.completedAt / 1000);
    for (const report of result.sources) {
      duration.set({ source: report.source }, report.seconds);
      if (report.errors.length > 0) errors.inc({ source: report.source }, report.errors.length);
    }
  };
}
