// The PostgreSQL round trip row: each monitor's poll latency, the round trip every one of
// Coder's queries pays when the monitor runs beside it.

import * as common from '@grafana/grafana-foundation-sdk/common';
import { thresholds } from '../../src/model/thresholds.js';
import { m, query, runbook, steps, timeseries, type Row } from '../panels.js';

// Per monitor on purpose: each series is one monitor's histogram, so no aggregation, as
// CoderPostgresLatencyHigh takes each monitor's quantile before the worst of them.
const quantile = (q: number) => `histogram_quantile(${q}, rate(${m('postgres_round_trip_seconds', '', '_bucket')}[$__rate_interval]))`;

export function roundTripRow(): Row {
  return {
    title: 'PostgreSQL round trip',
    panels: [
      timeseries(
        'Poll round trip',
        "Wall time of the monitor's poll statement, p50 / p90 / p99 per monitor: close to the round trip every one of Coder's queries pays. " +
          `The dashed line is the ${thresholds.roundTripSeconds * 1000} ms at which CoderPostgresLatencyHigh fires on p90: move Coder and PostgreSQL into one zone (${runbook('coderpostgreslatencyhigh', 'CoderPostgresLatencyHigh')}).`,
      )
        .withTarget(query('A', quantile(0.5), 'p50 {{instance}}'))
        .withTarget(query('B', quantile(0.9), 'p90 {{instance}}'))
        .withTarget(query('C', quantile(0.99), 'p99 {{instance}}'))
        .unit('s')
        .min(0)
        .thresholds(steps('green', [thresholds.roundTripSeconds, 'red']))
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
        .span(24),
    ],
  };
}
