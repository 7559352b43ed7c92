// A stand-in for one coderd replica, for `coder-pg-capacity demo` and for tests: it holds
// real PostgreSQL connections the way coderd does (a database/sql pool plus one LISTEN
// connection for pubsub, and optionally the chat pubsub's batch sender) and serves the
// Prometheus text coderd's /metrics shows for them. Given an `address` it behaves as a pod
// with that IP: /metrics listens there and PostgreSQL sees its connections come from there.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import zlib from 'node:zlib';
import pg from 'pg';
import type { PoolCloseReason } from '../src/model/pool-closes.js';
import { ConnectionActivity } from './connection-activity.js';
import { filterFamilies, formatDbStats, formatFillerSeries, formatPubsubConnected, withDefaults, type FullDbStats } from './client-golang-format.js';
import { streamFrom } from './local-address.js';

export { formatDbStats, formatFillerSeries, formatGoFloat, formatPubsubConnected, type DbStats, type PubsubBackend } from './client-golang-format.js';

export interface StandInReplicaOptions {
  connectionString: string;
  /** What the replica reports as go_sql_max_open_connections (CODER_PG_CONN_MAX_OPEN). */
  poolMax: number;
  /** Pooled connections to hold at start. */
  open: number;
  /**
   * How many of the open connections are in use running a statement (default 0): PostgreSQL
   * sees them 'active', as a real pool's busy connections.
   */
  inUse?: number;
  /**
   * How many more hold a transaction open and do nothing (BEGIN; SELECT 1), as
   * coder/coder#21339 found: 'idle in transaction' to PostgreSQL, in use to the pool.
   */
  idleInTransaction?: number;
  /** HTTP port; 0 (default) = any free port. */
  port?: number;
  /** Where /metrics listens; default `address`, else 127.0.0.1. */
  host?: string;
  /**
   * The replica's own loopback address, as a pod has its own IP (e.g. '127.0.0.2'): /metrics
   * listens there (its url is http://127.0.0.2:PORT/metrics) and every PostgreSQL connection
   * it opens is bound to it, so pg_stat_activity.client_addr shows it. Any of 127.0.0.0/8
   * works on Linux; the harness PostgreSQL's pg_hba.conf admits the whole range. Default:
   * none, the connections come from wherever the kernel picks (127.0.0.1).
   */
  address?: string;
  /**
   * Where its PostgreSQL connections come from when that is not `address`: replicas behind
   * SNAT or a proxy, several of them passing the same value (e.g. '127.0.0.9'). Default
   * `address`.
   */
  connectFrom?: string;
  /**
   * One more connection outside the pool, as coderd's chat pubsub batch sender (an sql.DB of
   * its own with at most one connection, opened at start-up): it has run a query and stays
   * open. No go_sql_* figure counts it, nor coder_pubsub_connected, so with open 5 PostgreSQL
   * sees 7 backends (5 + LISTEN + sender) where go_sql_open_connections says 5. Default false.
   */
  sender?: boolean;
  /**
   * Serve `coder_pubsub_connected{backend="postgres"}` as newer coderd does (a gauge vector
   * labelled postgres or nats) instead of the unlabelled `coder_pubsub_connected` of older
   * releases (default false: unlabelled).
   */
  pubsubBackendLabel?: boolean;
  /** Per-workspace-like series served before the go_sql families (default 0). */
  fillerSeries?: number;
  /**
   * application_name of every connection; default 'coderd-stand-in' so tests can count
   * them. Real Coder sets none: pass '' to behave like it.
   */
  applicationName?: string;
  /**
   * Whether /metrics?name[]=... serves only the families named, as client_golang 1.24 and
   * later do (default true); false behaves like an older coderd, which ignores the
   * parameter and sends everything.
   */
  honoursNameFilter?: boolean;
}

export interface StandInReplica {
  /** http://HOST:PORT/metrics */
  url: string;
  /** Grows or shrinks the pooled connections; rejects when PostgreSQL refuses one. */
  setOpen(n: number): Promise<void>;
  /** Connections running a statement; counted in go_sql_in_use_connections. */
  setInUse(n: number): void;
  /** Connections left idle in a transaction; counted in go_sql_in_use_connections too. */
  setIdleInTransaction(n: number): Promise<void>;
  /** Bumps go_sql_<reason>_closed_total by reason (no connection is really closed). */
  addClosed(closed: Partial<Record<PoolCloseReason, number>>): void;
  /**
   * When true, requests are accepted and never answered (a stuck replica); requests
   * already hanging stay so until the client gives up or close().
   */
  setHang(hang: boolean): void;
  /** Bumps go_sql_wait_count_total and go_sql_wait_duration_seconds_total. */
  addWait(count: number, seconds: number): void;
  /**
   * false: the replica lost its LISTEN, its connection closed and coder_pubsub_connected 0.
   * true: it LISTENs again on a new connection and reports 1 (nothing to do when it does).
   */
  setPubsubConnected(connected: boolean): Promise<void>;
  /** What /metrics would show now. */
  stats(): FullDbStats & { pubsubConnected: boolean };
  /** Ends every connection and the HTTP server. */
  close(): Promise<void>;
}

export const DEFAULT_APPLICATION_NAME = 'coderd-stand-in';
/** The channel coderd's pubsub LISTENs on. */
export const PUBSUB_CHANNEL = 'coder_pubsub';

export async function startStandInReplica(opts: StandInReplicaOptions): Promise<StandInReplica> {
  assertCount('open', opts.open);
  assertCount('poolMax', opts.poolMax);
  const replica = new Replica(opts);
  try {
    await replica.connectListener();
    if (opts.sender) await replica.connectSender();
    await replica.setOpen(opts.open);
    await replica.listen(opts.port ?? 0, opts.host ?? opts.address ?? '127.0.0.1');
  } catch (error) {
    await replica.close();
    throw error;
  }
  return replica;
}

class Replica implements StandInReplica {
  url = '';
  readonly #opts: StandInReplicaOptions;
  readonly #applicationName: string;
  readonly #pool: pg.Client[] = [];
  readonly #filler: string;
  readonly #server: http.Server;
  readonly #hung = new Set<http.ServerResponse>();
  #listener: pg.Client | undefined;
  #sender: pg.Client | undefined;
  #pubsubConnected = false;
  /** node-postgres' `stream` option binding each connection's source address, if one is set. */
  readonly #stream: (() => Socket) | undefined;
  /** ' from 127.0.0.2' in messages when the connections are bound, else ''. */
  readonly #from: string;
  #inUse: number;
  #idleInTransaction: number;
  readonly #activity = new ConnectionActivity();
  #closes: Record<PoolCloseReason, number> = { max_idle: 0, max_idle_time: 0, max_lifetime: 0 };
  #hang = false;
  #closed = false;
  #waitCount = 0;
  #waitDurationSeconds = 0;
  // setOpen calls run one after another, so two overlapping calls cannot both decide to
  // grow from the same count.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: StandInReplicaOptions) {
    this.#opts = opts;
    this.#applicationName = opts.applicationName ?? DEFAULT_APPLICATION_NAME;
    this.#inUse = opts.inUse ?? 0;
    this.#idleInTransaction = opts.idleInTransaction ?? 0;
    const from = opts.connectFrom ?? opts.address;
    this.#stream = from === undefined ? undefined : streamFrom(from);
    this.#from = from === undefined ? '' : ` from ${from}`;
    // Built once: thousands of series that never change are not worth rebuilding per scrape.
    this.#filler = formatFillerSeries(opts.fillerSeries ?? 0);
    this.#server = http.createServer((req, res) => this.#answer(req, res));
  }

  async connectListener(): Promise<void> {
    const client = await this.#connect('pubsub listener');
    // Like lib/pq's listener, coderd's one connection outside the pool.
    try {
      await client.query(`LISTEN ${PUBSUB_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.#listener = client;
    this.#pubsubConnected = true;
    // No reconnect: a terminated listener stays down, which is what tests of
    // coder_pubsub_connected 0 need (setPubsubConnected(true) brings it back).
    client.on('end', () => {
      if (this.#listener === client) this.#pubsubConnected = false;
    });
  }

  /** The chat pubsub's batch sender: one connection of its own sql.DB, used once and kept. */
  async connectSender(): Promise<void> {
    const client = await this.#connect('chat pubsub batch sender');
    try {
      await client.query('SELECT 1');
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.#sender = client;
  }

  setPubsubConnected(connected: boolean): Promise<void> {
    return this.#schedule(async () => {
      if (this.#closed) throw new Error('the stand-in replica is closed');
      if (connected === this.#pubsubConnected) return;
      const old = this.#listener;
      this.#listener = undefined;
      this.#pubsubConnected = false;
      await old?.end().catch(() => undefined);
      if (connected) await this.connectListener();
    });
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http://${shownHost}:${address.port}/metrics`;
  }

  setOpen(n: number): Promise<void> {
    const run = this.#queue.then(() => this.#resize(n));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  setInUse(n: number): void {
    assertCount('inUse', n);
    this.#inUse = n;
    void this.#schedule(() => this.#arrange());
  }

  setIdleInTransaction(n: number): Promise<void> {
    assertCount('idleInTransaction', n);
    this.#idleInTransaction = n;
    return this.#schedule(() => this.#arrange());
  }

  addClosed(closed: Partial<Record<PoolCloseReason, number>>): void {
    this.#closes = {
      max_idle: this.#closes.max_idle + (closed.max_idle ?? 0),
      max_idle_time: this.#closes.max_idle_time + (closed.max_idle_time ?? 0),
      max_lifetime: this.#closes.max_lifetime + (closed.max_lifetime ?? 0),
    };
  }

  /** Runs after the pending resizes and arrangements, one at a time. */
  #schedule(work: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** What each pooled connection does: transactions first, then running statements, the rest idle. */
  async #arrange(): Promise<void> {
    if (this.#closed) return;
    const transaction = Math.min(this.#idleInTransaction, this.#pool.length);
    const active = Math.min(this.#inUse, this.#pool.length - transaction);
    await this.#activity.arrange([...this.#pool], { transaction, active });
  }

  setHang(hang: boolean): void {
    this.#hang = hang;
  }

  addWait(count: number, seconds: number): void {
    this.#waitCount += count;
    this.#waitDurationSeconds += seconds;
  }

  stats(): FullDbStats & { pubsubConnected: boolean } {
    const open = this.#pool.length;
    const inUse = Math.min(this.#inUse + this.#idleInTransaction, open);
    return {
      ...withDefaults({
        maxOpen: this.#opts.poolMax,
        open,
        inUse,
        waitCount: this.#waitCount,
        waitDurationSeconds: this.#waitDurationSeconds,
        closed: this.#closes,
      }),
      pubsubConnected: this.#pubsubConnected,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const res of this.#hung) res.destroy();
    this.#hung.clear();
    const serverClosed = this.#server.listening
      ? new Promise<void>((resolve) => this.#server.close(() => resolve()))
      : Promise.resolve();
    this.#server.closeAllConnections();
    await this.#queue;
    await this.#activity.releaseAll(this.#pool);
    const clients = this.#pool.splice(0);
    if (this.#listener) clients.push(this.#listener);
    if (this.#sender) clients.push(this.#sender);
    this.#listener = undefined;
    this.#sender = undefined;
    this.#pubsubConnected = false;
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await serverClosed;
  }

  async #resize(target: number): Promise<void> {
    assertCount('open', target);
    if (this.#closed) throw new Error('the stand-in replica is closed');
    // Go's pool never holds more than its max; a stand-in that did would report numbers
    // no real replica can, and hide mistakes in the test that asked for them.
    if (this.#opts.poolMax > 0 && target > this.#opts.poolMax) {
      throw new RangeError(`open (${target}) cannot exceed poolMax (${this.#opts.poolMax}): database/sql would never open more`);
    }
    while (this.#pool.length > target) {
      const client = this.#pool.pop() as pg.Client;
      await this.#activity.release(client);
      await client.end().catch(() => undefined);
    }
    const missing = target - this.#pool.length;
    if (missing <= 0) return this.#arrange();
    const results = await Promise.allSettled(
      Array.from({ length: missing }, (_, i) => this.#connectPooled(`pooled connection ${this.#pool.length + i + 1} of ${target}`)),
    );
    const failures: unknown[] = [];
    for (const result of results) {
      if (result.status === 'fulfilled') this.#adopt(result.value);
      else failures.push(result.reason);
    }
    // Keep what did open: the metrics then show what the replica really holds.
    if (failures.length > 0) {
      const first = failures[0] instanceof Error ? failures[0].message : String(failures[0]);
      throw new Error(`${failures.length} of ${missing} new connections failed; now holding ${this.#pool.length}. First: ${first}`);
    }
    await this.#arrange();
  }

  #adopt(client: pg.Client): void {
    this.#pool.push(client);
    // A backend terminated from the server side drops out of the pool, as database/sql
    // discards a broken connection.
    client.on('end', () => {
      this.#activity.forget(client);
      const at = this.#pool.indexOf(client);
      if (at >= 0) this.#pool.splice(at, 1);
    });
  }

  /**
   * A pooled connection runs a query once it is open, as database/sql's first use (and
   * lib/pq's) does: behind PgBouncer a client holds a server connection only from its
   * first query on, so an unused stand-in would hold nothing on PostgreSQL.
   */
  async #connectPooled(role: string): Promise<pg.Client> {
    const client = await this.#connect(role);
    try {
      await client.query('SELECT 1');
    } catch (error) {
      await client.end().catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`stand-in replica: ${role}${this.#from} to ${describeTarget(this.#opts.connectionString)} failed its first query: ${reason}`);
    }
    return client;
  }

  async #connect(role: string): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.#opts.connectionString,
      // pg leaves out an empty application_name, as Coder's driver does.
      application_name: this.#applicationName,
      ...(this.#stream ? { stream: this.#stream } : {}),
    });
    // Errors on an idle connection (server restart, pg_terminate_backend) arrive as
    // events; 'end' follows and updates the counts, so there is nothing else to do.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`stand-in replica: ${role}${this.#from} to ${describeTarget(this.#opts.connectionString)} failed: ${reason}`);
    }
    return client;
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.#hang) {
      this.#hung.add(res);
      res.on('close', () => this.#hung.delete(res));
      return;
    }
    const names = new URL(req.url ?? '/', 'http://stand-in').searchParams.getAll('name[]');
    const body = this.#opts.honoursNameFilter === false ? this.#exposition() : filterFamilies(this.#exposition(), names);
    res.setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    if (!acceptsGzip(req.headers['accept-encoding'])) {
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.setHeader('Content-Encoding', 'gzip');
    res.setHeader('Vary', 'Accept-Encoding');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const gzip = zlib.createGzip();
    gzip.pipe(res);
    gzip.end(body);
  }

  #exposition(): string {
    const stats = this.stats();
    // Family order as coderd serves it: coder_pubsub_* < coderd_* < go_sql_*.
    const backend = this.#opts.pubsubBackendLabel ? 'postgres' : undefined;
    return formatPubsubConnected(stats.pubsubConnected, backend) + this.#filler + formatDbStats(stats);
  }
}

function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** host:port/database of a connection string, never its password. */
function describeTarget(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'the PostgreSQL of the given connection string';
  }
}

function assertCount(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a whole number >= 0, got ${n}`);
}
