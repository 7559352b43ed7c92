// The Budget composition row: where max_connections goes, reserved slots, other clients,
// Coder, Coder's budget not yet open and free. Every band is the daemon's own
// slots_connections{part}, so the status page's slot bar draws the same numbers.

import * as common from '@grafana/grafana-foundation-sdk/common';
import { fixedColor, m, maxOfMonitors, query, referenceLine, runbook, tableLegend, timeseries, type Row } from '../panels.js';

const slotPart = (refId: string, part: string, legend: string) => query(refId, maxOfMonitors(m('slots_connections', `part="${part}"`)), legend);

export function budgetCompositionRow(): Row {
  return {
    title: 'Budget composition',
    panels: [
      timeseries(
        'Budget composition',
        'max_connections split, bottom to top: superuser reserved (S), reserved_connections (R, PG 16+), provider reserved (V), other applications (the monitor included), other applications\' declared pools not yet open (--other.budget), ' +
          "Coder active and Coder idle (PostgreSQL's state of Coder's connections: idle includes idle pooled, the pubsub LISTEN connections and idle in transaction), Coder budget not yet open (what the pools may still open), free, and overcommit (the steady budget past the last slot, red). " +
          'When the stack rises above the max_connections line, Coder is overcommitted by the red band. A band that is missing is one the monitor cannot know (see its blind reasons). ' +
          `Shrink the largest band you control: other applications (Q1), Coder's budget (${runbook('1-lower-coder_pg_conn_max_open', 'fix 1')}), or add slots (${runbook('2-raise-max_connections', 'fix 2')}).`,
      )
        .withTarget(slotPart('A', 'superuser_reserved', 'superuser reserved'))
        .withTarget(slotPart('B', 'reserved', 'reserved_connections'))
        .withTarget(slotPart('C', 'provider', 'provider reserved'))
        .withTarget(slotPart('D', 'other', 'other applications'))
        .withTarget(slotPart('K', 'other_unopened', 'other applications, declared not yet open'))
        .withTarget(slotPart('E', 'coder_active', 'Coder active'))
        .withTarget(slotPart('F', 'coder_idle', 'Coder idle'))
        .withTarget(slotPart('G', 'coder_unopened', 'Coder budget not yet open'))
        .withTarget(slotPart('H', 'free', 'free'))
        .withTarget(slotPart('J', 'overcommit', 'overcommit (steady)'))
        .withTarget(query('I', maxOfMonitors(m('max_connections')), 'max_connections'))
        .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal).group('A'))
        .fillOpacity(70)
        .lineInterpolation(common.LineInterpolation.StepAfter)
        .legend(tableLegend())
        .min(0)
        .decimals(0)
        .overrideByQuery('A', [fixedColor('dark-purple')])
        .overrideByQuery('B', [fixedColor('purple')])
        .overrideByQuery('C', [fixedColor('super-light-purple')])
        .overrideByQuery('D', [fixedColor('orange')])
        .overrideByQuery('K', [fixedColor('light-orange')])
        .overrideByQuery('E', [fixedColor('dark-blue')])
        .overrideByQuery('F', [fixedColor('blue')])
        .overrideByQuery('G', [fixedColor('super-light-blue')])
        .overrideByQuery('H', [fixedColor('green')])
        .overrideByQuery('J', [fixedColor('red')])
        .overrideByQuery('I', referenceLine('dark-red', false))
        .span(24)
        .height(10),
    ],
  };
}
