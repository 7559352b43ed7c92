// The Connections row: what PostgreSQL holds over time, by owner and state, against the
// slots, the safety-margin line and the worst case of every pool full.

import * as common from '@grafana/grafana-foundation-sdk/common';
import { m, maxOfMonitors, minOfMonitors, query, referenceLine, runbook, tableLegend, timeseries, type Row } from '../panels.js';

export function connectionsRow(): Row {
  return {
    title: 'Connections',
    panels: [
      timeseries(
        'Connections by owner and state',
        "Client backends PostgreSQL holds, stacked by owner (coder, other, monitor) and state, against available slots A (red), the safety-margin line Am = floor(A × (1 - --capacity.safety-margin)) " +
          "(yellow, as the daemon computes it with the margin it runs) " +
          'and the worst case other + Coder budget (orange dashed: every pool full). The stack above yellow: the spare margin is gone; orange above red: overcommitted. ' +
          `Find the holders with Q1 of the ${runbook('before-you-start')}; "unknown" states mean the monitor lacks pg_monitor.`,
      )
        .withTarget(query('A', maxOfMonitors(`sum without (database, role, application) (${m('connections')})`), '{{owner}} {{state}}'))
        .withTarget(query('B', minOfMonitors(m('available_connections')), 'available (A)'))
        .withTarget(query('C', minOfMonitors(m('margin_capacity_connections')), 'safety margin (Am)'))
        // The budget on PostgreSQL: Coder's budget, or behind PgBouncer what its server cap
        // lets through. Its `phase` label is the only one the other side lacks.
        .withTarget(
          query('D', `${maxOfMonitors(m('other_connections'))} + ignoring (phase) ${maxOfMonitors(m('postgres_budget_connections', 'phase="steady"'))}`, 'other + Coder budget (steady)'),
        )
        .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal).group('A'))
        .fillOpacity(40)
        .lineInterpolation(common.LineInterpolation.StepAfter)
        .legend(tableLegend())
        .min(0)
        .decimals(0)
        .overrideByQuery('B', referenceLine('red', false))
        .overrideByQuery('C', referenceLine('yellow', true))
        .overrideByQuery('D', referenceLine('orange', true))
        .span(24)
        .height(10),
    ],
  };
}
