// A real PgBouncer (the installed binary, Debian's package `pgbouncer`) in front of the
// harness's PostgreSQL, on a free loopback port, with password (SCRAM) auth on client
// connections and on the admin console, as in production. Several can run at once; each
// owns a temporary directory and one process. Shared by `npm run demo -- --with-pgbouncer`
// and the tests (test/support/pgbouncer.ts installs the package first when missing).
//
// PgBouncer refuses to run as root: as root it is started with `-u nobody` and its files
// belong to nobody. Every process and directory is ended by stop() (and at process exit as
// a last resort, whatever happened to afterAll).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { CODER_PASSWORD, MONITOR_PASSWORD, OTHER_PASSWORD, holdConnections } from './cluster.js';
import type { TestPostgres } from './embedded-postgres.js';
import { RecentLines } from './recent-lines.js';
import { freeLoopbackPort } from './free-port.js';
import { endedAtExit } from './ended-at-exit.js';

export type PoolMode = 'session' | 'transaction' | 'statement';

/** One `[databases]` entry; unset settings inherit PgBouncer's global ones. */
export interface PgbouncerDatabaseOptions {
  /** The name clients connect to. */
  name: string;
  /** The database on PostgreSQL; default: name. */
  dbname?: string;
  poolSize?: number;
  reservePool?: number;
  maxDbConnections?: number;
  poolMode?: PoolMode;
  /** force_user: the pool connects to PostgreSQL as this user (it must be in `users`). */
  forceUser?: string;
}

/** A user of auth_file (userlist.txt), with optional `[users]` settings. */
export interface PgbouncerUserOptions {
  name: string;
  /** Plain text: PgBouncer needs it to log in to PostgreSQL (SCRAM) as this user. */
  password: string;
  poolMode?: PoolMode;
  maxUserConnections?: number;
}

export interface StartPgbouncerOptions {
  postgres: TestPostgres;
  /** The global pool_mode. */
  poolMode: PoolMode;
  databases: PgbouncerDatabaseOptions[];
  /** Default 20, PgBouncer's. */
  defaultPoolSize?: number;
  /** Global reserve_pool_size; default 0. */
  reservePoolSize?: number;
  maxClientConn: number;
  /** Global max_db_connections; default 0 (unlimited). */
  maxDbConnections?: number;
  /** Global max_user_connections; default 0 (unlimited). */
  maxUserConnections?: number;
  /** In admin_users: may run every SHOW and RELOAD on the console (database "pgbouncer"). */
  adminUser: { name: string; password: string };
  /** In stats_users: may run SHOW on the console. */
  statsUsers?: { name: string; password: string }[];
  /** Client users; default: the cluster's coder, monitor and analytics (scenario.ts). */
  users?: PgbouncerUserOptions[];
}

/** What reload() may change; PgBouncer applies it without dropping clients. */
export type PgbouncerReloadable = Partial<
  Pick<StartPgbouncerOptions, 'poolMode' | 'databases' | 'defaultPoolSize' | 'reservePoolSize' | 'maxClientConn' | 'maxDbConnections' | 'maxUserConnections' | 'users'>
>;

export interface TestPgbouncer {
  host: '127.0.0.1';
  port: number;
  /** "1.18.0": the installed binary's. */
  version: string;
  /** The running process's id; null while down(). */
  readonly pid: number | null;
  /** postgres://admin:password@127.0.0.1:port/pgbouncer */
  adminUrl: string;
  /** A client URL through PgBouncer. */
  clientUrl(database: string, user: string, password: string): string;
  /** Rewrites pgbouncer.ini with the changes and runs RELOAD on the console (it returns once applied). */
  reload(changes: PgbouncerReloadable): Promise<void>;
  /** Ends the process (immediate shutdown: clients are dropped); the port and files stay for up(). */
  down(): Promise<void>;
  /** Starts the process again on the same port with the same files. */
  up(): Promise<void>;
  /** Ends the process and removes its directory; final. */
  stop(): Promise<void>;
  /** PgBouncer's last log lines, oldest first. */
  recentLog(): string[];
}

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 3;

/** The cluster's roles (scenario.ts), so that stand-in replicas can log in through PgBouncer. */
export const CLUSTER_USERS: PgbouncerUserOptions[] = [
  { name: 'coder', password: CODER_PASSWORD },
  { name: 'monitor', password: MONITOR_PASSWORD },
  { name: 'analytics', password: OTHER_PASSWORD },
];

// PgBouncers still running when the test process exits.
const live = endedAtExit('test-pgbouncer', 'SIGKILL');

/** Starts a PgBouncer in front of `postgres`, ready to take connections when it resolves; fails naming the package when none is installed. */
export async function startPgbouncer(options: StartPgbouncerOptions): Promise<TestPgbouncer> {
  const binary = pgbouncerBinary();
  const version = binaryVersion(binary);
  const runAs = process.getuid?.() === 0 ? 'nobody' : null;
  const owner = runAs === null ? null : userIds(runAs);

  const dir = await mkdtemp(path.join(tmpdir(), 'coder-pg-capacity-pgbouncer-'));
  live.dirs.add(dir);
  const iniPath = path.join(dir, 'pgbouncer.ini');
  const userlistPath = path.join(dir, 'userlist.txt');
  let settings: StartPgbouncerOptions = { ...options };
  let port = await freeLoopbackPort();
  const log = new RecentLines(200, 'pgbouncer');
  let child: ChildProcess | null = null;

  // userlist.txt holds plain-text passwords: only PgBouncer's user may read the files.
  const writeFiles = async (): Promise<void> => {
    await writeFile(iniPath, pgbouncerIni(settings, port, userlistPath), { mode: 0o600 });
    await writeFile(userlistPath, userlist(settings), { mode: 0o600 });
    if (owner) {
      for (const file of [dir, iniPath, userlistPath]) await chown(file, owner.uid, owner.gid);
    }
  };

  const adminUrl = (): string =>
    `postgres://${encodeURIComponent(options.adminUser.name)}:${encodeURIComponent(options.adminUser.password)}@127.0.0.1:${port}/pgbouncer`;

  const launch = async (): Promise<void> => {
    const mark = log.mark();
    const args = [...(runAs ? ['-u', runAs] : []), iniPath];
    const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    live.children.add(proc);
    proc.once('exit', () => live.children.delete(proc));
    proc.stdout?.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
    proc.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
    proc.on('error', (error) => log.push(`spawn error: ${error.message}`));
    try {
      await waitUntilReady(proc, adminUrl(), log, mark);
    } catch (error) {
      await endProcess(proc);
      throw error;
    }
  };

  try {
    await chmod(dir, 0o700);
    // Another process may take the free port between our probe and PgBouncer's bind.
    for (let attempt = 1; ; attempt++) {
      await writeFiles();
      const mark = log.mark();
      try {
        await launch();
        break;
      } catch (error) {
        const portTaken = log.since(mark).some((line) => /Address already in use/i.test(line));
        if (!portTaken || attempt >= PORT_ATTEMPTS) throw error;
        port = await freeLoopbackPort();
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    live.dirs.delete(dir);
    throw error;
  }

  let stopped = false;
  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    version,
    get pid() {
      const c = child as ChildProcess | null;
      return c !== null && c.exitCode === null && c.signalCode === null ? (c.pid ?? null) : null;
    },
    get adminUrl() {
      return adminUrl();
    },
    clientUrl: (database, user, password) =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    async reload(changes) {
      settings = { ...settings, ...changes };
      await writeFiles();
      const admin = new pg.Client({ connectionString: adminUrl() });
      admin.on('error', () => undefined);
      await admin.connect();
      try {
        await admin.query('RELOAD');
      } finally {
        await admin.end().catch(() => undefined);
      }
    },
    async down() {
      if (child) await endProcess(child);
      child = null;
    },
    async up() {
      if (stopped) throw new Error(`the test PgBouncer on port ${port} was stopped; start a new one`);
      if (child) return;
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        if (child) await endProcess(child);
        child = null;
      } finally {
        await rm(dir, { recursive: true, force: true });
        live.dirs.delete(dir);
      }
    },
    recentLog: () => log.lines(),
  };
}

/**
 * Stand-in pooled connections: each connects through PgBouncer and runs one query, as a
 * real pool does before it keeps a connection (PgBouncer links a server connection only
 * when a client sends a query). With `waitForQueries: false` the queries are sent and not
 * awaited, for clients meant to wait in a full pool (cl_waiting).
 */
export async function holdPooledConnections(
  url: string,
  count: number,
  options: { applicationName?: string; waitForQueries?: boolean } = {},
): Promise<{ clients: pg.Client[]; close(): Promise<void> }> {
  const held = await holdConnections(url, count, options.applicationName ?? 'coderd');
  const queries = held.clients.map((client) => client.query('SELECT 1'));
  if (options.waitForQueries === false) {
    for (const query of queries) query.catch(() => undefined);
  } else {
    try {
      await Promise.all(queries);
    } catch (error) {
      await held.close();
      throw error;
    }
  }
  return held;
}

function pgbouncerIni(o: StartPgbouncerOptions, port: number, userlistPath: string): string {
  const databases = o.databases.map((db) => {
    const params = [`host=127.0.0.1`, `port=${o.postgres.port}`, `dbname=${db.dbname ?? db.name}`];
    if (db.poolSize !== undefined) params.push(`pool_size=${db.poolSize}`);
    // reserve_pool: the name every version knows (1.24 added reserve_pool_size as an alias).
    if (db.reservePool !== undefined) params.push(`reserve_pool=${db.reservePool}`);
    if (db.maxDbConnections !== undefined) params.push(`max_db_connections=${db.maxDbConnections}`);
    if (db.poolMode !== undefined) params.push(`pool_mode=${db.poolMode}`);
    if (db.forceUser !== undefined) params.push(`user=${db.forceUser}`);
    return `${db.name} = ${params.join(' ')}`;
  });
  const users = clientUsers(o)
    .map((u) => {
      const params: string[] = [];
      if (u.poolMode !== undefined) params.push(`pool_mode=${u.poolMode}`);
      if (u.maxUserConnections !== undefined) params.push(`max_user_connections=${u.maxUserConnections}`);
      return params.length > 0 ? `${u.name} = ${params.join(' ')}` : null;
    })
    .filter((line) => line !== null);
  return [
    '[databases]',
    ...databases,
    '',
    '[users]',
    ...users,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    // No Unix socket: the default directory (/tmp) would collide between instances.
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${userlistPath}`,
    `admin_users = ${o.adminUser.name}`,
    `stats_users = ${(o.statsUsers ?? []).map((u) => u.name).join(',')}`,
    `pool_mode = ${o.poolMode}`,
    `max_client_conn = ${o.maxClientConn}`,
    `default_pool_size = ${o.defaultPoolSize ?? 20}`,
    `reserve_pool_size = ${o.reservePoolSize ?? 0}`,
    `max_db_connections = ${o.maxDbConnections ?? 0}`,
    `max_user_connections = ${o.maxUserConnections ?? 0}`,
    // Go's and libpq's clients send it; PgBouncer refuses unknown startup parameters.
    'ignore_startup_parameters = extra_float_digits',
    // A PostgreSQL restarted by a test is retried within a second, not 15.
    'server_login_retry = 1',
    '',
  ].join('\n');
}

function clientUsers(o: StartPgbouncerOptions): PgbouncerUserOptions[] {
  return o.users ?? CLUSTER_USERS;
}

function userlist(o: StartPgbouncerOptions): string {
  const entries = [o.adminUser, ...(o.statsUsers ?? []), ...clientUsers(o)];
  const quote = (text: string) => `"${text.replaceAll('"', '""')}"`;
  return entries.map((u) => `${quote(u.name)} ${quote(u.password)}`).join('\n') + '\n';
}

/** The pgbouncer binary on PATH (or in /usr/sbin, where Debian puts it); null when none is installed. */
export function findPgbouncerBinary(): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(path.delimiter), '/usr/sbin', '/usr/bin'];
  for (const dir of dirs) {
    if (dir !== '' && existsSync(path.join(dir, 'pgbouncer'))) return path.join(dir, 'pgbouncer');
  }
  return null;
}

function pgbouncerBinary(): string {
  const binary = findPgbouncerBinary();
  if (binary === null) throw new Error('no pgbouncer binary on PATH or in /usr/sbin: install PgBouncer (Debian and Ubuntu: apt-get install pgbouncer)');
  return binary;
}

function binaryVersion(binary: string): string {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const version = /PgBouncer (\d+\.\d+(?:\.\d+)?)/.exec(`${result.stdout}${result.stderr}`)?.[1];
  if (version === undefined) throw new Error(`${binary} --version printed no PgBouncer version: ${result.stdout}${result.stderr}`);
  return version;
}

function userIds(name: string): { uid: number; gid: number } {
  const id = (flag: string): number | null => {
    const result = spawnSync('id', [flag, name], { encoding: 'utf8' });
    const text = result.stdout?.trim() ?? '';
    return result.status === 0 && /^\d+$/.test(text) ? Number(text) : null;
  };
  const uid = id('-u');
  const gid = id('-g');
  if (uid === null || gid === null) {
    throw new Error(`PgBouncer refuses to run as root, and the user "${name}" to run it as does not exist: create it (useradd --system ${name})`);
  }
  return { uid, gid };
}

/** Ready = the admin console answers SHOW VERSION with the admin's password. */
async function waitUntilReady(proc: ChildProcess, url: string, log: RecentLines, mark: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = '';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`pgbouncer exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${log.render(log.since(mark))}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SHOW VERSION');
      return;
    } catch (error) {
      lastError = (error as Error).message;
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`pgbouncer not ready after ${READY_TIMEOUT_MS} ms (${lastError}):\n${log.render(log.since(mark))}`);
}

/**
 * Immediate shutdown on every version: SIGTERM is immediate before 1.23 and "wait for the
 * clients" since, where a second SIGTERM makes it immediate. SIGKILL if it still lingers.
 */
async function endProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const again = setTimeout(() => proc.kill('SIGTERM'), 200);
  const kill = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(again);
    clearTimeout(kill);
  }
}

