// What a person should take from the PgBouncer layer: the verdict when the pooler, not
// PostgreSQL, is where Coder does not fit (a pool mode that breaks Coder's LISTEN, client
// slots overcommitted, connections that would queue), the findings, and the pool_size that
// would fit. verdict.ts adds them to the others. Pure: every figure comes from pooler.ts.

import type { Capacity } from './capacity.js';
import type { Finding } from './finding.js';
import type { PoolerCapacity, PoolSizeFit } from './pooler.js';
import type { Snapshot } from './snapshot.js';
import { formatCount, plural } from './wording.js';

export type PoolerVerdictKind = 'pgbouncer-not-session-mode' | 'pgbouncer-overcommitted' | 'pgbouncer-queueing';

/** The shape of verdict.ts's verdict part, restated so that the two files do not import each other. */
export interface PoolerVerdict {
  kind: PoolerVerdictKind;
  verdict: string;
  severity: 'critical';
  summary: string;
  fix: string | null;
}

const modeSource = { user: "its user's pool_mode", database: "its [databases] entry's pool_mode", default: 'the global pool_mode' } as const;

function notSessionWords(pooler: PoolerCapacity): string {
  return pooler.notSession.map((entry) => `${entry.instance} (${entry.poolMode} mode, from ${modeSource[entry.source]})`).join(', ');
}

/** The pool_size that would fit, in words: the answer to "what pool_size should I set?". */
export function poolSizeAdvice(fit: PoolSizeFit, serverCap: number): string {
  const fitting =
    fit.fitting.kind === 'any' ? 'any pool_size fits PostgreSQL' : fit.fitting.kind === 'up-to' ? `PostgreSQL fits pool_size ${fit.fitting.poolSize} at most` : 'no pool_size fits PostgreSQL (reserve_pool alone exceeds the slots left for Coder)';
  if (fit.both !== null) {
    const range = fit.fitting.kind === 'up-to' && fit.fitting.poolSize > fit.both ? ` (up to ${fit.fitting.poolSize} still fits PostgreSQL)` : '';
    return `pool_size ${fit.both} for Coder's pool on every instance queues nothing in a rollout and fits PostgreSQL${range}.`;
  }
  if (fit.noQueue === null) {
    return `No pool_size avoids the queue: max_db_connections or max_user_connections caps Coder's pool at ${serverCap} in all; raise them, or lower Coder's pool max (CODER_PG_CONN_MAX_OPEN). Meanwhile ${fitting}.`;
  }
  return `No pool_size does both: pool_size ${fit.noQueue} would queue nothing in a rollout, but ${fitting}; raise max_connections, or lower Coder's pool max (CODER_PG_CONN_MAX_OPEN) or replica count.`;
}

export function poolerFindings(capacity: Capacity): Finding[] {
  const { pooler, budget } = capacity;
  if (pooler === null) return [];
  const findings: Finding[] = [];
  if (pooler.notSession.length > 0) {
    findings.push({
      id: 'pgbouncer-not-session-mode',
      severity: 'critical',
      title: "Coder's LISTEN needs session mode",
      detail: `PgBouncer runs Coder's pool in another mode than session on ${notSessionWords(pooler)}. Coder's pubsub LISTEN connection goes through the pooler too, and outside session mode it silently stops receiving notifications: workspace builds and agent events stall. Set pool_mode = session for Coder's database (or user) in pgbouncer.ini, then RELOAD.`,
    });
  }
  const headroom = pooler.clientHeadroom;
  if (headroom !== null && budget !== null && pooler.clientCapacity !== null && pooler.otherClients !== null && headroom.rollout < 0) {
    const steady = headroom.steady < 0 ? `${-headroom.steady} short, ${-headroom.rollout} in a rollout` : `it fits steady with ${headroom.steady} to spare, but a rollout is ${-headroom.rollout} short`;
    findings.push({
      id: 'pgbouncer-clients-overcommitted',
      severity: 'critical',
      title: headroom.steady < 0 ? "PgBouncer would refuse Coder's connections" : "PgBouncer would refuse Coder's connections in a rollout",
      detail: `PgBouncer accepts ${pooler.clientCapacity} client connections (max_client_conn, all instances); other clients hold ${pooler.otherClients} and Coder may open ${formatCount(budget.steady)} (${formatCount(budget.rollout)} in a rollout): ${steady}. Beyond it PgBouncer refuses with "no more connections allowed (max_client_conn)". Raise max_client_conn to at least ${formatCount(pooler.otherClients + budget.rollout)} in all (and the file-descriptor limit with it), or lower Coder's pool max.`,
    });
  }
  const queued = pooler.queued;
  if (queued !== null && budget !== null && pooler.serverCap !== null && queued.rollout > 0) {
    findings.push({
      id: 'pgbouncer-queueing',
      severity: 'critical',
      title: `${formatCount(queued.rollout)} of Coder's ${formatCount(budget.rollout)} rollout connections would queue in PgBouncer`,
      detail: `PgBouncer's server cap for Coder's pool is ${pooler.serverCap} (pool_size + reserve_pool, bounded by max_db_connections and max_user_connections, all instances): ${formatCount(queued.steady)} of Coder's ${formatCount(budget.steady)} connections would wait in PgBouncer (cl_waiting) instead of reaching PostgreSQL, ${formatCount(queued.rollout)} of ${formatCount(budget.rollout)} in a rollout, and Coder's requests stall behind them. ${pooler.poolSizeFit ? poolSizeAdvice(pooler.poolSizeFit, pooler.serverCap) : ''}`.trim(),
    });
  }
  if (pooler.clientsWaiting !== null && pooler.clientsWaiting > 0) {
    findings.push({
      id: 'pgbouncer-clients-waiting',
      severity: 'warning',
      title: `${plural(pooler.clientsWaiting, 'Coder client')} waiting in PgBouncer`,
      detail: `Coder's pool in PgBouncer has ${plural(pooler.clientsWaiting, 'client')} waiting for a server connection now (cl_waiting), the oldest for ${(pooler.maxWaitSeconds ?? 0).toFixed(1)} s: its server cap of ${formatCount(pooler.serverCap)} is in use. Coder's requests stall until one frees; see the pool_size advice of the runbook.`,
    });
  }
  return findings;
}

/**
 * The verdict when the pooler is where Coder does not fit. A pool mode that breaks Coder's
 * LISTEN wins over every figure; otherwise PostgreSQL's verdict stands unless it fits.
 */
export function poolerVerdict(capacity: Capacity, postgresFits: boolean): PoolerVerdict | null {
  const { pooler, budget, postgresBudget, budgetHeadroom } = capacity;
  if (pooler === null) return null;
  if (pooler.notSession.length > 0) {
    return {
      kind: 'pgbouncer-not-session-mode',
      verdict: "Coder's LISTEN needs session mode",
      severity: 'critical',
      summary: `PgBouncer runs Coder's pool in another mode than session on ${notSessionWords(pooler)}: Coder's pubsub LISTEN silently stops receiving there. A pooler in any other mode is a fault to fix, not a configuration to budget.`,
      fix: "set pool_mode = session for Coder's database (or user) in pgbouncer.ini on every instance, then RELOAD.",
    };
  }
  if (!postgresFits || budget === null) return null;
  const headroom = pooler.clientHeadroom;
  if (headroom !== null && pooler.clientCapacity !== null && pooler.otherClients !== null && headroom.rollout < 0) {
    return {
      kind: 'pgbouncer-overcommitted',
      verdict: headroom.steady < 0 ? 'PgBouncer overcommitted' : 'PgBouncer overcommitted in a rollout',
      severity: 'critical',
      summary: `PgBouncer accepts ${pooler.clientCapacity} client connections and other clients hold ${pooler.otherClients}, but Coder may open ${formatCount(budget.steady)} (${formatCount(budget.rollout)} in a rollout): client headroom ${formatCount(headroom.steady)}, ${formatCount(headroom.rollout)} in a rollout. PgBouncer refuses the rest.`,
      fix: `raise max_client_conn to at least ${formatCount(pooler.otherClients + budget.rollout)} in all, or lower Coder's pool max.`,
    };
  }
  const queued = pooler.queued;
  if (queued !== null && pooler.serverCap !== null && postgresBudget !== null && budgetHeadroom !== null && queued.rollout > 0) {
    return {
      kind: 'pgbouncer-queueing',
      verdict: "Coder's connections would queue in PgBouncer",
      severity: 'critical',
      summary: `PostgreSQL fits what PgBouncer lets through (budget on PostgreSQL ${postgresBudget.steady} / ${postgresBudget.rollout}, budget headroom ${budgetHeadroom.steady} / ${budgetHeadroom.rollout}), but PgBouncer's server cap for Coder's pool is ${pooler.serverCap}: ${formatCount(queued.rollout)} of Coder's ${formatCount(budget.rollout)} rollout connections would queue in PgBouncer (${formatCount(queued.steady)} of ${formatCount(budget.steady)} steady).`,
      fix: pooler.poolSizeFit ? poolSizeAdvice(pooler.poolSizeFit, pooler.serverCap) : null,
    };
  }
  return null;
}

/** An instance that answers but has no entry for Coder: what that means and what to do. */
export function missingCoderEntry(instance: string, entry: string): string {
  return (
    `PgBouncer ${instance} has no [databases] entry named "${entry}" (--pgbouncer.database, by default --coder.database): ` +
    "Coder's connections through it are refused unless an auto-database (*) serves them; add the entry, or give --pgbouncer.database the database name in Coder's URL"
  );
}

/** The detail of the blind reason pgbouncer_unreadable: which instance, and why. */
export function poolerBlindDetail(snapshot: Snapshot): string {
  const pooler = snapshot.pooler;
  if (!pooler) return 'No PgBouncer is configured.';
  const causes = [
    ...pooler.discoveryErrors.map((error) => error.message),
    ...pooler.instances.filter((instance) => !instance.up).map((instance) => instance.error ?? `PgBouncer ${instance.instance} cannot be read`),
    ...pooler.instances
      .filter((instance) => instance.up && instance.coderPool === null)
      .map((instance) => missingCoderEntry(instance.instance, pooler.coderEntry)),
  ];
  if (causes.length === 0 && pooler.instances.length === 0) causes.push('--pgbouncer.url found no PgBouncer instance this poll');
  return `${causes.join('; ')}. A sum over some instances would read as the whole, so the client capacity, the server cap, the budget on PostgreSQL and the budget headroom are absent until every instance answers.`;
}
