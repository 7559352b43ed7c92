// The Grafana dashboard "Coder PostgreSQL capacity", as code: this module assembles the
// rows of grafana/rows/ under the dashboard's variables and links. grafana/coder-pg-capacity.json
// is dashboardJson(), committed so that operators can import it without Node; `npm run
// generate` writes it and test/grafana/dashboard.test.ts fails when the two drift apart.
//
// Every query reads the metric contract of src/exposition/metrics.ts through the
// dashboard's own Prometheus datasource variable (no datasource uid is hard-coded), selects
// the chosen cluster, job and monitors, and aggregates away `instance` and `pod` with
// `max without (instance, pod)` / `min without (instance, pod)` as
// alerts/coder-pg-capacity.rules.yml does (grafana/panels.ts): several monitors of one
// Coder (one sidecar per replica) draw one line, and a fleet's clusters stay apart.

import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { metricName } from '../src/contract/metrics.js';
import { RUNBOOKS, datasource, type Row } from './panels.js';
import { alertsRow } from './rows/alerts.js';
import { budgetCompositionRow } from './rows/budget-composition.js';
import { coderReplicasRow } from './rows/coder-replicas.js';
import { connectionsRow } from './rows/connections.js';
import { overviewRow } from './rows/overview.js';
import { pgbouncerRow } from './rows/pgbouncer.js';
import { poolWaitsRow } from './rows/pool-waits.js';
import { roundTripRow } from './rows/round-trip.js';
import { whereTheSlotsGoRow } from './rows/where-the-slots-go.js';

export const DASHBOARD_UID = 'coder-pg-capacity';

/** The rows, top to bottom. */
const rows = (): Row[] => [
  overviewRow(),
  connectionsRow(),
  budgetCompositionRow(),
  pgbouncerRow(),
  coderReplicasRow(),
  poolWaitsRow(),
  whereTheSlotsGoRow(),
  roundTripRow(),
  alertsRow(),
];

/** A variable listing the values of its namesake label on coder_pg_capacity_build_info, which every monitor exposes. */
function buildInfoVariable(name: string, text: { label: string; description: string }, matchers: string): QueryVariableBuilder {
  const selector = matchers ? `${metricName('build_info')}{${matchers}}` : metricName('build_info');
  return new QueryVariableBuilder(name)
    .label(text.label)
    .description(text.description)
    .datasource(datasource)
    .query(`label_values(${selector}, ${name})`)
    .definition(`label_values(${selector}, ${name})`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

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
    // A fleet's central Prometheus (Thanos, Mimir) tells deployments apart by an external
    // `cluster` label. On a single Prometheus no series has one: the list is empty, All
    // stays selected, and its `.*` matches the absent label, so every panel still fills.
    .withVariable(
      buildInfoVariable(
        'cluster',
        {
          label: 'Cluster',
          description:
            "The cluster whose Coder to show, when one Prometheus holds several (a `cluster` label); empty on a single Prometheus. All draws every cluster's lines under the same legend names: pick one to read them.",
        },
        '',
      )
        .includeAll(true)
        .multi(false)
        .allValue('.*')
        .current({ selected: true, text: 'All', value: '$__all' }),
    )
    .withVariable(buildInfoVariable('job', { label: 'Job', description: 'The Prometheus job that scrapes coder-pg-capacity.' }, 'cluster=~"$cluster"'))
    .withVariable(
      buildInfoVariable(
        'instance',
        {
          label: 'Monitor',
          description: 'coder-pg-capacity instances (several when one runs beside each coderd replica); figures are combined as the alert rules combine them.',
        },
        'cluster=~"$cluster", job="$job"',
      )
        .multi(true)
        .includeAll(true)
        .allValue('.+')
        .current({ selected: true, text: ['All'], value: ['$__all'] }),
    );

  for (const row of rows()) {
    builder.withRow(new RowBuilder(row.title));
    for (const panel of row.panels) builder.withPanel(panel);
  }
  return numbered(builder.build());
}

/** The committed file's exact text: JSON with a 2-space indent and a final newline. */
export function dashboardJson(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}
