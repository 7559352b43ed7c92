// The Grafana dashboard "Coder PostgreSQL capacity", as code. grafana/coder-pg-capacity.json
// is this module's output, committed so that operators can import it without Node;
// test/grafana/dashboard.test.ts fails when the two drift apart and regenerates the file
// with UPDATE_DASHBOARD=1.
//
// Every query reads the metric contract of src/exposition/metrics.ts through the
// dashboard's own Prometheus datasource variable (no datasource uid is hard-coded), and
// aggregates away `instance` and `pod` the way alerts/coder-pg-capacity.rules.yml does,
// so several monitors of one Coder (one sidecar per replica) draw one line, not N.

import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  FieldColorBuilder,
  FieldColorModeId,
  MappingType,
  PanelBuilder as GenericPanelBuilder,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DynamicConfigValue,
  type Threshold,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanelBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { DEFAULT_RUNBOOK_URL_BASE } from '../scripts/runbook-urls.mjs';
import { thresholds } from '../src/model/thresholds.js';

export const DASHBOARD_UID = 'coder-pg-capacity';
const PREFIX = 'coder_pg_capacity_';
// The runbooks the daemon serves at /runbooks, at the same base as the alert rules' links.
const RUNBOOKS = DEFAULT_RUNBOOK_URL_BASE;

/** Every panel and query goes through the dashboard's datasource variable. */
const datasource = { type: 'prometheus', uid: '${datasource}' };


/** A contract metric of the selected job and monitors, with more label matchers if given. */
function m(name: string, matchers = ''): string {
  return `${PREFIX}${name}{job="$job", instance=~"$instance"${matchers ? `, ${matchers}` : ''}}`;
}

function runbook(anchor: string, text = 'runbook'): string {
  return `[${text}](${RUNBOOKS}${anchor})`;
}

function query(refId: string, expr: string, legend: string): DataqueryBuilder {
  return new DataqueryBuilder().refId(refId).datasource(datasource).expr(expr).legendFormat(legend);
}

function tableQuery(refId: string, expr: string): DataqueryBuilder {
  return new DataqueryBuilder().refId(refId).datasource(datasource).expr(expr).instant().format(PromQueryFormat.Table);
}

/** Threshold steps: the base colour, then [from, colour] pairs (a step applies from its value up). */
function steps(base: string, ...rest: [number, string][]): ThresholdsConfigBuilder {
  const list: Threshold[] = [{ value: null, color: base }, ...rest.map(([value, color]) => ({ value, color }))];
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(list);
}

function fixedColor(color: string): DynamicConfigValue {
  return { id: 'color', value: { mode: FieldColorModeId.Fixed, fixedColor: color } };
}

/** Overrides that turn one series of a stacked panel into a plain reference line. */
function referenceLine(color: string, dash: boolean): DynamicConfigValue[] {
  return [
    fixedColor(color),
    { id: 'custom.stacking', value: { mode: common.StackingMode.None, group: 'A' } },
    { id: 'custom.fillOpacity', value: 0 },
    { id: 'custom.lineWidth', value: 2 },
    ...(dash ? [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }] : []),
  ];
}

const legend = () => new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom);
const tableLegend = () =>
  new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Right).calcs(['lastNotNull', 'max']);
const sharedTooltip = () => new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending);
const lastValue = () => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

function stat(title: string, description: string): StatPanelBuilder {
  return new StatPanelBuilder()
    .title(title)
    .description(description)
    .datasource(datasource)
    .height(5)
    .reduceOptions(lastValue())
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .textMode(common.BigValueTextMode.Auto)
    .decimals(0);
}

function timeseries(title: string, description: string): TimeseriesPanelBuilder {
  return new TimeseriesPanelBuilder()
    .title(title)
    .description(description)
    .datasource(datasource)
    .height(9)
    .legend(legend())
    .tooltip(sharedTooltip())
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never);
}

const upDown: ValueMapping[] = [
  { type: MappingType.ValueToText, options: { '0': { text: 'down', color: 'red', index: 0 }, '1': { text: 'up', color: 'green', index: 1 } } },
];

/** Panel ids in layout order, stable across regenerations. */
function numbered(dashboard: Dashboard): Dashboard {
  let id = 1;
  for (const panel of dashboard.panels ?? []) panel.id = id++;
  return dashboard;
}

export function buildDashboard(): Dashboard {
  const builder = new DashboardBuilder('Coder PostgreSQL capacity')
    .uid(DASHBOARD_UID)
    .description(
      "Will PostgreSQL run out of connections for Coder? coder-pg-capacity's budget (every replica at its pool max + 1), headroom, and what Coder's pools and PostgreSQL hold now.",
    )
    .tags(['coder', 'postgresql', 'coder-pg-capacity'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .refresh('30s')
    // Grafana adds its built-in "Annotations & Alerts" itself; an explicit one would name a
    // datasource uid other than ${datasource}.
    .annotations([])
    .link(new DashboardLinkBuilder('Runbooks').type(DashboardLinkType.Link).url(RUNBOOKS).icon('doc').targetBlank(true).tooltip('What each alert means and how to fix it'))
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(
      new QueryVariableBuilder('job')
        .label('Job')
        .description('The Prometheus job that scrapes coder-pg-capacity.')
        .datasource(datasource)
        .query(`label_values(${PREFIX}build_info, job)`)
        .definition(`label_values(${PREFIX}build_info, job)`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc),
    )
    .withVariable(
      new QueryVariableBuilder('instance')
        .label('Monitor')
        .description('coder-pg-capacity instances (several when one runs beside each coderd replica); figures are combined as the alert rules combine them.')
        .datasource(datasource)
        .query(`label_values(${PREFIX}build_info{job="$job"}, instance)`)
        .definition(`label_values(${PREFIX}build_info{job="$job"}, instance)`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.+')
        .current({ selected: true, text: ['All'], value: ['$__all'] }),
    );

  // --- Overview: the figures the alerts fire on, coloured as the alerts are. ---
  builder
    .withRow(new RowBuilder('Overview'))
    .withPanel(
      stat(
        'Budget headroom',
        'Slots left for Coder after its budget (every replica at its pool max + 1, plus the surge pods in a rollout): A - other connections - budget. ' +
          'Below 0 the replicas may open more connections than PostgreSQL allows once their pools fill: steady (red) pages as CoderPostgresBudgetOvercommitted, rollout (orange) warns as CoderPostgresRolloutOvercommitted. ' +
          `Lower CODER_PG_CONN_MAX_OPEN to the recommended pool max, or raise max_connections: ${runbook('coderpostgresbudgetovercommitted')}. -Inf means an unbounded pool (${runbook('coderdatabasepoolunbounded', 'CoderDatabasePoolUnbounded')}).`,
      )
        .withTarget(query('A', `min by (phase) (${m('budget_headroom_connections')})`, '{{phase}}'))
        .thresholds(steps('red', [0, 'green']))
        .overrideByName('rollout', [{ id: 'thresholds', value: steps('orange', [0, 'green']).build() }])
        .colorMode(common.BigValueColorMode.Background)
        .span(5),
    )
    .withPanel(
      stat(
        'Live headroom',
        `Slots free right now: A - U. At 0 new connections fail with "too many clients" (CoderPostgresConnectionsExhausted): find who holds them with Q1 and free slots first, ${runbook('coderpostgresconnectionsexhausted')}.`,
      )
        .withTarget(query('A', `min(${m('headroom_connections')})`, 'headroom'))
        .thresholds(steps('red', [1, 'green']))
        .span(3),
    )
    .withPanel(
      stat(
        'Utilization',
        `Connections in use over the slots an ordinary role can use (U / A). Yellow above ${thresholds.utilizationWarning * 100}% and red above ${thresholds.utilizationCritical * 100}%, as CoderPostgresConnectionsHigh: ${runbook('coderpostgresconnectionshigh')}.`,
      )
        .withTarget(query('A', `max(${m('utilization_ratio')})`, 'utilization'))
        .unit('percentunit')
        .decimals(1)
        .min(0)
        .max(1)
        .thresholds(steps('green', [thresholds.utilizationWarning, 'yellow'], [thresholds.utilizationCritical, 'red']))
        .span(3),
    )
    .withPanel(
      stat(
        'Replicas: observed / planned',
        'Coder replicas the monitor discovers (up or not) and the count it plans for (max of observed and --coder.replicas, e.g. the HPA maximum). ' +
          `Fewer observed than you run: check --coder.targets (${runbook('coderreplicametricsdown', 'CoderReplicaMetricsDown')}). More planned than "Max safe replicas": the budget does not fit.`,
      )
        .withTarget(query('A', `max by (count) (${m('replicas')})`, '{{count}}'))
        .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Fixed).fixedColor('blue'))
        .span(4),
    )
    .withPanel(
      stat(
        'Recommended pool max',
        `The largest CODER_PG_CONN_MAX_OPEN that fits a rolling update with the safety margin kept. Set it (or lower) in Coder's Helm values: ${runbook('1-lower-coder_pg_conn_max_open', 'fix 1')}. ` +
          `0 (red): no pool size fits, raise max_connections (${runbook('2-raise-max_connections', 'fix 2')}) or run fewer replicas.`,
      )
        .withTarget(query('A', `min(${m('recommended_pool_max_connections')})`, 'pool max'))
        .thresholds(steps('red', [1, 'green']))
        .span(3),
    )
    .withPanel(
      stat(
        'Max safe replicas',
        `Replicas that fit at today's largest pool max, steady, with the safety margin kept. Below the planned replicas: lower the pool max or cap the HPA (${runbook('4-cap-the-replica-count-hpa', 'fix 4')}); do not scale Coder up to fix a connection alert.`,
      )
        .withTarget(query('A', `min(${m('max_safe_replicas')})`, 'replicas'))
        .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Fixed).fixedColor('blue'))
        .span(3),
    )
    .withPanel(
      stat(
        'PostgreSQL reachable',
        `Whether the monitor's last poll of PostgreSQL succeeded. While it is down every capacity figure on this dashboard is empty, never frozen: ${runbook('coderpostgrescapacitymonitordown', 'CoderPostgresCapacityMonitorDown')}.`,
      )
        .withTarget(query('A', `max(${m('postgres_up')})`, 'postgres_up'))
        .mappings(upDown)
        .thresholds(steps('red', [1, 'green']))
        .graphMode(common.BigValueGraphMode.None)
        .span(3),
    );

  // --- Connections over time, against the limits. ---
  builder
    .withRow(new RowBuilder('Connections'))
    .withPanel(
      timeseries(
        'Connections by owner and state',
        "Client backends PostgreSQL holds, stacked by owner (coder, other, monitor) and state, against available slots A (red), the safety-margin line Am = floor(A × (1 - --capacity.safety-margin)) " +
          "(yellow, as the daemon computes it with the margin it runs) " +
          'and the worst case other + Coder budget (orange dashed: every pool full). The stack above yellow: the spare margin is gone; orange above red: overcommitted. ' +
          `Find the holders with Q1 of the ${runbook('before-you-start')}; "unknown" states mean the monitor lacks pg_monitor.`,
      )
        .withTarget(query('A', `max by (owner, state) (sum without (database, role, application) (${m('connections')}))`, '{{owner}} {{state}}'))
        .withTarget(query('B', `min(${m('available_connections')})`, 'available (A)'))
        .withTarget(query('C', `min(${m('margin_capacity_connections')})`, 'safety margin (Am)'))
        // The budget on PostgreSQL: Coder's budget, or behind PgBouncer what its server cap lets through.
        .withTarget(query('D', `max(${m('other_connections')}) + max(${m('postgres_budget_connections', 'phase="steady"')})`, 'other + Coder budget (steady)'))
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
    );

  // --- Where max_connections goes: reserved slots, other clients, Coder, Coder's budget, free. ---
  // Every band is the daemon's own slots_connections{part}: the status page's bar draws the same numbers.
  const slotPart = (refId: string, part: string, legend: string) => query(refId, `max(${m('slots_connections', `part="${part}"`)})`, legend);
  builder
    .withRow(new RowBuilder('Budget composition'))
    .withPanel(
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
        .withTarget(query('I', `max(${m('max_connections')})`, 'max_connections'))
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
    );

  // --- PgBouncer between Coder and PostgreSQL (--pgbouncer.url); empty without one. ---
  const sessionMode: ValueMapping[] = [
    { type: MappingType.ValueToText, options: { '0': { text: 'not session', color: 'red', index: 0 }, '1': { text: 'session', color: 'green', index: 1 } } },
  ];
  builder
    .withRow(new RowBuilder('PgBouncer'))
    .withPanel(
      stat(
        'PgBouncer instances',
        'Each PgBouncer admin console of --pgbouncer.url (a dns+ name: each address) and whether its last poll answered. ' +
          `While one is down the pooler's sums, the budget on PostgreSQL and the budget headroom are empty, not partial (${runbook('coderpostgrescapacityblind-pgbouncer_unreadable', 'pgbouncer_unreadable')}).`,
      )
        .withTarget(query('A', `min by (pgbouncer) (${m('pgbouncer_up')})`, '{{pgbouncer}}'))
        .mappings(upDown)
        .thresholds(steps('red', [1, 'green']))
        .graphMode(common.BigValueGraphMode.None)
        .span(5),
    )
    .withPanel(
      stat(
        "Coder's pool mode",
        "Whether Coder's pool runs in session mode on every PgBouncer instance. Coder's pubsub LISTEN goes through PgBouncer too and stops receiving in transaction or statement mode: " +
          runbook('coderpgbouncernotsessionmode', 'CoderPgbouncerNotSessionMode') +
          '.',
      )
        .withTarget(query('A', `min(${m('pgbouncer_pool_mode_session')})`, 'pool mode'))
        .mappings(sessionMode)
        .thresholds(steps('red', [1, 'green']))
        .graphMode(common.BigValueGraphMode.None)
        .span(4),
    )
    .withPanel(
      stat(
        'PgBouncer client headroom',
        "max_client_conn (all instances) - PgBouncer's other clients - Coder's budget, steady and in a rollout. Below 0 PgBouncer refuses Coder's connections once its pools fill: " +
          `raise max_client_conn (${runbook('coderpgbouncerclientsovercommitted', 'CoderPgbouncerClientsOvercommitted')}).`,
      )
        .withTarget(query('A', `min by (phase) (${m('pgbouncer_client_headroom_connections')})`, '{{phase}}'))
        .thresholds(steps('red', [0, 'green']))
        .colorMode(common.BigValueColorMode.Background)
        .span(5),
    )
    .withPanel(
      stat(
        'Would queue in PgBouncer',
        "Coder's budget beyond the server cap of its pool (pool_size + reserve_pool, bounded by max_db_connections and max_user_connections): connections that would wait in PgBouncer instead of reaching PostgreSQL. " +
          `check names the pool_size that fits (${runbook('coderpgbouncerservercapexceeded', 'CoderPgbouncerServerCapExceeded')}).`,
      )
        .withTarget(query('A', `max by (phase) (${m('pgbouncer_queued_connections')})`, '{{phase}}'))
        .thresholds(steps('green', [1, 'orange']))
        .span(5),
    )
    .withPanel(
      stat(
        'Budget on PostgreSQL',
        "What Coder may open on PostgreSQL: its budget, or behind PgBouncer min(budget, server cap). Budget headroom is measured with it; without a pooler it equals Coder's budget. " +
          `Over what PostgreSQL leaves for Coder: ${runbook('coderpostgresbudgetovercommitted', 'CoderPostgresBudgetOvercommitted')}.`,
      )
        .withTarget(query('A', `max by (phase) (${m('postgres_budget_connections')})`, '{{phase}}'))
        .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Fixed).fixedColor('blue'))
        .span(5),
    )
    .withPanel(
      timeseries(
        "Coder's budget against PgBouncer's limits",
        "Coder's budget (steady, rollout) against PgBouncer's server cap for Coder's pool (what may reach PostgreSQL) and its client capacity (max_client_conn, all instances). " +
          'A budget above the cap queues in PgBouncer; above the client capacity less its other clients, PgBouncer refuses. ' +
          `The pool_size that fits: ${runbook('coderpgbouncerservercapexceeded', 'CoderPgbouncerServerCapExceeded')}.`,
      )
        .withTarget(query('A', `max by (phase) (${m('coder_budget_connections')})`, 'Coder budget {{phase}}'))
        .withTarget(query('B', `min(${m('pgbouncer_server_connections_cap')})`, 'server cap'))
        .withTarget(query('C', `min(${m('pgbouncer_client_connections_limit')})`, 'client capacity'))
        .withTarget(query('D', `max by (phase) (${m('postgres_budget_connections')})`, 'budget on PostgreSQL {{phase}}'))
        .overrideByQuery('B', referenceLine('red', false))
        .overrideByQuery('C', referenceLine('orange', true))
        .lineInterpolation(common.LineInterpolation.StepAfter)
        .min(0)
        .decimals(0)
        .span(12),
    )
    .withPanel(
      timeseries(
        'Waiting in PgBouncer',
        "Coder's clients waiting in PgBouncer for a server connection (cl_waiting, all instances) and the oldest wait (maxwait, right axis). Waiting for 5 minutes fires " +
          `${runbook('coderpgbouncerclientswaiting', 'CoderPgbouncerClientsWaiting')}: the server cap of Coder's pool is all in use.`,
      )
        .withTarget(query('A', `max(${m('pgbouncer_clients_waiting')})`, 'clients waiting'))
        .withTarget(query('B', `max(${m('pgbouncer_max_wait_seconds')})`, 'oldest wait'))
        .overrideByQuery('B', [
          { id: 'unit', value: 's' },
          { id: 'custom.axisPlacement', value: common.AxisPlacement.Right },
        ])
        .min(0)
        .span(12),
    );

  // --- Each Coder replica's pool. ---
  const perReplica = (name: string) => `max by (replica) (${m(name)})`;
  builder
    .withRow(new RowBuilder('Coder replicas'))
    .withPanel(
      new TablePanelBuilder()
        .title('Replicas')
        .description(
          "Each Coder replica's database/sql pool as its /metrics reports it. up = down: its connections are still budgeted at its last pool max but count as unaccounted " +
            `(${runbook('coderreplicametricsdown', 'CoderReplicaMetricsDown')}). pool max "unbounded" (0): set CODER_PG_CONN_MAX_OPEN (${runbook('coderdatabasepoolunbounded', 'CoderDatabasePoolUnbounded')}). ` +
            `in use = pool max, or waits/s above 0: the pool is too small for its load (${runbook('coderdatabasepoolsaturated', 'CoderDatabasePoolSaturated')}).`,
        )
        .datasource(datasource)
        .withTarget(tableQuery('A', perReplica('replica_up')))
        .withTarget(tableQuery('B', perReplica('replica_open_connections')))
        .withTarget(tableQuery('C', perReplica('replica_in_use_connections')))
        .withTarget(tableQuery('D', perReplica('replica_idle_connections')))
        .withTarget(tableQuery('E', perReplica('replica_pool_max_connections')))
        .withTarget(tableQuery('F', `max by (replica) (rate(${m('replica_wait_count_total')}[$__rate_interval]))`))
        .withTransformation({ id: 'merge', options: {} })
        .withTransformation({
          id: 'organize',
          options: {
            excludeByName: { Time: true },
            indexByName: { replica: 0, 'Value #A': 1, 'Value #B': 2, 'Value #C': 3, 'Value #D': 4, 'Value #E': 5, 'Value #F': 6 },
            renameByName: { 'Value #A': 'up', 'Value #B': 'open', 'Value #C': 'in use', 'Value #D': 'idle', 'Value #E': 'pool max', 'Value #F': 'waits/s' },
          },
        })
        .sortBy([new common.TableSortByFieldStateBuilder().displayName('replica')])
        .decimals(0)
        .overrideByName('up', [
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
    );

  // --- Pool waits: coderd's requests queueing for a connection. ---
  builder
    .withRow(new RowBuilder('Pool waits'))
    .withPanel(
      timeseries(
        'Waits for a connection',
        'How often each replica waited for a free pool connection (rate of go_sql_wait_count_total). Any sustained rate means requests queue inside coderd. ' +
          `Slow queries or latency first, then a larger pool only if the budget allows it: ${runbook('coderdatabasepoolsaturated', 'CoderDatabasePoolSaturated')}.`,
      )
        .withTarget(query('A', `max by (replica) (rate(${m('replica_wait_count_total')}[$__rate_interval]))`, '{{replica}}'))
        .axisLabel('waits / s')
        .min(0)
        .span(12),
    )
    .withPanel(
      timeseries(
        'Time spent waiting',
        'Seconds each replica spent waiting for a pool connection, per second (rate of go_sql_wait_duration_seconds_total): 0.5 means on average half a request is always queued. ' +
          `Read with the panel beside it: ${runbook('coderdatabasepoolsaturated', 'CoderDatabasePoolSaturated')}.`,
      )
        .withTarget(query('A', `max by (replica) (rate(${m('replica_wait_duration_seconds_total')}[$__rate_interval]))`, '{{replica}}'))
        .unit('s')
        .axisLabel('waited per second')
        .min(0)
        .span(12),
    );

  // --- Where the slots go: held without work, reopened, and the pool max Coder needs. ---
  builder
    .withRow(new RowBuilder('Where the slots go'))
    .withPanel(
      timeseries(
        'Oldest transaction left idle',
        "The oldest session idle in a transaction, per owner (coder, other, monitor): it holds a slot and its locks while doing nothing, and VACUUM cannot clean past it. Empty while no session is idle in a transaction. " +
          `Past the dashed line (${thresholds.idleInTransactionSeconds} s) CoderPostgresIdleInTransaction fires for Coder's: find the session and what left it open (${runbook('coderpostgresidleintransaction', 'CoderPostgresIdleInTransaction')}).`,
      )
        .withTarget(query('A', `max by (owner) (${m('oldest_idle_in_transaction_seconds')})`, '{{owner}}'))
        .unit('s')
        .min(0)
        .thresholds(steps('green', [thresholds.idleInTransactionSeconds, 'red']))
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
        .span(6),
    )
    .withPanel(
      timeseries(
        'NOTIFY queue in use',
        "pg_notification_queue_usage(): the share of PostgreSQL's NOTIFY queue in use. Coder's pubsub rides on it; a session that LISTENs and stops reading holds it, and once it is full every NOTIFY fails, Coder's included. " +
          `Dashed: ${thresholds.notifyQueueWarning * 100}% (warning) and ${thresholds.notifyQueueCritical * 100}% (critical) of ${runbook('coderpostgresnotifyqueuefilling', 'CoderPostgresNotifyQueueFilling')}.`,
      )
        .withTarget(query('A', `max(${m('notify_queue_usage_ratio')})`, 'queue in use'))
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(steps('green', [thresholds.notifyQueueWarning, 'orange'], [thresholds.notifyQueueCritical, 'red']))
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
        .span(6),
    )
    .withPanel(
      timeseries(
        'Connections closed by the pools',
        "Connections Coder's pools closed each second, all replicas together, by reason (go_sql_max_idle_closed_total and its kin): each one is reopened later as a new PostgreSQL backend, with its fork and authentication. " +
          `A steady max_idle rate means CODER_PG_CONN_MAX_IDLE is below the working set; CoderDatabasePoolChurn fires when one replica closes more than ${thresholds.poolChurnClosesPerSecond} a second (${runbook('coderdatabasepoolchurn', 'CoderDatabasePoolChurn')}).`,
      )
        .withTarget(query('A', `sum by (reason) (rate(${m('replica_closed_connections_total')}[$__rate_interval]))`, '{{reason}}'))
        .axisLabel('closes / s')
        .min(0)
        .span(6),
    )
    .withPanel(
      timeseries(
        'Pool max: needed and what fits',
        "Needed: the largest per-replica peak of connections in use over --capacity.demand-window, plus one for a replica whose waits rose. Fits: the largest pool max a rolling update leaves room for, with the safety margin kept. " +
          `Set CODER_PG_CONN_MAX_OPEN between the two; needed above fits means no pool max does both: add slots or fewer replicas (${runbook('1-lower-coder_pg_conn_max_open', 'fix 1')}, ${runbook('2-raise-max_connections', 'fix 2')}).`,
      )
        .withTarget(query('A', `max(${m('needed_pool_max_connections')})`, 'needed'))
        .withTarget(query('B', `min(${m('recommended_pool_max_connections')})`, 'fits'))
        .overrideByQuery('B', referenceLine('green', true))
        .decimals(0)
        .min(0)
        .span(6),
    );

  // --- PostgreSQL round trip. ---
  const quantile = (q: number) =>
    `histogram_quantile(${q}, sum by (le, instance) (rate(${m('postgres_round_trip_seconds_bucket')}[$__rate_interval])))`;
  builder
    .withRow(new RowBuilder('PostgreSQL round trip'))
    .withPanel(
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
    );

  // --- Alerts. ---
  builder.withRow(new RowBuilder('Alerts')).withPanel(
    new GenericPanelBuilder()
      .type('alertlist')
      .title('Coder alerts')
      .description(
        "Firing and pending alerts whose name contains \"Coder\": alerts/coder-pg-capacity.rules.yml (and Coder's own, if you run them). " +
          'Data-source-managed rules show when the Prometheus data source has "Manage alerts via Alerting UI" on, or when Grafana evaluates the rules. ' +
          `Each alert's runbook_url opens its section of the ${runbook('runbooks-coder-pg-capacity-alerts', 'runbooks')}.`,
      )
      .options({
        viewMode: 'list',
        groupMode: 'default',
        groupBy: [],
        maxItems: 20,
        sortOrder: 1,
        dashboardAlerts: false,
        alertName: 'Coder',
        alertInstanceLabelFilter: '',
        showInstances: true,
        stateFilter: { firing: true, pending: true, noData: false, normal: false, error: true },
      })
      .span(24)
      .height(8),
  );

  return numbered(builder.build());
}

/** The committed file's exact text: JSON with a 2-space indent and a final newline. */
export function dashboardJson(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}
