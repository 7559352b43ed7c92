// The monitor itself: how each source fared (source_up, poll_duration_seconds and
// poll_errors_total per source, discovery included, as postgres_exporter's
// collector_success), the poll statement's round trip, the last success, and the build.

import client from 'prom-client';
import type { PollResult } from '../model/poll-result.js';
import { metricFamilies, metricName, type FamilyName } from '../contract/metrics.js';
import type { SnapshotGauges } from './snapshot-gauges.js';

/** A family's name, help and label names as prom-client takes them. */
function declared(family: FamilyName): { name: string; help: string; labelNames: string[] } {
  const { help, labels } = metricFamilies[family];
  return { name: metricName(family), help, labelNames: [...labels] };
}

/** Counts and observes one poll as it lands. */
export type RecordPoll = (result: PollResult) => void;

export function registerMonitorMetrics(registry: client.Registry, { gauge }: SnapshotGauges, sourceNames: readonly string[], version: string): RecordPoll {
  gauge('source_up', (set, r) => {
    for (const report of r.sources) set({ source: report.source }, report.up ? 1 : 0);
  });
  const roundTrip = new client.Histogram({
    ...declared('postgres_round_trip_seconds'),
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const lastSuccess = new client.Gauge({
    ...declared('last_poll_success_timestamp_seconds'),
    registers: [registry],
  });
  const duration = new client.Gauge({
    ...declared('poll_duration_seconds'),
    registers: [registry],
  });
  const errors = new client.Counter({
    ...declared('poll_errors_total'),
    registers: [registry],
  });
  // Every source's counter exists from the start, so rate() sees its first failure.
  for (const source of sourceNames) errors.inc({ source }, 0);
  new client.Gauge({
    ...declared('build_info'),
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
