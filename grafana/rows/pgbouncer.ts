// The PgBouncer row: the pooler between Coder and PostgreSQL (--pgbouncer.url), its limits
// against Coder's budget and who waits in it; empty without one.

import * as common from '@grafana/grafana-foundation-sdk/common';
import { FieldColorBuilder, FieldColorModeId, MappingType, type ValueMapping } from '@grafana/grafana-foundation-sdk/dashboard';
import { m, maxOfMonitors, minOfMonitors, query, referenceLine, runbook, stat, steps, timeseries, upDown, type Row } from '../panels.js';

const sessionMode: ValueMapping[] = [
  { type: MappingType.ValueToText, options: { '0': { text: 'not session', color: 'red', index: 0 }, '1': { text: 'session', color: 'green', index: 1 } } },
];

export function pgbouncerRow(): Row {
  return {
    title: 'PgBouncer',
    panels: [
      stat(
        'PgBouncer instances',
        'Each PgBouncer admin console of --pgbouncer.url (a dns+ name: each address) and whether its last poll answered. ' +
          `While one is down the pooler's sums, the budget on PostgreSQL and the budget headroom are empty, not partial (${runbook('coderpostgrescapacityblind-pgbouncer_unreadable', 'pgbouncer_unreadable')}).`,
      )
        .withTarget(query('A', minOfMonitors(m('pgbouncer_up')), '{{pgbouncer}}'))
        .mappings(upDown)
        .thresholds(steps('red', [1, 'green']))
        .graphMode(common.BigValueGraphMode.None)
        .span(5),
      stat(
        "Coder's pool mode",
        "Whether Coder's pool runs in session mode on every PgBouncer instance. Coder's pubsub LISTEN goes through PgBouncer too and stops receiving in transaction or statement mode: " +
          runbook('coderpgbouncernotsessionmode', 'CoderPgbouncerNotSessionMode') +
          '.',
      )
        .withTarget(query('A', minOfMonitors(m('pgbouncer_pool_mode_session')), 'pool mode'))
        .mappings(sessionMode)
        .thresholds(steps('red', [1, 'green']))
        .graphMode(common.BigValueGraphMode.None)
        .span(4),
      stat(
        'PgBouncer client headroom',
        "max_client_conn (all instances) - PgBouncer's other clients - Coder's budget, steady and in a rollout. Below 0 PgBouncer refuses Coder's connections once its pools fill: " +
          `raise max_client_conn (${runbook('coderpgbouncerclientsovercommitted', 'CoderPgbouncerClientsOvercommitted')}).`,
      )
        .withTarget(query('A', minOfMonitors(m('pgbouncer_client_headroom_connections')), '{{phase}}'))
        .thresholds(steps('red', [0, 'green']))
        .colorMode(common.BigValueColorMode.Background)
        .span(5),
      stat(
        'Would queue in PgBouncer',
        "Coder's budget beyond the server cap of its pool (pool_size + reserve_pool, bounded by max_db_connections and max_user_connections): connections that would wait in PgBouncer instead of reaching PostgreSQL. " +
          `check names the pool_size that fits (${runbook('coderpgbouncerservercapexceeded', 'CoderPgbouncerServerCapExceeded')}).`,
      )
        .withTarget(query('A', maxOfMonitors(m('pgbouncer_queued_connections')), '{{phase}}'))
        .thresholds(steps('green', [1, 'orange']))
        .span(5),
      stat(
        'Budget on PostgreSQL',
        "What Coder may open on PostgreSQL: its budget, or behind PgBouncer min(budget, server cap). Budget headroom is measured with it; without a pooler it equals Coder's budget. " +
          `Over what PostgreSQL leaves for Coder: ${runbook('coderpostgresbudgetovercommitted', 'CoderPostgresBudgetOvercommitted')}.`,
      )
        .withTarget(query('A', maxOfMonitors(m('postgres_budget_connections')), '{{phase}}'))
        .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Fixed).fixedColor('blue'))
        .span(5),
      timeseries(
        "Coder's budget against PgBouncer's limits",
        "Coder's budget (steady, rollout) against PgBouncer's server cap for Coder's pool (what may reach PostgreSQL) and its client capacity (max_client_conn, all instances). " +
          'A budget above the cap queues in PgBouncer; above the client capacity less its other clients, PgBouncer refuses. ' +
          `The pool_size that fits: ${runbook('coderpgbouncerservercapexceeded', 'CoderPgbouncerServerCapExceeded')}.`,
      )
        .withTarget(query('A', maxOfMonitors(m('coder_budget_connections')), 'Coder budget {{phase}}'))
        .withTarget(query('B', minOfMonitors(m('pgbouncer_server_connections_cap')), 'server cap'))
        .withTarget(query('C', minOfMonitors(m('pgbouncer_client_connections_limit')), 'client capacity'))
        .withTarget(query('D', maxOfMonitors(m('postgres_budget_connections')), 'budget on PostgreSQL {{phase}}'))
        .overrideByQuery('B', referenceLine('red', false))
        .overrideByQuery('C', referenceLine('orange', true))
        .lineInterpolation(common.LineInterpolation.StepAfter)
        .min(0)
        .decimals(0)
        .span(12),
      timeseries(
        'Waiting in PgBouncer',
        "Coder's clients waiting in PgBouncer for a server connection (cl_waiting, all instances) and the oldest wait (maxwait, right axis). Waiting for 5 minutes fires " +
          `${runbook('coderpgbouncerclientswaiting', 'CoderPgbouncerClientsWaiting')}: the server cap of Coder's pool is all in use.`,
      )
        .withTarget(query('A', maxOfMonitors(m('pgbouncer_clients_waiting')), 'clients waiting'))
        .withTarget(query('B', maxOfMonitors(m('pgbouncer_max_wait_seconds')), 'oldest wait'))
        .overrideByQuery('B', [
          { id: 'unit', value: 's' },
          { id: 'custom.axisPlacement', value: common.AxisPlacement.Right },
        ])
        .min(0)
        .span(12),
    ],
  };
}
