// The PgBouncer source for one instance: one persistent admin-console connection, and each
// poll SHOW CONFIG, SHOW DATABASES, SHOW POOLS, SHOW USERS (and SHOW VERSION), turned into
// typed facts (pgbouncer-facts.ts, which lists the columns relied on).
//
// The admin console speaks the simple query protocol only: an extended-protocol message
// (a parameter, a named statement) makes PgBouncer close the connection with "bad packet".
// So every query here is a plain text query, and none carries a value.

import pg from 'pg';
import { redactSecrets } from '../redact.js';
import { PgbouncerFactsError, parsePgbouncerFacts, type AdminResult, type PgbouncerFacts } from './pgbouncer-facts.js';

export { coderPool, type CoderPgbouncerPool, type PgbouncerFacts } from './pgbouncer-facts.js';

export type PgbouncerPoll = { ok: true; facts: PgbouncerFacts } | { ok: false; error: string; code: string };

export interface PgbouncerAdminOptions {
  /** postgres://user[:password]@host:6432/pgbouncer (may hold a password: never logged). */
  url: string;
  /** A password that overrides the URL's (read from a password file by the caller). */
  password?: string | null;
  /** TLS options as node-postgres takes them; default: the URL's own (sslmode=...). */
  ssl?: pg.ClientConfig['ssl'];
  /** Bounds the connect and each SHOW; default 5000 ms. */
  timeoutMs?: number;
}

/**
 * Reads one PgBouncer's facts over a connected admin-console client. Failures of the
 * connection or of a required SHOW reject; SHOW USERS and SHOW VERSION may fail alone
 * (older or restricted versions) and leave their part empty.
 */
export async function readPgbouncer(client: pg.Client, instance = `${client.host}:${client.port}`): Promise<PgbouncerFacts> {
  const config = await show(client, 'SHOW CONFIG');
  const databases = await show(client, 'SHOW DATABASES');
  const pools = await show(client, 'SHOW POOLS');
  const users = await showOptional(client, 'SHOW USERS');
  const version = await showOptional(client, 'SHOW VERSION');
  return parsePgbouncerFacts({ instance, config, databases, pools, users, version });
}

/** One PgBouncer instance's admin console, polled over one persistent connection. */
export class PgbouncerAdmin {
  readonly instance: string;
  private client: pg.Client | null = null;
  private readonly user: string;
  private readonly secrets: (string | null)[];
  private readonly timeoutMs: number;

  constructor(private readonly options: PgbouncerAdminOptions) {
    const url = new URL(options.url);
    this.instance = `${url.hostname}:${url.port || '6432'}`;
    this.user = decodeURIComponent(url.username) || '(default user)';
    this.secrets = [decodeURIComponent(url.password) || null, options.password ?? null];
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Reads the instance; a failure is data, and the next poll reconnects. */
  async poll(): Promise<PgbouncerPoll> {
    try {
      const client = await this.connected();
      return { ok: true, facts: await readPgbouncer(client, this.instance) };
    } catch (error) {
      // After a failure the connection's state is unknown (a timed-out SHOW may still
      // answer later): start clean at the next poll.
      await this.drop();
      const { message, code } = this.describe(error);
      return { ok: false, error: message, code };
    }
  }

  async close(): Promise<void> {
    await this.drop();
  }

  private async connected(): Promise<pg.Client> {
    if (this.client) return this.client;
    const config: pg.ClientConfig = {
      connectionString: this.options.url,
      application_name: 'coder-pg-capacity',
      connectionTimeoutMillis: this.timeoutMs,
      // Client-side only: PgBouncer refuses a statement_timeout startup parameter.
      query_timeout: this.timeoutMs,
      keepAlive: true,
    };
    if (this.options.password != null) config.password = this.options.password;
    if (this.options.ssl !== undefined) config.ssl = this.options.ssl;
    const client = new pg.Client(config);
    // PgBouncer restarting or dropping the console between polls: the next poll reconnects.
    // Listening here keeps the error event from crashing the process.
    client.on('error', () => {
      if (this.client === client) this.client = null;
    });
    try {
      await client.connect();
    } catch (error) {
      void client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    return client;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }

  /** A message that names the instance and the next step; never a password. */
  private describe(error: unknown): { message: string; code: string } {
    const at = `PgBouncer ${this.instance}`;
    if (error instanceof PgbouncerFactsError) return { message: error.message, code: 'unexpected_answer' };
    const err = error as Error & { code?: string };
    const raw = redactSecrets(err.message ?? String(error), this.secrets);
    const code = err.code ?? null;
    const result = (c: string, message: string) => ({ message: redactSecrets(message, this.secrets), code: c });

    if (code === 'ECONNREFUSED') return result(code, `cannot reach ${at} (ECONNREFUSED): is it running, and is --pgbouncer.url right?`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return result(code, `cannot resolve the host of ${at} (${code}): check --pgbouncer.url`);
    if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') return result(code, `cannot reach ${at} (${code}): check the network path to PgBouncer's port`);
    if (/not allowed/i.test(raw)) {
      return result(
        'not_admin_user',
        `${at} does not let user "${this.user}" into its admin console ("not allowed"): add it to admin_users or stats_users in pgbouncer.ini, then RELOAD`,
      );
    }
    if (code === '28P01' || /authentication failed/i.test(raw)) {
      return result(
        'auth_failed',
        `${at} refused the password of user "${this.user}" (${raw}): check the password in --pgbouncer.url (or its password file) against the user's entry in PgBouncer's auth_file`,
      );
    }
    if (/no such (database|user)/i.test(raw)) {
      return result('no_such_database', `${at}: ${raw}; the admin console is the database "pgbouncer": end --pgbouncer.url in /pgbouncer`);
    }
    if (/unsupported startup parameter/i.test(raw)) {
      return result('startup_parameter', `${at}: ${raw}; add the parameter to ignore_startup_parameters in pgbouncer.ini`);
    }
    if (/does not support SSL|server does not support/i.test(raw)) {
      return result('tls', `${at} offers no TLS (${raw}): configure client_tls_* in pgbouncer.ini, or set sslmode=disable in --pgbouncer.url`);
    }
    if (code === '42704' || /unrecognized configuration parameter/i.test(raw)) {
      return result(
        'not_pgbouncer',
        `${at} answered SHOW CONFIG like PostgreSQL (${raw}): point --pgbouncer.url at PgBouncer's port (usually 6432) and database "pgbouncer"`,
      );
    }
    if (/timeout/i.test(raw)) return result('timeout', `${at}: ${raw} (bounded by --poll.timeout); reconnecting at the next poll`);
    if (/Connection terminated|ECONNRESET|not queryable|closed/i.test(raw) || code === 'ECONNRESET' || code === 'EPIPE') {
      return result('connection_lost', `${at}: the admin connection was lost (${raw}); reconnecting at the next poll`);
    }
    return result(code ?? 'error', `${at}: ${raw}`);
  }
}

async function show(client: pg.Client, command: string): Promise<AdminResult> {
  // A text query without values: node-postgres sends it with the simple query protocol.
  const result = await client.query(command);
  return { fields: result.fields, rows: result.rows as Record<string, unknown>[] };
}

/** A SHOW this version may not know: an error answer (not a lost connection) means absent. */
async function showOptional(client: pg.Client, command: string): Promise<AdminResult | null> {
  try {
    return await show(client, command);
  } catch (error) {
    const err = error as Error & { severity?: string };
    if (err.severity === 'ERROR') return null;
    throw error;
  }
}
