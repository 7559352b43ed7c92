// The pooler layer of the capacity model: PgBouncer between Coder and PostgreSQL. Coder's
// budget then meets two limits before PostgreSQL's: PgBouncer's max_client_conn (over it,
// PgBouncer refuses Coder) and the server-connection cap of Coder's pool (over it, Coder's
// connections queue inside PgBouncer). What reaches PostgreSQL is the budget on PostgreSQL,
// min(budget, server cap). Pure, in the order of docs/capacity-model.md ("A pooler between
// Coder and PostgreSQL").
//
// A pooler sum is never partial: while an instance cannot be read (or has no entry for
// Coder's database), every figure that sums over the instances is absent, and blind.ts
// reports pgbouncer_unreadable.

/** Coder's (database, user) pool on one PgBouncer instance, as PgBouncer resolves it. */
export interface PoolerCoderPool {
  /** The [databases] entry Coder connects to (the database name in Coder's URL). */
  database: string;
  /** The user the pool logs in to PostgreSQL as: the entry's force_user, else Coder's role. */
  user: string;
  /** pool_size in force: the user's, else the database entry's, else default_pool_size. */
  poolSize: number;
  /** Where pool_size came from; 'what-if' when `check --pgbouncer.pool-size` replaced it. */
  poolSizeSource: 'user' | 'database' | 'what-if';
  /** reserve_pool in force. */
  reservePool: number;
  /** max_db_connections in force for the entry; 0 = unlimited. */
  maxDbConnections: number;
  /** max_user_connections in force for the pool's user; 0 = unlimited. */
  maxUserConnections: number;
  /** session, transaction or statement. */
  poolMode: string;
  poolModeSource: 'user' | 'database' | 'default';
  /** Coder's client connections in the pool: cl_active + cl_waiting (+ cancel requests). */
  clients: number;
  /** cl_waiting: Coder's clients waiting for a server connection now. */
  waiting: number;
  /** How long the oldest waiting client has waited. */
  maxWaitSeconds: number;
  /** Server connections the pool holds on PostgreSQL (sv_active + sv_idle + sv_used + sv_tested + sv_login). */
  serverConnections: number;
}

/** What one PgBouncer instance's admin console said this poll. */
export interface PoolerInstance {
  /** host:port of the admin console, as the monitor addresses it. */
  instance: string;
  up: boolean;
  /** Why it could not be read (names the instance and the next step); null when up. */
  error: string | null;
  /** "1.18.0"; null when unknown. */
  version: string | null;
  /** max_client_conn; null when down. */
  maxClientConn: number | null;
  /** Client connections of every pool, the admin console's own included; null when down. */
  clientConnections: number | null;
  /** null when down, or when the instance has no [databases] entry named `coderEntry`. */
  coderPool: PoolerCoderPool | null;
}

/** What the PgBouncer source observed in one poll. */
export interface PoolerObservation {
  /** The [databases] entry Coder connects to (--pgbouncer.database, by default --coder.database). */
  coderEntry: string;
  /** dns+ names that found no instance, or whose lookup failed. */
  discoveryErrors: { spec: string; message: string }[];
  instances: PoolerInstance[];
}

export interface Phased {
  steady: number;
  rollout: number;
}

/** How pool_size would fit, the same pool_size on every instance. */
export interface PoolSizeFit {
  /** The smallest pool_size at which Coder's rollout budget waits for no server connection; null when max_db_connections or max_user_connections stops every pool_size. */
  noQueue: number | null;
  /** The pool_sizes whose budget on PostgreSQL fits the slots left for Coder (A - max(Uo, Uo')) in a rollout. */
  fitting: { kind: 'any' } | { kind: 'up-to'; poolSize: number } | { kind: 'none' };
  /** A pool_size that does both (the smallest), or null when none does. */
  both: number | null;
}

/** The pooler's figures. A figure that sums over the instances is null unless every instance was read. */
export interface PoolerCapacity {
  instances: number;
  instancesUp: number;
  /** Every instance was read, has Coder's pool, and at least one instance exists: the sums below are whole. */
  complete: boolean;
  /** Cc = sum of max_client_conn. */
  clientCapacity: number | null;
  /** Clients of the pooler that are not Coder's (other pools, the admin console's, the monitor's own). */
  otherClients: number | null;
  /** Coder's clients in its pools now. */
  coderClients: number | null;
  /** Cc - other clients - Coder's budget, per phase; negative: PgBouncer refuses Coder's connections. */
  clientHeadroom: Phased | null;
  /** Sc = sum of min(pool_size + reserve_pool, max_db_connections if > 0, max_user_connections if > 0). */
  serverCap: number | null;
  /** Each readable instance's own term of Sc, by instance. */
  instanceServerCaps: Record<string, number>;
  /** Coder's server connections on PostgreSQL through the pooler now. */
  serverConnections: number | null;
  /** max(0, budget - Sc), per phase: Coder's connections that would wait in the pooler. */
  queued: Phased | null;
  /** cl_waiting of Coder's pools now. */
  clientsWaiting: number | null;
  /** The longest wait of a Coder client now, in seconds. */
  maxWaitSeconds: number | null;
  /** Coder's pool is in session mode on every instance (true), not on one (false), or unknown (null). */
  sessionMode: boolean | null;
  /** Instances that run Coder's pool in another mode: Coder's LISTEN stops receiving there. */
  notSession: { instance: string; poolMode: string; source: PoolerCoderPool['poolModeSource'] }[];
  /** Instances up but without a [databases] entry for Coder's database. */
  withoutCoderPool: string[];
  /** What pool_size would fit; null when a figure it needs is unknown. */
  poolSizeFit: PoolSizeFit | null;
}

/** Whether every instance can be summed: at least one, each up, each with Coder's pool. */
export function poolerReadable(pooler: PoolerObservation): boolean {
  return pooler.instances.length > 0 && pooler.instances.every((instance) => instance.up && instance.coderPool !== null);
}

/** One instance's cap on Coder's server connections at a pool_size: min(pool_size + reserve, max_db, max_user). */
export function instanceServerCap(pool: PoolerCoderPool, poolSize = pool.poolSize): number {
  const limits = [poolSize + pool.reservePool];
  if (pool.maxDbConnections > 0) limits.push(pool.maxDbConnections);
  if (pool.maxUserConnections > 0) limits.push(pool.maxUserConnections);
  return Math.min(...limits);
}

/** Sc at a pool_size on every instance (each instance's own when none is given). */
function serverCapAt(pools: PoolerCoderPool[], poolSize?: number): number {
  return pools.reduce((sum, pool) => sum + instanceServerCap(pool, poolSize ?? pool.poolSize), 0);
}

/** Sc with no pool_size limit at all: what max_db_connections and max_user_connections allow. */
function serverCapUnlimited(pools: PoolerCoderPool[]): number {
  return serverCapAt(pools, Number.POSITIVE_INFINITY);
}

/** min(budget, Sc) per phase: what Coder may open on PostgreSQL through the pooler. */
export function postgresBudget(budget: Phased, serverCap: number): Phased {
  return { steady: Math.min(budget.steady, serverCap), rollout: Math.min(budget.rollout, serverCap) };
}

/**
 * What pool_size would fit, the same on every instance: the smallest that queues nothing in
 * a rollout, and those whose budget on PostgreSQL fits `room` = A - max(Uo, Uo').
 */
export function poolSizeFit(pools: PoolerCoderPool[], rolloutBudget: number, room: number): PoolSizeFit {
  // Smallest p with Sc(p) >= rollout budget; Sc is non-decreasing in p, and p = budget is enough when no cap stops it.
  let noQueue: number | null = null;
  if (Number.isFinite(rolloutBudget) && serverCapUnlimited(pools) >= rolloutBudget) {
    let low = 0;
    let high = Math.max(0, rolloutBudget);
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (serverCapAt(pools, middle) >= rolloutBudget) high = middle;
      else low = middle + 1;
    }
    noQueue = low;
  }
  // min(budget, Sc(p)) <= room: every p when the budget itself fits, else the p with Sc(p) <= room.
  let fitting: PoolSizeFit['fitting'];
  if (rolloutBudget <= room || serverCapUnlimited(pools) <= room) {
    fitting = { kind: 'any' };
  } else if (serverCapAt(pools, 0) > room) {
    fitting = { kind: 'none' };
  } else {
    let low = 0;
    let high = Math.max(0, room);
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (serverCapAt(pools, middle) <= room) low = middle;
      else high = middle - 1;
    }
    fitting = { kind: 'up-to', poolSize: low };
  }
  const fits = (p: number) => fitting.kind === 'any' || (fitting.kind === 'up-to' && p <= fitting.poolSize);
  return { noQueue, fitting, both: noQueue !== null && fits(noQueue) ? noQueue : null };
}

/**
 * The pooler's figures. `budget` is Coder's budget (null while unknown); `room` is the
 * slots left for Coder on PostgreSQL, A - max(Uo, Uo') (null while unknown).
 */
export function poolerCapacity(pooler: PoolerObservation, budget: Phased | null, room: number | null): PoolerCapacity {
  const { instances } = pooler;
  const up = instances.filter((instance) => instance.up);
  const pools = up.flatMap((instance) => (instance.coderPool ? [instance.coderPool] : []));
  const complete = poolerReadable(pooler);
  const notSession = up.flatMap((instance) =>
    instance.coderPool && instance.coderPool.poolMode !== 'session'
      ? [{ instance: instance.instance, poolMode: instance.coderPool.poolMode, source: instance.coderPool.poolModeSource }]
      : [],
  );
  const whole = <T>(value: () => T): T | null => (complete ? value() : null);
  const sum = (value: (instance: PoolerInstance) => number) => instances.reduce((total, instance) => total + value(instance), 0);

  const clientCapacity = whole(() => sum((instance) => instance.maxClientConn ?? 0));
  const coderClients = whole(() => pools.reduce((total, pool) => total + pool.clients, 0));
  const otherClients = whole(() => sum((instance) => instance.clientConnections ?? 0) - (coderClients ?? 0));
  const serverCap = whole(() => serverCapAt(pools));
  return {
    instances: instances.length,
    instancesUp: up.length,
    complete,
    clientCapacity,
    otherClients,
    coderClients,
    clientHeadroom:
      clientCapacity === null || otherClients === null || budget === null
        ? null
        : { steady: clientCapacity - otherClients - budget.steady, rollout: clientCapacity - otherClients - budget.rollout },
    serverCap,
    instanceServerCaps: Object.fromEntries(up.flatMap((instance) => (instance.coderPool ? [[instance.instance, instanceServerCap(instance.coderPool)]] : []))),
    serverConnections: whole(() => pools.reduce((total, pool) => total + pool.serverConnections, 0)),
    queued:
      serverCap === null || budget === null
        ? null
        : { steady: Math.max(0, budget.steady - serverCap), rollout: Math.max(0, budget.rollout - serverCap) },
    clientsWaiting: whole(() => pools.reduce((total, pool) => total + pool.waiting, 0)),
    maxWaitSeconds: whole(() => Math.max(0, ...pools.map((pool) => pool.maxWaitSeconds))),
    // A non-session pool is a fault wherever it is seen; "all session" needs every instance.
    sessionMode: notSession.length > 0 ? false : complete ? true : null,
    notSession,
    withoutCoderPool: up.filter((instance) => instance.coderPool === null).map((instance) => instance.instance),
    poolSizeFit: complete && budget !== null && room !== null ? poolSizeFit(pools, budget.rollout, room) : null,
  };
}

/** The observation with Coder's pool_size replaced on every instance: `check --pgbouncer.pool-size`. */
export function withPoolSize(pooler: PoolerObservation, poolSize: number): PoolerObservation {
  return {
    ...pooler,
    instances: pooler.instances.map((instance) =>
      instance.coderPool ? { ...instance, coderPool: { ...instance.coderPool, poolSize, poolSizeSource: 'what-if' } } : instance,
    ),
  };
}
