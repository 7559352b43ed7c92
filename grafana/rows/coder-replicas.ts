// The Coder replicas row: each replica's database/sql pool as its /metrics reports it, and
// what PostgreSQL sees it hold (its backends from its own address).

import * as common from '@grafana/grafana-foundation-sdk/common';
import { MappingType } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TablePanelBuilder } from '@grafana/grafana-foundation-sdk/table';
import type { FamilyName } from '../../src/contract/metrics.js';
import { datasource, m, maxOfMonitors, runbook, steps, tableQuery, upDown, type Row } from '../panels.js';

const perReplica = (family: FamilyName) => maxOfMonitors(m(family));

export function coderReplicasRow(): Row {
  return {
    title: 'Coder replicas',
    panels: [
      new TablePanelBuilder()
        .title('Replicas')
        .description(
          "Each Coder replica's database/sql pool as its /metrics reports it. up = down: its connections are still budgeted at its last pool max but count as unaccounted " +
            `(${runbook('coderreplicametricsdown', 'CoderReplicaMetricsDown')}). pool max "unbounded" (0): set CODER_PG_CONN_MAX_OPEN (${runbook('coderdatabasepoolunbounded', 'CoderDatabasePoolUnbounded')}). ` +
            `in use = pool max, or waits/s above 0: the pool is too small for its load (${runbook('coderdatabasepoolsaturated', 'CoderDatabasePoolSaturated')}). ` +
            'backends: its connections as PostgreSQL sees them, from its own address (empty where the address is shared or behind PgBouncer); outside pool: backends - open (the LISTEN, a sender); budgeted extra: what the budget gives it outside its pool. ' +
            `LISTEN 0: its pubsub is down (${runbook('coderreplicapubsubdown', 'CoderReplicaPubsubDown')}).`,
        )
        .datasource(datasource)
        .withTarget(tableQuery('A', perReplica('replica_up')))
        .withTarget(tableQuery('B', perReplica('replica_open_connections')))
        .withTarget(tableQuery('C', perReplica('replica_in_use_connections')))
        .withTarget(tableQuery('D', perReplica('replica_idle_connections')))
        .withTarget(tableQuery('E', perReplica('replica_pool_max_connections')))
        .withTarget(tableQuery('F', maxOfMonitors(`rate(${m('replica_wait_count_total')}[$__rate_interval])`)))
        .withTarget(tableQuery('G', perReplica('replica_backends')))
        .withTarget(tableQuery('H', perReplica('replica_outside_pool_connections')))
        .withTarget(tableQuery('I', perReplica('replica_extra_connections')))
        .withTarget(tableQuery('J', perReplica('replica_pubsub_connected')))
        .withTransformation({ id: 'merge', options: {} })
        .withTransformation({
          id: 'organize',
          options: {
            // job is the one the variable picked; cluster tells replicas apart when All are shown.
            excludeByName: { Time: true, job: true },
            indexByName: {
              cluster: 0,
              replica: 1,
              'Value #A': 2,
              'Value #B': 3,
              'Value #C': 4,
              'Value #D': 5,
              'Value #E': 6,
              'Value #F': 7,
              'Value #G': 8,
              'Value #H': 9,
              'Value #I': 10,
              'Value #J': 11,
            },
            renameByName: {
              'Value #A': 'up',
              'Value #B': 'open',
              'Value #C': 'in use',
              'Value #D': 'idle',
              'Value #E': 'pool max',
              'Value #F': 'waits/s',
              'Value #G': 'backends',
              'Value #H': 'outside pool',
              'Value #I': 'budgeted extra',
              'Value #J': 'LISTEN',
            },
          },
        })
        .sortBy([new common.TableSortByFieldStateBuilder().displayName('replica')])
        .decimals(0)
        .overrideByName('up', [
          { id: 'mappings', value: upDown },
          { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground } },
        ])
        .overrideByName('LISTEN', [
          { id: 'mappings', value: upDown },
          { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground } },
        ])
        .overrideByName('pool max', [{ id: 'mappings', value: [{ type: MappingType.ValueToText, options: { '0': { text: 'unbounded', color: 'red', index: 0 } } }] }])
        .overrideByName('waits/s', [
          { id: 'decimals', value: 2 },
          { id: 'thresholds', value: steps('text', [0.001, 'orange']).build() },
          { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorText } },
        ])
        .span(24)
        .height(8),
    ],
  };
}
