// The Alerts row: the firing and pending alerts of alerts/coder-pg-capacity.rules.yml.

import { PanelBuilder as GenericPanelBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { runbook, type Row } from '../panels.js';

export function alertsRow(): Row {
  return {
    title: 'Alerts',
    panels: [
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
    ],
  };
}
