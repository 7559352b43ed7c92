// Coder's side: each coderd replica's database/sql pool.

import { thresholds } from '../../src/model/thresholds.js';
import { alertLabel, figure, m, max, min, query } from '../promql.js';
import type { RuleGroup } from '../rule.js';

const replica = alertLabel('replica');

export const coderReplicaRules: RuleGroup = {
  name: 'coder-pg-capacity.coder-replicas',
  about: "Coder's side: each coderd replica's database/sql pool.",
  rules: [
    {
      alert: 'CoderDatabasePoolSaturated',
      why: 'Per replica. max: any monitor that sees the pool full or waiting is enough.',
      expr: max(`\n    ${m('replica_in_use_connections')}\n      >= (${m('replica_pool_max_connections')} > 0)\n  or\n    rate(${m('replica_wait_count_total')}[5m]) > 0\n`),
      for: '10m',
      severity: 'warning',
      summary: 'Coder replica {{ $labels.replica }} is waiting for database connections.',
      description: `Replica {{ $labels.replica }} has ${figure((q) => max(q.m('replica_in_use_connections', { replica })))} connections in use of its pool maximum ${figure((q) => max(q.m('replica_pool_max_connections', { replica })))} and waits for a free one ${figure((q) => max(`60 * rate(${q.m('replica_wait_count_total', { replica })}[5m])`))} times a minute. Its API requests queue behind the pool: Coder is slow, but PostgreSQL is protected.`,
    },
    {
      alert: 'CoderDatabasePoolUnbounded',
      why: 'Per replica. min: a single monitor that reads pool max 0 is enough. The `for` only rides out a restart; this is configuration, it does not flap.',
      expr: `${min(m('replica_pool_max_connections'))} == 0`,
      for: '5m',
      severity: 'warning',
      summary: 'Coder replica {{ $labels.replica }} has no cap on its database connections.',
      description: `Replica {{ $labels.replica }} reports go_sql_max_open_connections 0 (no limit in Go's database/sql) and holds ${figure((q) => max(q.m('replica_open_connections', { replica })))} connections now: under load it can take every free slot of PostgreSQL, so the connection budget is infinite.`,
    },
    {
      alert: 'CoderPostgresUnaccountedConnections',
      why: 'min: a monitor that missed a replica\'s scrape over-counts; the lowest count is the one every monitor agrees on.',
      expr: `${min(m('unaccounted_coder_connections'))} > 0`,
      for: '15m',
      severity: 'warning',
      summary: 'PostgreSQL shows Coder connections that no scraped Coder replica explains.',
      description: `{{ $value | humanize }} of Coder's ${figure((q) => max(q.m('coder_connections')))} connections are explained by no replica (neither by the backends from its address nor by its pool and LISTEN): a replica the monitor does not discover or cannot scrape, connections outside the pools that the budget does not count, or another program using Coder's role or database. {{ with ${query((q) => min(q.m('unaccounted_per_replica_connections')))} }}They stayed {{ . | first | value | humanize }} per replica up through the demand window: most likely that many more outside each pool; raise --coder.extra-connections by as many. {{ end }}The budget headroom counts the ones no replica's budget covers.`,
    },
    {
      alert: 'CoderReplicaPubsubDown',
      why: "Per replica. max: the replica's own report, which every monitor reads alike; down when no monitor sees it up. 1 minute: coderd exits after 5 minutes without a pubsub heartbeat.",
      expr: `${max(m('replica_pubsub_connected'))} == 0`,
      for: '1m',
      severity: 'warning',
      summary: 'Coder replica {{ $labels.replica }} lost its pubsub LISTEN connection.',
      description:
        "Replica {{ $labels.replica }} reports coder_pubsub_connected 0: its LISTEN connection to PostgreSQL is down, so workspace and build events no longer reach it, and coderd exits after 5 minutes without a pubsub heartbeat. It stays in the budget (it reconnects). Several replicas at once point at PostgreSQL (a restart, terminated connections); one alone at that replica's network or its log.",
    },
    {
      alert: 'CoderReplicaMetricsDown',
      why: "Per replica. max: down only if no monitor can scrape it (one sidecar's network trouble is not the replica's).",
      expr: `${max(m('replica_up'))} == 0`,
      for: '5m',
      severity: 'warning',
      summary: "Coder replica {{ $labels.replica }}'s metrics cannot be scraped.",
      description: `No monitor can scrape the Prometheus endpoint of Coder replica {{ $labels.replica }}. Its connections are still budgeted at its last known pool maximum (${figure((q) => max(q.m('replica_pool_max_connections', { replica })))}), but its live pool figures are unknown and its connections count as unaccounted.`,
    },
    {
      alert: 'CoderDatabasePoolChurn',
      why: 'Per replica, every reason together: each close is a backend reopened later. max: any monitor that sees the churn is right (rates read a few seconds apart differ).',
      expr: `${max(`\n  sum without (reason) (rate(${m('replica_closed_connections_total')}[5m]))\n`)} > ${thresholds.poolChurnClosesPerSecond}`,
      for: '15m',
      severity: 'warning',
      summary: 'Coder replica {{ $labels.replica }} keeps closing and reopening database connections.',
      description: `Replica {{ $labels.replica }} closes {{ $value | printf "%.2f" }} connections a second, ${figure((q) => max(`rate(${q.m('replica_closed_connections_total', { replica, reason: 'max_idle' })}[5m])`), 'printf "%.2f"')} of them because its idle list was full (max_idle). Each is reopened later as a new PostgreSQL backend (a process start, authentication, TLS): its idle cap (CODER_PG_CONN_MAX_IDLE, by default a third of CODER_PG_CONN_MAX_OPEN) is below the connections it keeps using.`,
    },
  ],
};
