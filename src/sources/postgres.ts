// The PostgreSQL source: one persistent connection, one statement per poll.
//
// One persistent connection: a monitor that opened a new one per poll would fail exactly
// when the slots run out, the moment it matters most. When the connection is lost it is
// re-opened at a poll, with capped exponential backoff between attempts.

import type pg from 'pg';
import type { Logger } from '../log.js';
import { postgresFailureKind } from '../model/postgres-failure.js';
import type { PostgresFacts } from '../model/snapshot.js';
import { redactSecrets } from '../redact.js';
import type { PostgresConnectionSettings } from '../config/postgres-connection.js';
import { iamEndpoint, rdsIamTokenProvider, type AuthTokenProvider, type PostgresAuth } from './postgres-iam.js';
import { liveReplicasStatement, parsePollRow, parseReplicaRows, pollParameters, pollStatement, pollStatementName, roundTripStatement, type PollRow, type ReplicaTableRow } from './postgres-query.js';
import { connectPersistent } from './persistent-client.js';
import { readPasswordFile } from './password-file.js';
import { probeProtocol } from './protocol-probe.js';
import { timed, type Source, type SourceCollection } from './source.js';
import {
  DEFAULT_POSTGRES_TLS,
  TlsFileError,
  buildSslOptions,
  describeTlsFailure,
  fallsBackToPlaintext,
  resolvePostgresTls,
  withoutTlsParameters,
  type PostgresTlsSettings,
} from './postgres-tls.js';

export const MONITOR_APPLICATION_NAME = 'coder-pg-capacity';

export interface PostgresSourceOptions {
  connection: PostgresConnectionSettings;
  providerReserved: number | 'auto';
  coderRole: string;
  coderDatabase: string;
  coderApplicationName: string | null;
  replicasFromDb: boolean;
  timeoutMs: number;
  logger: Logger;
  /** Backoff bounds between reconnect attempts; the cap stays under the default poll interval. */
  backoff?: { initialMs: number; maxMs: number };
  /** sslmode and certificates, resolved by config; default: the URL's own parameters, else prefer. */
  tls?: PostgresTlsSettings;
  /** 'awsiamrds': the password is a fresh IAM token at every connect. Default 'password'. */
  auth?: PostgresAuth;
  /** Makes the IAM token; default: @aws-sdk/rds-signer with the standard AWS chain. */
  authTokenProvider?: AuthTokenProvider;
}

export type PostgresPoll =
  | { ok: true; facts: PostgresFacts; roundTripSeconds: number }
  | { ok: false; error: string; code: string | null };

/** A failure, with what failed and what to check, ready to log and to show. */
export class PostgresSourceError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'PostgresSourceError';
  }
}

export class PostgresSource implements Source {
  readonly reportNames = ['postgres'] as const;
  private client: pg.Client | null = null;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastError: PostgresSourceError | null = null;
  private warnedPasswordWhitespace = false;
  private warnedPasswordOverride = false;
  private loggedPlaintextFallback = false;
  private previousPollAt: number | null = null;
  /** The last IAM token: a bearer secret for 15 minutes, masked like a password. */
  private currentToken: string | null = null;
  private readonly secrets: (string | null)[] = [];
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly tls: PostgresTlsSettings;
  private readonly tokenProvider: AuthTokenProvider | null;

  constructor(private readonly options: PostgresSourceOptions) {
    this.backoff = options.backoff ?? { initialMs: 500, maxMs: 10_000 };
    this.secrets.push(options.connection.password);
    this.tls = options.tls ?? tlsFromUrl(options.connection.url, options.auth ?? 'password');
    this.tokenProvider = options.auth === 'awsiamrds' ? (options.authTokenProvider ?? rdsIamTokenProvider()) : null;
  }

  /** Where we connect, for messages: never with credentials. */
  get address(): string {
    const { host, port } = this.options.connection;
    return `${host ?? 'localhost'}:${port ?? 5432}`;
  }

  /** PostgreSQL's facts, or why they could not be read, and the report for source "postgres". */
  async collect(): Promise<SourceCollection> {
    const { value: poll, seconds } = await timed(() => this.poll());
    if (poll.ok) {
      return { observations: { postgres: poll.facts, roundTripSeconds: poll.roundTripSeconds }, reports: [{ source: 'postgres', up: true, seconds, errors: [] }] };
    }
    return {
      observations: { postgresFailure: { kind: postgresFailureKind(poll.code), code: poll.code, message: poll.error } },
      reports: [{ source: 'postgres', up: false, seconds, errors: [{ target: this.address, message: poll.error }] }],
    };
  }

  /** Runs the poll statement; every failure is returned as data. */
  async poll(now: number = Date.now()): Promise<PostgresPoll> {
    const sincePreviousPoll = this.previousPollAt === null ? Infinity : now - this.previousPollAt;
    this.previousPollAt = now;
    try {
      const client = await this.connected(now, sincePreviousPoll);
      // The round trip is an empty statement's: the poll statement's own time grows with
      // pg_stat_activity (10 ms on one machine with thousands of backends), which is not
      // the network between Coder and PostgreSQL that the latency alert is about.
      const started = performance.now();
      await client.query(roundTripStatement);
      const roundTripSeconds = (performance.now() - started) / 1000;
      const result = await client.query<PollRow>({
        name: pollStatementName,
        text: pollStatement(),
        values: pollParameters(this.options.coderRole, this.options.coderDatabase, this.options.coderApplicationName),
      });
      const row = result.rows[0];
      if (!row) throw new PostgresSourceError('the poll statement returned no row', null);
      const facts = parsePollRow(row, this.options.providerReserved);
      if (this.options.replicasFromDb) Object.assign(facts, await this.liveReplicas(client));
      return { ok: true, facts, roundTripSeconds };
    } catch (error) {
      const failure = this.describe(error);
      // After a failed statement the session state is unknown (a client-side timeout may
      // leave a query running): start clean at the next poll.
      await this.drop();
      return { ok: false, error: failure.message, code: failure.code };
    }
  }

  async close(): Promise<void> {
    await this.drop();
  }

  private async connected(now: number, sincePreviousPoll: number): Promise<pg.Client> {
    if (this.client) return this.client;
    if (now < this.nextAttemptAt && this.lastError) throw this.lastError;
    try {
      const base = await this.clientConfig();
      let client: pg.Client;
      try {
        client = await this.open({ ...base, ssl: await buildSslOptions(this.tls) });
      } catch (error) {
        if (!fallsBackToPlaintext(this.tls, error)) throw error;
        client = await this.open({ ...base, ssl: false });
        if (!this.loggedPlaintextFallback) {
          this.loggedPlaintextFallback = true;
          this.options.logger.info(
            { address: this.address, sslmode: this.tls.mode },
            'PostgreSQL offers no TLS: connected without encryption (sslmode=prefer). Set --postgres.sslmode=require or verify-full to insist on TLS',
          );
        }
      }
      this.client = client;
      this.failures = 0;
      this.lastError = null;
      return client;
    } catch (error) {
      this.failures++;
      // The backoff spaces attempts when polls come faster than reconnects should, but it
      // never makes a poll skip its attempt when polls are already further apart: with
      // PostgreSQL back, the monitor sees it at the next poll.
      const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (this.failures - 1), sincePreviousPoll / 2);
      this.nextAttemptAt = now + delay;
      this.lastError = (await this.notPostgres(error)) ?? this.describe(error);
      throw this.lastError;
    }
  }

  private open(config: pg.ClientConfig): Promise<pg.Client> {
    return connectPersistent(config, (lost) => {
      if (this.client === lost) this.client = null;
    });
  }

  /**
   * The live rows of Coder's replicas table, as their own statement: a missing GRANT, table
   * or column fails this read alone (replicas_table_unreadable), never the poll.
   */
  private async liveReplicas(client: pg.Client): Promise<Pick<PostgresFacts, 'liveReplicasFromDb' | 'replicaRows' | 'replicasTableError'>> {
    try {
      const result = await client.query<ReplicaTableRow>({ name: 'coder_pg_capacity_live_replicas', text: liveReplicasStatement });
      const rows = parseReplicaRows(result.rows);
      return { liveReplicasFromDb: rows.length, replicaRows: rows, replicasTableError: null };
    } catch (error) {
      const err = error as Error & { code?: string };
      if (err.code === undefined) throw error; // the connection itself failed: the poll fails with it
      const where = `Coder's replicas table in database ${this.options.connection.database ?? '(the URL\'s)'}`;
      const hints: Record<string, string> = {
        '42P01': `${where} does not exist (42P01): connect the monitor to Coder's database (--postgres.url), where Enterprise Coder keeps its live replicas`,
        '42501': `the monitor may not read ${where} (42501): GRANT SELECT ON replicas TO the monitor's role`,
        '42703': `${where} lacks a column the count needs (42703 ${err.message}): this Coder version keeps replicas differently; use --coder.targets or --coder.replicas instead`,
      };
      return {
        liveReplicasFromDb: null,
        replicaRows: null,
        replicasTableError: hints[err.code] ?? `cannot count ${where} (${err.code} ${err.message}): use --coder.targets or --coder.replicas instead`,
      };
    }
  }

  private async clientConfig(): Promise<pg.ClientConfig> {
    const { connection, timeoutMs } = this.options;
    const password = this.tokenProvider
      ? await this.iamToken()
      : connection.passwordFile
        ? await this.readPasswordFile(connection.passwordFile)
        : connection.password;
    const base: pg.ClientConfig = connection.url
      ? { connectionString: withPassword(withoutTlsParameters(connection.url), password) }
      : {
          host: connection.host ?? undefined,
          port: connection.port ?? undefined,
          user: connection.user ?? undefined,
          database: connection.database ?? undefined,
          password: password ?? undefined,
        };
    return {
      ...base,
      application_name: MONITOR_APPLICATION_NAME,
      connectionTimeoutMillis: timeoutMs,
      statement_timeout: timeoutMs,
      // A client-side bound too: a statement timeout cannot fire if the network is gone.
      query_timeout: timeoutMs + 1000,
      keepAlive: true,
    };
  }

  /** A fresh token per connect: a token lives 15 minutes, the connection much longer. */
  private async iamToken(): Promise<string> {
    const endpoint = iamEndpoint(this.options.connection);
    if (typeof endpoint === 'string') throw new PostgresSourceError(`${endpoint}: check --postgres.url`, 'iam_token');
    try {
      this.currentToken = await (this.tokenProvider as AuthTokenProvider)(endpoint);
    } catch (error) {
      throw new PostgresSourceError(
        `cannot sign an RDS IAM token for ${endpoint.user}@${endpoint.host}:${endpoint.port} (${(error as Error).message}): set AWS_REGION to the database's region and give the monitor AWS credentials (IRSA, instance role or AWS_* variables)`,
        'iam_token',
      );
    }
    return this.currentToken;
  }

  /** Read at every connect so a rotated Secret takes effect without a restart. */
  private async readPasswordFile(path: string): Promise<string> {
    const read = await readPasswordFile(path);
    if (!read.ok) {
      throw new PostgresSourceError(
        `cannot read the password file ${path} (${read.reason}): check --postgres.password-file / DB_PASSWORD_PATH and the Secret's mount`,
        'password_file',
      );
    }
    const { password } = read;
    if (read.trimmed && !this.warnedPasswordWhitespace) {
      this.warnedPasswordWhitespace = true;
      this.options.logger.warn(
        { file: path },
        'the password file ends in whitespace (often a newline from `echo`); it was trimmed. Create the Secret with `printf` or `kubectl create secret --from-literal` to avoid surprises',
      );
    }
    // Once, not at every reconnect: the two passwords stay as they are until a restart.
    if (this.options.connection.password !== null && !this.warnedPasswordOverride) {
      this.warnedPasswordOverride = true;
      const other = this.options.connection.url ? 'the password in --postgres.url / CODER_PG_CONNECTION_URL' : 'PGPASSWORD';
      this.options.logger.warn(
        { file: path },
        `the password file ${path} overrides ${other}; the file's is used. Remove the other password so that one Secret is the only source`,
      );
    }
    if (!this.secrets.includes(password)) this.secrets.push(password);
    return password;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }

  /**
   * A connect the server dropped without a word may have reached something else than
   * PostgreSQL (a web port in --postgres.url): ask the port once, so the message says so.
   */
  private async notPostgres(error: unknown): Promise<PostgresSourceError | null> {
    // A web server drops the startup packet (sslmode=disable) or leaves pg waiting on its
    // answer to the SSLRequest (sslmode=prefer, the default) until the connect times out.
    if (!/Connection terminated unexpectedly|error establishing an SSL connection|timeout expired|timeout exceeded/i.test((error as Error)?.message ?? '')) return null;
    const { host, port } = this.options.connection;
    if (host === null || host.startsWith('/')) return null;
    const protocol = await probeProtocol(host, port ?? 5432, Math.min(this.options.timeoutMs / 2, 1000));
    if (protocol === 'postgres' || protocol === 'no-answer') return null;
    const what = protocol === 'http' ? 'answers HTTP' : 'answers';
    return new PostgresSourceError(
      `${this.address} ${what}, not the PostgreSQL protocol: --postgres.url points at another service (a coderd or metrics port?); give PostgreSQL's port, usually 5432`,
      'not_postgres',
    );
  }

  /** Turns any failure into a message naming the input and the next step. */
  private describe(error: unknown): PostgresSourceError {
    if (error instanceof PostgresSourceError) return error;
    if (error instanceof TlsFileError) return new PostgresSourceError(error.message, 'tls_file');
    const err = error as Error & { code?: string };
    const code = err.code ?? null;
    const raw = redactSecrets(err.message ?? String(error), [...this.secrets, this.currentToken]);
    const at = `PostgreSQL at ${this.address}`;
    const tlsFailure = describeTlsFailure(error, this.tls, at);
    if (tlsFailure) return new PostgresSourceError(redactSecrets(tlsFailure, [...this.secrets, this.currentToken]), code ?? 'tls');
    if (this.tokenProvider && (code === '28P01' || code === '28000')) {
      return new PostgresSourceError(
        `${at} refused the IAM token for user ${this.options.connection.user ?? '(default)'} (${code} ${raw}): GRANT rds_iam TO the user, allow rds-db:connect for it in the monitor's IAM policy, and check AWS_REGION is the database's region`,
        code,
      );
    }
    const hints: Record<string, string> = {
      ECONNREFUSED: `cannot reach ${at} (ECONNREFUSED): is it running, and is --postgres.url right?`,
      ENOTFOUND: `cannot resolve the host of ${at} (ENOTFOUND): check --postgres.url`,
      ETIMEDOUT: `connecting to ${at} timed out: check the network path and --poll.timeout`,
      '28P01': `${at} refused the password for user ${this.options.connection.user ?? '(default)'} (28P01): check the URL's password or --postgres.password-file`,
      '28000': `${at} refused the connection (28000 ${raw}): check pg_hba.conf for this client`,
      '53300': `${at} has no free slot for the monitor (53300 too_many_connections): on PostgreSQL 16+ set reserved_connections >= 1 and GRANT pg_use_reserved_connections TO the monitor's role; otherwise free slots`,
      '57014': `the poll statement on ${at} exceeded --poll.timeout (57014 statement timeout)`,
      '3D000': `${at}: database "${this.options.connection.database ?? '(default)'}" does not exist (3D000): check the database in --postgres.url (Coder's is usually "coder")`,
      '57P01': `${at} terminated the monitor's connection (57P01 admin shutdown); reconnecting at the next poll`,
    };
    if (code && hints[code]) return new PostgresSourceError(hints[code] as string, code);
    if (/timeout/i.test(raw)) return new PostgresSourceError(`${at}: ${raw} (bounded by --poll.timeout)`, 'timeout');
    if (/Connection terminated/i.test(raw)) return new PostgresSourceError(`${at}: connection lost (${raw}); reconnecting at the next poll`, 'connection_lost');
    return new PostgresSourceError(`${at}: ${raw}`, code);
  }
}

/** The URL's own TLS parameters when config resolved none (tests, embedders). */
function tlsFromUrl(url: string | null, auth: PostgresAuth): PostgresTlsSettings {
  const problems: string[] = [];
  const settings = url === null && auth === 'password' ? DEFAULT_POSTGRES_TLS : resolvePostgresTls({ url, given: {}, requireEncryption: auth === 'awsiamrds' ? { because: '--postgres.auth=awsiamrds' } : undefined }, problems);
  if (problems.length > 0) throw new Error(`invalid PostgreSQL TLS settings: ${problems.join('; ')}`);
  return settings;
}

/** pg lets a URL's (absent) password override an explicit one, so the file's password goes into the URL. */
function withPassword(url: string, password: string | null): string {
  if (password === null) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}
