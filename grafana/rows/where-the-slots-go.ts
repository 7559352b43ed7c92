// The "Where the slots go" row: slots held without work, connections the pools close and
// reopen, and the pool max Coder needs against the one that fits.

import * as common from '@grafana/grafana-foundation-sdk/common';
import { thresholds } from '../../src/model/thresholds.js';
import { m, maxOfMonitors, minOfMonitors, query, referenceLine, runbook, steps, timeseries, type Row } from '../panels.js';

export function whereTheSlotsGoRow(): Row {
  return {
    title: 'Where the slots go',
    panels: [
      timeseries(
        'Oldest transaction left idle',
        "The oldest session idle in a transaction, per owner (coder, other, monitor): it holds a slot and its locks while doing nothing, and VACUUM cannot clean past it. Empty while no session is idle in a transaction. " +
          `Past the dashed line (${thresholds.idleInTransactionSeconds} s) CoderPostgresIdleInTransaction fires for Coder's: find the session and what left it open (${runbook('coderpostgresidleintransaction', 'CoderPostgresIdleInTransaction')}).`,
      )
        .withTarget(query('A', maxOfMonitors(m('oldest_idle_in_transaction_seconds')), '{{owner}}'))
        .unit('s')
        .min(0)
        .thresholds(steps('green', [thresholds.idleInTransactionSeconds, 'red']))
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
        .span(6),
      timeseries(
        'NOTIFY queue in use',
        "pg_notification_queue_usage(): the share of PostgreSQL's NOTIFY queue in use. Coder's pubsub rides on it; a session that LISTENs and stops reading holds it, and once it is full every NOTIFY fails, Coder's included. " +
          `Dashed: ${thresholds.notifyQueueWarning * 100}% (warning) and ${thresholds.notifyQueueCritical * 100}% (critical) of ${runbook('coderpostgresnotifyqueuefilling', 'CoderPostgresNotifyQueueFilling')}.`,
      )
        .withTarget(query('A', maxOfMonitors(m('notify_queue_usage_ratio')), 'queue in use'))
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(steps('green', [thresholds.notifyQueueWarning, 'orange'], [thresholds.notifyQueueCritical, 'red']))
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
        .span(6),
      timeseries(
        'Connections closed by the pools',
        "Connections Coder's pools closed each second, all replicas together, by reason (go_sql_max_idle_closed_total and its kin): each one is reopened later as a new PostgreSQL backend, with its fork and authentication. " +
          `A steady max_idle rate means CODER_PG_CONN_MAX_IDLE is below the working set; CoderDatabasePoolChurn fires when one replica closes more than ${thresholds.poolChurnClosesPerSecond} a second (${runbook('coderdatabasepoolchurn', 'CoderDatabasePoolChurn')}).`,
      )
        // Each monitor mirrors every replica: one reading per replica first, then their sum,
        // or N monitors would count each close N times.
        .withTarget(query('A', `sum without (replica) (${maxOfMonitors(`rate(${m('replica_closed_connections_total')}[$__rate_interval])`)})`, '{{reason}}'))
        .axisLabel('closes / s')
        .min(0)
        .span(6),
      timeseries(
        'Pool max: needed and what fits',
        "Needed: the largest per-replica peak of connections in use over --capacity.demand-window, plus one for a replica whose waits rose. Fits: the largest pool max a rolling update leaves room for, with the safety margin kept. " +
          `Set CODER_PG_CONN_MAX_OPEN between the two; needed above fits means no pool max does both: add slots or fewer replicas (${runbook('1-lower-coder_pg_conn_max_open', 'fix 1')}, ${runbook('2-raise-max_connections', 'fix 2')}).`,
      )
        .withTarget(query('A', maxOfMonitors(m('needed_pool_max_connections')), 'needed'))
        .withTarget(query('B', minOfMonitors(m('recommended_pool_max_connections')), 'fits'))
        .overrideByQuery('B', referenceLine('green', true))
        .decimals(0)
        .min(0)
        .span(6),
    ],
  };
}
