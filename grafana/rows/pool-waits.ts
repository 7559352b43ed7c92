// The Pool waits row: coderd's requests queueing for a connection of their own pool.

import type { FamilyName } from '../../src/contract/metrics.js';
import { m, maxOfMonitors, query, runbook, timeseries, type Row } from '../panels.js';

const perSecond = (family: FamilyName) => maxOfMonitors(`rate(${m(family)}[$__rate_interval])`);

export function poolWaitsRow(): Row {
  return {
    title: 'Pool waits',
    panels: [
      timeseries(
        'Waits for a connection',
        'How often each replica waited for a free pool connection (rate of go_sql_wait_count_total). Any sustained rate means requests queue inside coderd. ' +
          `Slow queries or latency first, then a larger pool only if the budget allows it: ${runbook('coderdatabasepoolsaturated', 'CoderDatabasePoolSaturated')}.`,
      )
        .withTarget(query('A', perSecond('replica_wait_count_total'), '{{replica}}'))
        .axisLabel('waits / s')
        .min(0)
        .span(12),
      timeseries(
        'Time spent waiting',
        'Seconds each replica spent waiting for a pool connection, per second (rate of go_sql_wait_duration_seconds_total): 0.5 means on average half a request is always queued. ' +
          `Read with the panel beside it: ${runbook('coderdatabasepoolsaturated', 'CoderDatabasePoolSaturated')}.`,
      )
        .withTarget(query('A', perSecond('replica_wait_duration_seconds_total'), '{{replica}}'))
        .unit('s')
        .axisLabel('waited per second')
        .min(0)
        .span(12),
    ],
  };
}
