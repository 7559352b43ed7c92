// The PgBouncer layer as rows a person reads, for the status page and `check`: the pooler's
// figures in the order of the capacity model (client side, then server side, then what
// reaches PostgreSQL), and one row per instance. Every number comes from the model
// (capacity.pooler, snapshot.pooler); this only words it.

import type { Capacity } from '../model/capacity.js';
import type { PoolerCapacity, PoolerInstance, PoolSizeFit } from '../model/pooler.js';
import type { Snapshot } from '../model/snapshot.js';
import { formatCount } from '../model/wording.js';

export interface PoolerFigureRow {
  id: string;
  label: string;
  value: string;
  bad: boolean;
  meaning: string;
}

export interface PoolerInstanceRow {
  instance: string;
  up: boolean;
  /** database/user of Coder's pool, or why there is none. */
  pool: string;
  mode: string;
  /** Not session: Coder's LISTEN breaks there. */
  modeBad: boolean;
  poolSize: string;
  reserve: string;
  cap: string;
  maxClientConn: string;
  /** Coder's clients / all clients. */
  clients: string;
  waiting: string;
  serverConnections: string;
  error: string | null;
}

const sourceWords = { user: 'user', database: 'database', 'what-if': 'what-if' } as const;

/** The pool_size that would fit, as a figure: its value and its meaning. */
export function poolSizeFitWords(fit: PoolSizeFit | null): { value: string; meaning: string; bad: boolean } {
  if (fit === null) return { value: 'unknown', meaning: 'needs every instance and the budget', bad: true };
  const fitting = fit.fitting.kind === 'any' ? 'any fits PostgreSQL' : fit.fitting.kind === 'up-to' ? `PostgreSQL fits ${fit.fitting.poolSize} at most` : 'none fits PostgreSQL';
  if (fit.both !== null) return { value: String(fit.both), meaning: `per instance: queues nothing in a rollout and fits PostgreSQL (${fitting})`, bad: false };
  if (fit.noQueue === null) return { value: 'none', meaning: `max_db_connections / max_user_connections cap the pool below the rollout budget; ${fitting}`, bad: true };
  return { value: 'none', meaning: `${fit.noQueue} would queue nothing, but ${fitting}`, bad: true };
}

function modeWords(pooler: PoolerCapacity): { value: string; bad: boolean } {
  if (pooler.notSession.length > 0) return { value: pooler.notSession.map((entry) => entry.poolMode).join(', '), bad: true };
  return { value: pooler.sessionMode ? 'session' : 'unknown', bad: pooler.sessionMode === null };
}

export function poolerFigureRows(capacity: Capacity): PoolerFigureRow[] {
  const pooler = capacity.pooler;
  if (pooler === null) return [];
  const { postgresBudget } = capacity;
  const row = (id: string, label: string, value: string, meaning: string, bad = false): PoolerFigureRow => ({ id, label, value, bad, meaning });
  const mode = modeWords(pooler);
  const fit = poolSizeFitWords(pooler.poolSizeFit);
  return [
    row('pgbouncer-instances', 'instances', `${pooler.instancesUp} / ${pooler.instances}`, 'up / found (--pgbouncer.url)', !pooler.complete),
    row('pgbouncer-pool-mode', "Coder's pool mode", mode.value, "Coder's LISTEN needs session", mode.bad),
    row('pgbouncer-client-capacity', 'client capacity', formatCount(pooler.clientCapacity), 'max_client_conn, all instances', pooler.clientCapacity === null),
    row('pgbouncer-other-clients', 'other clients', formatCount(pooler.otherClients), "the pooler's clients that are not Coder's (the monitor's console included)", pooler.otherClients === null),
    row('pgbouncer-client-headroom-steady', 'client headroom, steady', formatCount(pooler.clientHeadroom?.steady ?? null), 'client capacity − other clients − budget', pooler.clientHeadroom === null || pooler.clientHeadroom.steady < 0),
    row('pgbouncer-client-headroom-rollout', 'client headroom, rollout', formatCount(pooler.clientHeadroom?.rollout ?? null), 'the same in a rolling update', pooler.clientHeadroom === null || pooler.clientHeadroom.rollout < 0),
    row('pgbouncer-server-cap', 'server cap', formatCount(pooler.serverCap), "Coder's pool: min(pool_size + reserve_pool, max_db_connections, max_user_connections), all instances", pooler.serverCap === null),
    row('postgres-budget-steady', 'budget on PostgreSQL, steady', formatCount(postgresBudget?.steady ?? null), 'min(budget, server cap): what reaches PostgreSQL', postgresBudget === null),
    row('postgres-budget-rollout', 'budget on PostgreSQL, rollout', formatCount(postgresBudget?.rollout ?? null), 'the same in a rolling update', postgresBudget === null),
    row('pgbouncer-queued-steady', 'would queue, steady', formatCount(pooler.queued?.steady ?? null), 'budget − server cap: waits in PgBouncer', pooler.queued === null || pooler.queued.steady > 0),
    row('pgbouncer-queued-rollout', 'would queue, rollout', formatCount(pooler.queued?.rollout ?? null), 'the same in a rolling update', pooler.queued === null || pooler.queued.rollout > 0),
    row(
      'pgbouncer-clients-waiting',
      'waiting now',
      formatCount(pooler.clientsWaiting),
      `Coder's clients in cl_waiting${pooler.maxWaitSeconds ? `, the oldest ${pooler.maxWaitSeconds.toFixed(1)} s` : ''}`,
      pooler.clientsWaiting === null || pooler.clientsWaiting > 0,
    ),
    row('pgbouncer-pool-size-fit', 'pool_size that fits', fit.value, fit.meaning, fit.bad),
  ];
}

function describePool(instance: PoolerInstance, coderEntry: string): string {
  if (!instance.up) return 'unknown';
  if (!instance.coderPool) return `no entry "${coderEntry}"`;
  return `${instance.coderPool.database}/${instance.coderPool.user}`;
}

export function poolerInstanceRows(snapshot: Snapshot, capacity: Capacity | null): PoolerInstanceRow[] {
  const pooler = snapshot.pooler;
  if (!pooler) return [];
  return pooler.instances.map((instance) => {
    const pool = instance.coderPool;
    const cap = capacity?.pooler?.instanceServerCaps[instance.instance];
    return {
      instance: instance.instance,
      up: instance.up,
      pool: describePool(instance, pooler.coderEntry),
      mode: pool ? pool.poolMode : '–',
      modeBad: pool !== null && pool.poolMode !== 'session',
      poolSize: pool ? `${pool.poolSize} (${sourceWords[pool.poolSizeSource]})` : '–',
      reserve: pool ? String(pool.reservePool) : '–',
      cap: cap === undefined ? '–' : String(cap),
      maxClientConn: instance.maxClientConn === null ? '–' : String(instance.maxClientConn),
      clients: pool && instance.clientConnections !== null ? `${pool.clients} / ${instance.clientConnections}` : '–',
      waiting: pool ? String(pool.waiting) : '–',
      serverConnections: pool ? String(pool.serverConnections) : '–',
      error: instance.error,
    };
  });
}
