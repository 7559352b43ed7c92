// Is anyone watching? A deployment whose monitors all stopped, or cannot reach PostgreSQL,
// or cannot judge.

import { blindReasons, type BlindReason } from '../../src/model/blind.js';
import { MONITOR_LABELS, alertLabel, m, max, query } from '../promql.js';
import type { RuleGroup } from '../rule.js';

/** What each blind reason means for the operator, in the alert's words. */
const blindWording: Record<BlindReason, string> = {
  no_replicas_configured:
    'has no Coder replicas to count: neither --coder.targets, --coder.replicas nor --coder.replicas-from-db is set, so every budget figure is absent',
  no_replicas_found:
    'found 0 Coder replicas: its --coder.targets name does not resolve or answers empty, or the replicas table gave nothing, and no planned count is set, so every budget figure is absent',
  replicas_table_unreadable:
    "cannot read Coder's replicas table (--coder.replicas-from-db): the monitor's role has no SELECT on it, or the table lacks a column, so the replica count from the database is absent",
  coder_role_missing: "finds no PostgreSQL role named by --coder.role in pg_roles, so Coder's connections and every budget headroom are absent",
  coder_database_missing: "finds no database named by --coder.database in pg_database, so Coder's connections and every budget headroom are absent",
  coder_connections_mismatch:
    "sees Coder's replicas report more connections than PostgreSQL shows for Coder's role, database and application name: --coder.role, --coder.database or --coder.application-name does not match how Coder connects, so Coder's share is misattributed",
  postgres_standby:
    'polls a standby (pg_is_in_recovery() is true: a reader endpoint, a -ro Service, a streaming replica), where Coder holds no connection: point --postgres.url at the primary (the writer endpoint); every figure of Coder\'s is absent meanwhile',
  pgbouncer_unreadable:
    "cannot read a PgBouncer instance of --pgbouncer.url (pgbouncer_up 0), finds none, or reads one without a [databases] entry for Coder's database, so the pooler's figures, the budget on PostgreSQL and the budget headroom are absent",
};

const byReason = `${blindReasons.map((reason, i) => `{{ ${i === 0 ? 'if' : 'else if'} eq $labels.reason "${reason}" }}${blindWording[reason]}`).join('')}{{ else }}reports blind reason {{ $labels.reason }}{{ end }}`;

/** Any build of a deployment's monitors: an upgrade in progress is still one deployment. */
const anyBuild = (expr: string) => `max without (${[...MONITOR_LABELS, 'version'].join(', ')}) (${expr})`;

/** "of job coder-pg-capacity in cluster a": which deployment, on a fleet too. */
const ofDeployment = 'of job {{ $labels.job }}{{ with $labels.cluster }} in cluster {{ . }}{{ end }}';

export const monitorRules: RuleGroup = {
  name: 'coder-pg-capacity.monitor',
  about: 'Is anyone watching?',
  rules: [
    {
      alert: 'CoderPostgresCapacityMonitorDown',
      why:
        "First: no monitor is scraped at all, anywhere. Second (value 1): a deployment (job, cluster, ...) whose monitors reported within the last hour and none does now, so that with several clusters on one Prometheus one cluster's silence is not hidden by another's monitors; `version` is left out so that an upgrade in progress counts as one deployment, and it gives way to the first when nothing is scraped at all (one page, not two). Third (value 0): max, PostgreSQL counts as unreachable only when no monitor of the deployment reaches it (one monitor's network trouble is that monitor's), unless a monitor was refused for want of a free slot: then PostgreSQL is up and full, which CoderPostgresConnectionsExhausted reports. One rule, so that the causes share a name and severity.",
      expr: `absent(${m('build_info')})\nor\n(\n    ${anyBuild(`max_over_time(${m('build_info')}[1h])`)}\n  unless\n    ${anyBuild(m('build_info'))}\n  unless on ()\n    absent(${m('build_info')})\n)\nor\n(\n    ${max(m('postgres_up'))} == 0\n  unless\n    ${max(m('postgres_full'))} == 1\n)`,
      for: '5m',
      severity: 'critical',
      summary: `{{ if not $labels.job }}No coder-pg-capacity monitor is being scraped{{ else if eq $value 1.0 }}No coder-pg-capacity monitor ${ofDeployment} is being scraped{{ else }}No coder-pg-capacity monitor ${ofDeployment} can reach PostgreSQL{{ end }}; PostgreSQL connection capacity is unwatched.`,
      description: `{{ if not $labels.job }}Prometheus has no coder_pg_capacity_build_info series: every monitor is down, unreachable, or no longer discovered. None of the PostgreSQL capacity alerts can fire until one is back.{{ else if eq $value 1.0 }}The monitors ${ofDeployment} reported within the last hour, and none is scraped now: they are down, unreachable, or no longer discovered (a removed deployment stops paging an hour after its last series). None of its capacity alerts can fire until one is back.{{ else }}Every monitor ${ofDeployment} reports postgres_up 0; the last successful poll was {{ with ${query((q) => `time() - ${max(q.m('last_poll_success_timestamp_seconds'))}`)} }}{{ . | first | value | humanizeDuration }} ago{{ else }}never{{ end }}. PostgreSQL is down, unreachable, refuses the monitor, or the monitor's credentials fail (a refusal for want of a free slot pages as CoderPostgresConnectionsExhausted instead). The capacity metrics are absent meanwhile, so the capacity alerts have resolved.{{ end }}`,
    },
    {
      alert: 'CoderPostgresCapacityBlind',
      why:
        "A monitor that cannot judge exposes coder_pg_capacity_blind{reason} 1 and drops the figures that reason breaks, so the alerts built on them cannot fire: it must not look green. max: one blind monitor is enough, whatever the others see (it is that monitor's configuration that needs fixing); the description names the blind instances. warning, not critical: the live alerts on PostgreSQL's own counts (ConnectionsHigh, ConnectionsExhausted, MonitorDown) stay armed in every blind state; what is lost is the budget foresight, a configuration fix for working hours. The `for` rides out a rollout of Coder (replicas briefly not found).",
      expr: `${max(m('blind'))} == 1`,
      for: '10m',
      severity: 'warning',
      summary: 'coder-pg-capacity cannot judge Coder\'s PostgreSQL capacity ({{ $labels.reason }}).',
      description: `{{ with ${query((q) => `${q.m('blind', { reason: alertLabel('reason') })} == 1`)} | sortByLabel "instance" }}Monitor{{ if gt (len .) 1 }}s{{ end }}{{ range $i, $s := . }}{{ if $i }},{{ end }} {{ $s.Labels.instance }}{{ end }}{{ else }}A monitor{{ end }} ${ofDeployment} ${byReason}. {{ if eq $labels.reason "coder_connections_mismatch" }}Its budget figures rest on that attribution and cannot be trusted{{ else }}The alerts built on the missing figures cannot fire{{ end }} until it is fixed.`,
      runbookAnchor: 'coderpostgrescapacityblind-{{ $labels.reason }}',
    },
  ],
};

