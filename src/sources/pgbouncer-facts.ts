// What one PgBouncer's admin console says, as typed facts, and which pool is Coder's.
// Pure: parses the result sets of SHOW CONFIG / DATABASES / POOLS / USERS / VERSION that
// pgbouncer-admin.ts reads, and resolves Coder's pool the way PgBouncer itself does.
//
// Columns are read by name, never by position: PgBouncer adds and renames them between
// versions. Checked against PgBouncer 1.18.0 (Debian 12) live, and against the source of
// 1.12, 1.21, 1.23, 1.24 and 1.25 (src/admin.c, src/server.c):
//
//   SHOW CONFIG     key, value                        (all versions; values are text)
//   SHOW DATABASES  name, host, port, database, force_user, pool_size, reserve_pool
//                   (renamed reserve_pool_size in 1.24), pool_mode, max_connections,
//                   current_connections
//   SHOW POOLS      database, user, cl_active, cl_waiting, sv_active, sv_idle, sv_used,
//                   sv_tested, sv_login, maxwait, maxwait_us, pool_mode; cl_active_cancel_req,
//                   cl_waiting_cancel_req since 1.16 (counted when present)
//   SHOW USERS      name, pool_mode (all); pool_size (text, '' when unset), max_user_connections
//                   since 1.23; reserve_pool_size (text) since 1.24
//   SHOW VERSION    version ("PgBouncer 1.18.0")
//
// PgBouncer resolves some values before it shows them, which decides what can be known:
// SHOW DATABASES pool_size / reserve_pool / max_connections already fall back to
// default_pool_size / reserve_pool_size / max_db_connections (never -1), and SHOW USERS
// max_user_connections to the global max_user_connections. Before 1.23 a per-user
// max_user_connections exists but SHOW USERS does not show it: the global value stands in.

/** One `[databases]` entry (SHOW DATABASES), the admin console's own "pgbouncer" included. */
export interface PgbouncerDatabase {
  /** The name clients connect to. */
  name: string;
  host: string | null;
  port: number | null;
  /** The real database on the server. */
  database: string;
  /** force_user: every pool of this entry connects to the server as this user. */
  user: string | null;
  /** The entry's pool_size, else default_pool_size (PgBouncer resolves it before showing it). */
  poolSize: number;
  /** The entry's reserve_pool, else reserve_pool_size. */
  reservePool: number;
  /** The entry's own pool_mode; null: inherited (from the user or pool_mode). */
  poolMode: string | null;
  /** max_db_connections of the entry, else the global one; 0 = unlimited. */
  maxConnections: number;
  /** Server connections open for this entry, all users. */
  currentConnections: number;
}

/** One user PgBouncer knows (auth_file and `[users]`; SHOW USERS). */
export interface PgbouncerUser {
  name: string;
  /** The user's own pool_mode; null: inherited. */
  poolMode: string | null;
  /** The user's own pool_size (1.23+); null: not set, or not shown by this version. */
  poolSize: number | null;
  /** The user's own reserve_pool_size (1.24+); null: not set, or not shown. */
  reservePool: number | null;
  /** The user's max_user_connections, else the global one (the global one before 1.23); 0 = unlimited. */
  maxUserConnections: number;
}

/** One (database, user) pool (SHOW POOLS). */
export interface PgbouncerPool {
  database: string;
  user: string;
  /** Clients linked to a server connection, or idle ones that need none (transaction mode). */
  clActive: number;
  /** Clients that sent a query and wait for a server connection. */
  clWaiting: number;
  /** Cancel requests from clients (1.16+; 0 before): each one is a client connection too. */
  clCancelRequests: number;
  svActive: number;
  svIdle: number;
  svUsed: number;
  svTested: number;
  svLogin: number;
  /** How long the oldest waiting client has waited: maxwait + maxwait_us / 1e6. */
  maxWaitSeconds: number;
  poolMode: string | null;
}

export interface PgbouncerFacts {
  /** host:port of the admin console, as the monitor addresses it. */
  instance: string;
  /** "1.18.0"; null when SHOW VERSION did not answer as expected. */
  version: string | null;
  maxClientConn: number;
  defaultPoolSize: number;
  /** reserve_pool_size. */
  reservePool: number;
  /** Global max_db_connections; 0 = unlimited. */
  maxDbConnections: number;
  /** Global max_user_connections; 0 = unlimited. */
  maxUserConnections: number;
  /** The global pool_mode. */
  poolModeDefault: string;
  databases: PgbouncerDatabase[];
  /** Empty when SHOW USERS failed (see usersShown). */
  users: PgbouncerUser[];
  /** false when this PgBouncer did not answer SHOW USERS: user-level settings are unknown. */
  usersShown: boolean;
  pools: PgbouncerPool[];
  /**
   * Client connections held in pools: cl_active + cl_waiting + cl_active_cancel_req +
   * cl_waiting_cancel_req over every pool, the admin console's ("pgbouncer") included, since
   * those count against max_client_conn too (PgBouncer never refuses them, but they take
   * slots from everyone else). Not counted: clients still logging in, in no pool yet.
   */
  clientConnections: number;
}

/** A result set as node-postgres returns it; only names and values are used. */
export interface AdminResult {
  fields: { name: string }[];
  rows: Record<string, unknown>[];
}

/** A result the facts cannot be read from (not PgBouncer, or a version that lacks a column we need). */
export class PgbouncerFactsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PgbouncerFactsError';
  }
}

export interface AdminResults {
  instance: string;
  config: AdminResult;
  databases: AdminResult;
  pools: AdminResult;
  /** null when SHOW USERS failed. */
  users: AdminResult | null;
  /** null when SHOW VERSION failed. */
  version: AdminResult | null;
}

/** The typed facts of one poll's result sets. */
export function parsePgbouncerFacts(results: AdminResults): PgbouncerFacts {
  const config = configMap(results.config, results.instance);
  const setting = (key: string): string => {
    const value = config.get(key);
    if (value === undefined) {
      throw new PgbouncerFactsError(`PgBouncer ${results.instance}: SHOW CONFIG has no ${key}; is this a PgBouncer admin console?`);
    }
    return value;
  };
  const intSetting = (key: string): number => {
    const value = toInt(setting(key));
    if (value === null) throw new PgbouncerFactsError(`PgBouncer ${results.instance}: SHOW CONFIG ${key} is not a number`);
    return value;
  };
  const maxUserConnections = intSetting('max_user_connections');
  const databases = parseDatabases(results.databases, results.instance);
  const pools = parsePools(results.pools, results.instance);
  return {
    instance: results.instance,
    version: results.version ? parseVersion(results.version) : null,
    maxClientConn: intSetting('max_client_conn'),
    defaultPoolSize: intSetting('default_pool_size'),
    reservePool: intSetting('reserve_pool_size'),
    maxDbConnections: intSetting('max_db_connections'),
    maxUserConnections,
    poolModeDefault: setting('pool_mode'),
    databases,
    users: results.users ? parseUsers(results.users, maxUserConnections) : [],
    usersShown: results.users !== null,
    pools,
    clientConnections: pools.reduce((sum, pool) => sum + pool.clActive + pool.clWaiting + pool.clCancelRequests, 0),
  };
}

/** Where a figure of Coder's pool came from, in PgBouncer's order of precedence. */
export type PoolSettingSource = 'user' | 'database' | 'default';

/** Coder's pool on one PgBouncer, resolved as PgBouncer resolves it. */
export interface CoderPgbouncerPool {
  /** The SHOW DATABASES entry Coder connects to. */
  database: PgbouncerDatabase;
  /** The user the pool connects to PostgreSQL as: the entry's force_user, else Coder's role. */
  user: string;
  /** Server connections the pool opens before the reserve. */
  poolSize: number;
  /** 'database' includes default_pool_size, which SHOW DATABASES already falls back to. */
  poolSizeSource: 'user' | 'database';
  reservePool: number;
  reservePoolSource: 'user' | 'database';
  /** max_db_connections in force for the entry; 0 = unlimited. */
  maxDbConnections: number;
  /** max_user_connections in force for the pool's user; 0 = unlimited. */
  maxUserConnections: number;
  /**
   * The most server connections Coder's pool can hold on this instance:
   * min(poolSize + reservePool, maxDbConnections if > 0, maxUserConnections if > 0).
   * The two limits are shared with other pools of the same database or user.
   */
  serverCap: number;
  poolMode: string;
  poolModeSource: PoolSettingSource;
  /** The live SHOW POOLS row; null until a client of Coder's has connected. */
  pool: PgbouncerPool | null;
}

/**
 * Coder's pool: the SHOW DATABASES entry named `coderEntry` (the database name in Coder's
 * URL, --pgbouncer.database) and the user `coderRole`, or the entry's force_user. null when no entry has that
 * name: PgBouncer then refuses Coder, unless an auto-database ("*") is configured, which the
 * admin console does not list until a client has used it.
 *
 * Precedence follows PgBouncer's src/server.c (pool_pool_size, pool_res_pool_size,
 * probably_wrong_pool_pool_mode), user before database: a user's pool_size (1.23+),
 * reserve_pool_size (1.24+) and pool_mode override the database entry's, which override the
 * global defaults.
 */
export function coderPool(facts: PgbouncerFacts, coderRole: string, coderEntry: string): CoderPgbouncerPool | null {
  const database = facts.databases.find((db) => db.name === coderEntry);
  if (!database) return null;
  const userName = database.user ?? coderRole;
  const user = facts.users.find((u) => u.name === userName) ?? null;

  const poolSize = user?.poolSize ?? database.poolSize;
  const reservePool = user?.reservePool ?? database.reservePool;
  const maxDbConnections = database.maxConnections;
  const maxUserConnections = user?.maxUserConnections ?? facts.maxUserConnections;
  const limits = [poolSize + reservePool, maxDbConnections, maxUserConnections].filter((limit, i) => i === 0 || limit > 0);

  let poolMode = facts.poolModeDefault;
  let poolModeSource: PoolSettingSource = 'default';
  if (user?.poolMode) {
    poolMode = user.poolMode;
    poolModeSource = 'user';
  } else if (database.poolMode) {
    poolMode = database.poolMode;
    poolModeSource = 'database';
  }

  return {
    database,
    user: userName,
    poolSize,
    poolSizeSource: user?.poolSize != null ? 'user' : 'database',
    reservePool,
    reservePoolSource: user?.reservePool != null ? 'user' : 'database',
    maxDbConnections,
    maxUserConnections,
    serverCap: Math.min(...limits),
    poolMode,
    poolModeSource,
    pool: facts.pools.find((p) => p.database === database.name && p.user === userName) ?? null,
  };
}

function configMap(result: AdminResult, instance: string): Map<string, string> {
  requireColumns(result, ['key', 'value'], 'SHOW CONFIG', instance);
  const map = new Map<string, string>();
  for (const row of result.rows) {
    const key = row['key'];
    if (typeof key === 'string') map.set(key, row['value'] === null || row['value'] === undefined ? '' : String(row['value']));
  }
  return map;
}

function parseDatabases(result: AdminResult, instance: string): PgbouncerDatabase[] {
  requireColumns(result, ['name', 'database', 'pool_size'], 'SHOW DATABASES', instance);
  const read = columnReader(result);
  return result.rows.map((row) => ({
    name: String(row['name']),
    host: read.text(row, 'host'),
    port: read.int(row, 'port'),
    database: String(row['database']),
    user: read.text(row, 'force_user'),
    poolSize: read.int(row, 'pool_size') ?? 0,
    reservePool: read.int(row, 'reserve_pool_size', 'reserve_pool') ?? 0,
    poolMode: read.text(row, 'pool_mode'),
    maxConnections: read.int(row, 'max_connections') ?? 0,
    currentConnections: read.int(row, 'current_connections') ?? 0,
  }));
}

function parseUsers(result: AdminResult, globalMaxUserConnections: number): PgbouncerUser[] {
  const read = columnReader(result);
  return result.rows.map((row) => ({
    name: String(row['name']),
    poolMode: read.text(row, 'pool_mode'),
    poolSize: read.int(row, 'pool_size'),
    reservePool: read.int(row, 'reserve_pool_size'),
    maxUserConnections: read.int(row, 'max_user_connections') ?? globalMaxUserConnections,
  }));
}

function parsePools(result: AdminResult, instance: string): PgbouncerPool[] {
  requireColumns(result, ['database', 'user', 'cl_active', 'cl_waiting', 'sv_active'], 'SHOW POOLS', instance);
  const read = columnReader(result);
  const count = (row: Record<string, unknown>, name: string): number => read.int(row, name) ?? 0;
  return result.rows.map((row) => ({
    database: String(row['database']),
    user: String(row['user']),
    clActive: count(row, 'cl_active'),
    clWaiting: count(row, 'cl_waiting'),
    clCancelRequests: count(row, 'cl_active_cancel_req') + count(row, 'cl_waiting_cancel_req'),
    svActive: count(row, 'sv_active'),
    svIdle: count(row, 'sv_idle'),
    svUsed: count(row, 'sv_used'),
    svTested: count(row, 'sv_tested'),
    svLogin: count(row, 'sv_login'),
    maxWaitSeconds: count(row, 'maxwait') + count(row, 'maxwait_us') / 1e6,
    poolMode: read.text(row, 'pool_mode'),
  }));
}

function parseVersion(result: AdminResult): string | null {
  const text = result.rows[0]?.['version'];
  if (typeof text !== 'string') return null;
  return /(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1] ?? null;
}

/**
 * Reads a column only when the result has it, so an older or newer PgBouncer's column set
 * gives null instead of a wrong value. The first present name of `names` wins (renames).
 */
function columnReader(result: AdminResult) {
  const present = new Set(result.fields.map((f) => f.name));
  const pick = (names: string[]): string | undefined => names.find((n) => present.has(n));
  return {
    text(row: Record<string, unknown>, ...names: string[]): string | null {
      const name = pick(names);
      const value = name === undefined ? null : row[name];
      return value === null || value === undefined || value === '' ? null : String(value);
    },
    int(row: Record<string, unknown>, ...names: string[]): number | null {
      const name = pick(names);
      return name === undefined ? null : toInt(row[name]);
    },
  };
}

/** Integers arrive as numbers (int4 columns) or as text, padded in SHOW USERS ("%9d"). */
function toInt(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string' || value.trim() === '') return null;
  const parsed = Number(value.trim());
  return Number.isInteger(parsed) ? parsed : null;
}

function requireColumns(result: AdminResult, names: string[], command: string, instance: string): void {
  const present = new Set(result.fields.map((f) => f.name));
  const missing = names.filter((n) => !present.has(n));
  if (missing.length > 0) {
    throw new PgbouncerFactsError(
      `PgBouncer ${instance}: ${command} has no column ${missing.join(', ')}; is this a PgBouncer admin console (database "pgbouncer")?`,
    );
  }
}
