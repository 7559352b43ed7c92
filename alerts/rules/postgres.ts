// PostgreSQL facts worth knowing: sessions idle in a transaction, the NOTIFY queue, the
// round trip, a superuser Coder.

import { thresholds } from '../../src/model/thresholds.js';
import { figure, m, max, regex } from '../promql.js';
import type { AlertRule, RuleGroup } from '../rule.js';

const notifyQueueFilling = (severity: 'warning' | 'critical', threshold: number): AlertRule => ({
  alert: 'CoderPostgresNotifyQueueFilling',
  why: severity === 'warning' ? 'max: the fullest reading wins.' : 'Same alert, higher severity; both fire above this threshold.',
  expr: `${max(m('notify_queue_usage_ratio'))} > ${threshold}`,
  for: '5m',
  severity,
  summary: "PostgreSQL's NOTIFY queue is filling; Coder's pubsub stops when it is full.",
  description:
    'pg_notification_queue_usage() is {{ $value | humanizePercentage }}: a listening session is not taking its notifications, often one stuck in a long transaction. When the queue is full NOTIFY fails, and Coder\'s pubsub (workspace and build updates) with it.',
});

export const postgresRules: RuleGroup = {
  name: 'coder-pg-capacity.postgres',
  about: 'PostgreSQL facts worth knowing.',
  rules: [
    {
      alert: 'CoderPostgresIdleInTransaction',
      why: "max: the monitor that reads the oldest age is right (ages read seconds apart differ). Coder's sessions only: another application's are its own to fix.",
      expr: `${max(m('oldest_idle_in_transaction_seconds', { owner: 'coder' }))} > ${thresholds.idleInTransactionSeconds}`,
      for: '5m',
      severity: 'warning',
      summary: 'A Coder session sits idle in a transaction, holding its connection slot.',
      description: `Coder's oldest session idle in a transaction has been so for {{ $value | humanizeDuration }}; ${figure((q) => max(`sum without (database, role, application, state) (${q.m('connections', { owner: 'coder', state: regex('idle in transaction.*') })})`))} of Coder's connections are idle in a transaction. Each holds a PostgreSQL slot, a pool connection and its locks while doing nothing.`,
    },
    notifyQueueFilling('warning', thresholds.notifyQueueWarning),
    notifyQueueFilling('critical', thresholds.notifyQueueCritical),
    {
      alert: 'CoderPostgresLatencyHigh',
      why: 'max of the per-monitor p90s: with a sidecar per coderd replica, the worst path is a replica that pays it on every query.',
      expr: `${max(`\n  histogram_quantile(0.9, rate(${m('postgres_round_trip_seconds', {}, '_bucket')}[5m]))\n`)} > ${thresholds.roundTripSeconds}`,
      for: '15m',
      severity: 'warning',
      summary: "Round trips to PostgreSQL are slow; Coder's control plane and database are probably not in one zone.",
      description:
        'The p90 round trip from the monitor to PostgreSQL is {{ $value | humanizeDuration }}. Coder runs many queries one after another per API request, so every request and workspace build pays it many times over.',
    },
    {
      alert: 'CoderReplicaDatabaseLatencyHigh',
      why: "Per replica (hostname, from Coder's replicas table with --coder.replicas-from-db). max: the slowest reading of any monitor; every monitor reads the same table.",
      expr: `${max(m('replica_database_latency_seconds'))} > ${thresholds.replicaDatabaseLatencySeconds}`,
      for: '15m',
      severity: 'warning',
      summary: 'Coder replica {{ $labels.hostname }} sees a slow round trip to PostgreSQL.',
      description:
        "Replica {{ $labels.hostname }} measures its own round trip to PostgreSQL at {{ $value | humanizeDuration }} (Coder's replicas table, database_latency). Coder runs many queries one after another per request, so every request and workspace build pays it many times over: Coder's validated architectures ask for under 10 ms between coderd and PostgreSQL (one zone), and its health check warns at 15 ms.",
    },
    {
      alert: 'CoderPostgresRoleIsSuperuser',
      why: 'max: any monitor that sees the superuser attribute is right.',
      expr: `${max(m('coder_role_superuser'))} == 1`,
      for: '5m',
      severity: 'info',
      summary: 'Coder connects to PostgreSQL as a superuser.',
      description: `Coder's role has the SUPERUSER attribute: it can also take the ${figure((q) => max(q.m('reserved_connections', { reason: 'superuser' })))} slots reserved for superusers, so at exhaustion administrators cannot log in to fix it, and it bypasses role and database connection limits.`,
    },
  ],
};
