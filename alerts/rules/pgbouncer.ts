// PgBouncer between Coder and PostgreSQL (--pgbouncer.url): the pooler's limits meet
// Coder's budget before PostgreSQL's do.

import { figure, m, max, min } from '../promql.js';
import type { RuleGroup } from '../rule.js';

const serverCap = figure((q) => min(q.m('pgbouncer_server_connections_cap')));
const rolloutBudget = figure((q) => max(q.m('coder_budget_connections', { phase: 'rollout' })));

export const pgbouncerRules: RuleGroup = {
  name: 'coder-pg-capacity.pgbouncer',
  about:
    "PgBouncer between Coder and PostgreSQL (--pgbouncer.url): the pooler's limits meet Coder's budget before PostgreSQL's do. A pooler figure is absent while an instance cannot be read (blind reason pgbouncer_unreadable): these alerts then resolve and CoderPostgresCapacityBlind takes over.",
  rules: [
    {
      alert: 'CoderPgbouncerNotSessionMode',
      why: "min: one monitor that reads Coder's pool outside session mode is right. The `for` only rides out a RELOAD in progress: this is configuration.",
      expr: `${min(m('pgbouncer_pool_mode_session'))} == 0`,
      for: '5m',
      severity: 'critical',
      summary: "PgBouncer runs Coder's pool outside session mode; Coder's LISTEN stops receiving notifications.",
      description: `On at least one of the ${figure((q) => `count(${max(q.m('pgbouncer_up'))})`)} PgBouncer instances the monitor reads, Coder's pool (its --coder.database and --coder.role) runs in transaction or statement mode. Coder's pubsub LISTEN connection goes through PgBouncer too and silently stops receiving outside session mode: workspace builds, agent connections and other events stall. The status page and \`check\` name the instance and where the mode comes from.`,
    },
    {
      alert: 'CoderPgbouncerClientsOvercommitted',
      why: "min: the monitor that sees the least client headroom wins (each monitor's own admin connection is one of PgBouncer's clients). Rollout: it is never more than steady, so one alert covers both; the description gives steady too.",
      expr: `${min(m('pgbouncer_client_headroom_connections', { phase: 'rollout' }))} < 0`,
      for: '10m',
      severity: 'critical',
      summary: "PgBouncer would refuse Coder's connections; max_client_conn leaves less than Coder's budget.",
      description: `PgBouncer accepts ${figure((q) => min(q.m('pgbouncer_client_connections_limit')))} client connections (max_client_conn, all instances); after its other clients, Coder's budget of ${rolloutBudget} connections in a rollout is {{ $value | humanize }} short (steady: client headroom ${figure((q) => min(q.m('pgbouncer_client_headroom_connections', { phase: 'steady' })))}). Beyond max_client_conn PgBouncer refuses with "no more connections allowed (max_client_conn)", and Coder fails API requests and workspace builds.`,
    },
    {
      alert: 'CoderPgbouncerServerCapExceeded',
      why: 'max: the monitor that sees the most queued wins (budgets and caps are the same for every monitor; only a stale one differs).',
      expr: `${max(m('pgbouncer_queued_connections', { phase: 'rollout' }))} > 0`,
      for: '10m',
      severity: 'warning',
      summary: "Coder's budget exceeds PgBouncer's server cap for Coder's pool; connections would queue in PgBouncer.",
      description: `Coder's rollout budget of ${rolloutBudget} connections exceeds PgBouncer's server cap for Coder's pool, ${serverCap} (pool_size + reserve_pool, bounded by max_db_connections and max_user_connections, all instances): {{ $value | humanize }} connections would wait in PgBouncer instead of reaching PostgreSQL (steady: ${figure((q) => max(q.m('pgbouncer_queued_connections', { phase: 'steady' })))}). Coder's requests stall behind them, and fail after query_wait_timeout. \`check\` names the pool_size that would fit.`,
    },
    {
      alert: 'CoderPgbouncerClientsWaiting',
      why: "max: any monitor that sees Coder's clients waiting is right.",
      expr: `${max(m('pgbouncer_clients_waiting'))} > 0`,
      for: '5m',
      severity: 'warning',
      summary: "Coder's connections are waiting in PgBouncer for a server connection.",
      description: `{{ $value | humanize }} of Coder's clients wait in PgBouncer (cl_waiting), the oldest for ${figure((q) => max(q.m('pgbouncer_max_wait_seconds')), 'humanizeDuration')}: all ${serverCap} server connections of Coder's pool are in use. Coder's requests stall until one frees.`,
    },
  ],
};
