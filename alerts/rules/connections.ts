// What PostgreSQL sees right now, and where the trend goes.

import { thresholds } from '../../src/model/thresholds.js';
import { alertLabel, figure, m, max, min } from '../promql.js';
import type { AlertRule, RuleGroup } from '../rule.js';

const used = figure((q) => max(q.m('used_connections')));
const available = figure((q) => min(q.m('available_connections')));
const coders = figure((q) => max(q.m('coder_connections')));

const connectionsHigh = (severity: 'warning' | 'critical', threshold: number): AlertRule => ({
  alert: 'CoderPostgresConnectionsHigh',
  why:
    severity === 'warning'
      ? 'max: the monitor that counts the most connections wins (counts taken a few seconds apart differ; the fuller one is the one to act on).'
      : 'Same alert, higher severity; both fire above this threshold (route or inhibit the warning in Alertmanager, see the runbook).',
  expr: `${max(m('utilization_ratio'))} > ${threshold}`,
  for: '5m',
  severity,
  summary: 'PostgreSQL is running short of connection slots.',
  description: `{{ $value | humanizePercentage }} of the connection slots an ordinary role can use are taken: ${used} used of ${available} available, ${coders} of them Coder's.`,
});

/** All connections of a role (database), for the roles (databases) Coder connects with, over its limit. */
const limitRatio = (kept: 'role' | 'database', limit: 'role_connection_limit' | 'database_connection_limit') => {
  const others = ['database', 'role', 'application', 'state', 'owner'].filter((label) => label !== kept).join(', ');
  return `(\n    sum without (${others}) (${m('connections')})\n  and\n    sum without (${others}) (${m('connections', { owner: 'coder' })})\n)\n/ ${m(limit)}`;
};

export const connectionsRules: RuleGroup = {
  name: 'coder-pg-capacity.connections',
  about: 'What PostgreSQL sees right now, and where the trend goes.',
  rules: [
    connectionsHigh('warning', thresholds.utilizationWarning),
    connectionsHigh('critical', thresholds.utilizationCritical),
    {
      alert: 'CoderPostgresConnectionsExhausted',
      why:
        'Left: min, any monitor that counts no free slot is right. Right: max, any monitor whose (re)connect PostgreSQL refused with "too many clients" or "remaining connection slots are reserved" (SQLSTATE 53300) measured the same thing, though its counts are absent: it has no connection to count with. On PostgreSQL 13 to 15 no slot can be reserved for a non-superuser monitor, so the refusal is the only figure left. Value: headroom (<= 0) from the left, 1 from the right; the description tells the two apart by the sign.',
      expr: `${min(m('headroom_connections'))} <= 0\nor\n${max(m('postgres_full'))} == 1`,
      for: '1m',
      severity: 'critical',
      summary: "PostgreSQL has no connection slot left for ordinary roles; Coder's new connections fail.",
      description: `{{ if gt $value 0.0 }}PostgreSQL refused the monitor's connection: no free slot (it answered "sorry, too many clients already" or "remaining connection slots are reserved"), so the monitor cannot count who holds the slots until one frees up.{{ else }}${used} client connections use all ${available} available slots (headroom {{ $value | humanize }}); ${coders} are Coder's.{{ end }} New connections get "sorry, too many clients already" or "remaining connection slots are reserved"; Coder fails API requests and workspace builds.`,
    },
    {
      alert: 'CoderPostgresConnectionsForecast',
      why: 'max of the forecasts against min of available: the gloomiest monitor wins; this is an early warning, erring early is cheap.',
      expr: `${max(`predict_linear(${m('used_connections')}[${thresholds.forecastWindowHours}h], ${thresholds.forecastHorizonHours} * 3600)`)}\n>= ${min(m('available_connections'))}`,
      for: '15m',
      severity: 'warning',
      summary: 'At the current trend PostgreSQL runs out of connection slots within the forecast horizon.',
      description: `At the trend of used connections, {{ $value | humanize }} connections would be in use by the end of the forecast horizon, >= ${available} available; ${used} are in use now.`,
    },
    {
      alert: 'CoderPostgresRoleLimitNear',
      why: "PostgreSQL counts every connection of a role (or to a database) against its limit, not only Coder's, so the ratio is all connections of that role (database) over its limit, for the roles (databases) Coder connects with. max: the monitor that counts the most wins.",
      expr: `${max(`\n  ${limitRatio('role', 'role_connection_limit').replaceAll('\n', '\n  ')}\nor\n  ${limitRatio('database', 'database_connection_limit').replaceAll('\n', '\n  ')}\n`)} > ${thresholds.connectionLimitRatio}`,
      for: '5m',
      severity: 'warning',
      summary: "Coder's PostgreSQL {{ if $labels.role }}role {{ $labels.role }}{{ else }}database {{ $labels.database }}{{ end }} is near its connection limit.",
      description: `{{ if $labels.role }}Role {{ $labels.role }} holds ${figure((q) => max(`sum without (database, application, state, owner) (${q.m('connections', { role: alertLabel('role') })})`))} connections of its limit ${figure((q) => max(q.m('role_connection_limit', { role: alertLabel('role') })))} (pg_roles.rolconnlimit){{ else }}Database {{ $labels.database }} holds ${figure((q) => max(`sum without (role, application, state, owner) (${q.m('connections', { database: alertLabel('database') })})`))} connections of its limit ${figure((q) => max(q.m('database_connection_limit', { database: alertLabel('database') })))} (pg_database.datconnlimit){{ end }}: {{ $value | humanizePercentage }}. At the limit PostgreSQL refuses new connections with "too many connections for {{ if $labels.role }}role{{ else }}database{{ end }}", however many slots are free.`,
    },
  ],
};
