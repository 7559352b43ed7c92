// The Overview row: the figures the alerts fire on, coloured as the alerts are.

import * as common from '@grafana/grafana-foundation-sdk/common';
import { FieldColorBuilder, FieldColorModeId } from '@grafana/grafana-foundation-sdk/dashboard';
import { thresholds } from '../../src/model/thresholds.js';
import { m, maxOfMonitors, minOfMonitors, query, runbook, stat, steps, upDown, type Row } from '../panels.js';

export function overviewRow(): Row {
  return {
    title: 'Overview',
    panels: [
      stat(
        'Budget headroom',
        'Slots left for Coder after its budget (every replica at its pool max + 1, plus the surge pods in a rollout): A - other connections - budget. ' +
          'Below 0 the replicas may open more connections than PostgreSQL allows once their pools fill: steady (red) pages as CoderPostgresBudgetOvercommitted, rollout (orange) warns as CoderPostgresRolloutOvercommitted. ' +
          `Lower CODER_PG_CONN_MAX_OPEN to the recommended pool max, or raise max_connections: ${runbook('coderpostgresbudgetovercommitted')}. -Inf means an unbounded pool (${runbook('coderdatabasepoolunbounded', 'CoderDatabasePoolUnbounded')}).`,
      )
        .withTarget(query('A', minOfMonitors(m('budget_headroom_connections')), '{{phase}}'))
        .thresholds(steps('red', [0, 'green']))
        .overrideByName('rollout', [{ id: 'thresholds', value: steps('orange', [0, 'green']).build() }])
        .colorMode(common.BigValueColorMode.Background)
        .span(5),
      stat(
        'Live headroom',
        `Slots free right now: A - U. At 0 new connections fail with "too many clients" (CoderPostgresConnectionsExhausted): find who holds them with Q1 and free slots first, ${runbook('coderpostgresconnectionsexhausted')}.`,
      )
        .withTarget(query('A', minOfMonitors(m('headroom_connections')), 'headroom'))
        .thresholds(steps('red', [1, 'green']))
        .span(3),
      stat(
        'Utilization',
        `Connections in use over the slots an ordinary role can use (U / A). Yellow above ${thresholds.utilizationWarning * 100}% and red above ${thresholds.utilizationCritical * 100}%, as CoderPostgresConnectionsHigh: ${runbook('coderpostgresconnectionshigh')}.`,
      )
        .withTarget(query('A', maxOfMonitors(m('utilization_ratio')), 'utilization'))
        .unit('percentunit')
        .decimals(1)
        .min(0)
        .max(1)
        .thresholds(steps('green', [thresholds.utilizationWarning, 'yellow'], [thresholds.utilizationCritical, 'red']))
        .span(3),
      stat(
        'Replicas: observed / planned',
        'Coder replicas the monitor discovers (up or not) and the count it plans for (max of observed and --coder.replicas, e.g. the HPA maximum). ' +
          `Fewer observed than you run: check --coder.targets (${runbook('coderreplicametricsdown', 'CoderReplicaMetricsDown')}). More planned than "Max safe replicas": the budget does not fit.`,
      )
        .withTarget(query('A', maxOfMonitors(m('replicas')), '{{count}}'))
        .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Fixed).fixedColor('blue'))
        .span(4),
      stat(
        'Recommended pool max',
        `The largest CODER_PG_CONN_MAX_OPEN that fits a rolling update with the safety margin kept. Set it (or lower) in Coder's Helm values: ${runbook('1-lower-coder_pg_conn_max_open', 'fix 1')}. ` +
          `0 (red): no pool size fits, raise max_connections (${runbook('2-raise-max_connections', 'fix 2')}) or run fewer replicas.`,
      )
        .withTarget(query('A', minOfMonitors(m('recommended_pool_max_connections')), 'pool max'))
        .thresholds(steps('red', [1, 'green']))
        .span(3),
      stat(
        'Max safe replicas',
        `Replicas that fit at today's largest pool max, steady, with the safety margin kept. Below the planned replicas: lower the pool max or cap the HPA (${runbook('4-cap-the-replica-count-hpa', 'fix 4')}); do not scale Coder up to fix a connection alert.`,
      )
        .withTarget(query('A', minOfMonitors(m('max_safe_replicas')), 'replicas'))
        .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Fixed).fixedColor('blue'))
        .span(3),
      stat(
        'PostgreSQL reachable',
        `Whether the monitor's last poll of PostgreSQL succeeded. While it is down every capacity figure on this dashboard is empty, never frozen: ${runbook('coderpostgrescapacitymonitordown', 'CoderPostgresCapacityMonitorDown')}.`,
      )
        .withTarget(query('A', maxOfMonitors(m('postgres_up')), 'postgres_up'))
        .mappings(upDown)
        .thresholds(steps('red', [1, 'green']))
        .graphMode(common.BigValueGraphMode.None)
        .span(3),
    ],
  };
}
