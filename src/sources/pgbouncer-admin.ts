// The PgBouncer source for one instance: one persistent admin-console connection, and each
// poll SHOW CONFIG, SHOW DATABASES, SHOW POOLS, SHOW USERS (and SHOW VERSION), turned into
// typed facts (pgbouncer-facts.ts, which lists the columns relied on).
//
// The admin console speaks the simple query protocol only: an extended-protocol message
// (a parameter, a named statement) makes PgBouncer close the connection with "bad packet".
// So every query here is a plain text query, and none carries a value.

import { checkServerIdentity } from 'node:tls';
import type pg from 'pg';
import { redactSecrets } from '../redact.js';
import { PgbouncerFactsError, parsePgbouncerFacts, type AdminResult, type PgbouncerFacts } from './pgbouncer-facts.js';
import { TlsFileError, buildSslOptions, describeTlsFailure, fallsBackToPlaintext, withoutTlsParameters, type PostgresTlsSettings } from './postgres-tls.js';
import { connectPersistent } from './persistent-client.js';
import { readPasswordFile } from './password-file.js';

export { coderPool, type CoderPgbouncerPool, type PgbouncerFacts } from './pgbouncer-facts.js';

export type PgbouncerPoll = { ok: true; facts: PgbouncerFacts } | { ok: false; error: string; code: string };

export interface PgbouncerAdminOptions {
  /** postgres://user[:password]@host:6432/pgbouncer (may hold a password: never logged). */
  url: string;
  /** A password that overrides the URL's. */
  password?: string | null;
  /** A file holding the password (--pgbouncer.password-file), read at each connect; it overrides both. */
  passwordFile?: string | null;
  /** TLS options as node-postgres takes them; default: the URL's own (sslmode=...). Ignored when `tls` is given. */
  ssl?: pg.ClientConfig['ssl'];
  /** libpq's sslmode and certificates, resolved from the URL as for PostgreSQL (postgres-tls.ts). */
  tls?: PostgresTlsSettings;
  /** The name a verify-full certificate must carry, when the URL's host is an address (dns+ discovery). */
  tlsServerName?: string;
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
    const { tls } = this.options;
    const password = this.options.passwordFile ? await this.readPasswordFile(this.options.passwordFile) : (this.options.password ?? null);
    // node-postgres lets the URL's own password (even an absent one) and sslmode override
    // the explicit options: the password goes into the URL, and resolved TLS leaves it.
    let url = tls ? withoutTlsParameters(this.options.url) : this.options.url;
    if (password !== null) url = withPassword(url, password);
    const config: pg.ClientConfig = {
      connectionString: url,
      application_name: 'coder-pg-capacity',
      connectionTimeoutMillis: this.timeoutMs,
      // Client-side only: PgBouncer refuses a statement_timeout startup parameter.
      query_timeout: this.timeoutMs,
      keepAlive: true,
    };
    if (!tls) {
      if (this.options.ssl !== undefined) config.ssl = this.options.ssl;
      return this.open(config);
    }
    try {
      return await this.open({ ...config, ssl: await this.sslOptions(tls) });
    } catch (error) {
      // allow and prefer fall back to plaintext when PgBouncer offers no TLS (client_tls_sslmode = disable).
      if (!fallsBackToPlaintext(tls, error)) throw error;
      return this.open({ ...config, ssl: false });
    }
  }

  private async sslOptions(tls: PostgresTlsSettings): Promise<pg.ClientConfig['ssl']> {
    const ssl = await buildSslOptions(tls);
    const name = this.options.tlsServerName;
    if (ssl === false || name === undefined || tls.mode !== 'verify-full') return ssl;
    // A discovered instance is addressed by IP: its certificate names the Service.
    return { ...ssl, servername: name, checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert) };
  }

  private async readPasswordFile(path: string): Promise<string> {
    const read = await readPasswordFile(path);
    if (!read.ok) {
      throw new PasswordFileError(`cannot read the password file ${path} for PgBouncer ${this.instance} (${read.reason}): check --pgbouncer.password-file and the Secret's mount`);
    }
    const { password } = read;
    if (!this.secrets.includes(password)) this.secrets.push(password);
    return password;
  }

  private async open(config: pg.ClientConfig): Promise<pg.Client> {
    // PgBouncer restarting or dropping the console between polls: the next poll reconnects.
    const client = await connectPersistent(config, (lost) => {
      if (this.client === lost) this.client = null;
    });
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
    if (error instanceof PasswordFileError) return { message: error.message, code: 'password_file' };
    if (error instanceof TlsFileError) return { message: forPgbouncer(error.message), code: 'tls_file' };
    const tlsFailure = this.options.tls ? describeTlsFailure(error, this.options.tls, at) : null;
    if (tlsFailure) return { message: redactSecrets(forPgbouncer(tlsFailure), this.secrets), code: (error as { code?: string }).code ?? 'tls' };
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

class PasswordFileError extends Error {}

/** The URL with `password` in it, percent-encoded. */
function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/**
 * A TLS message of postgres-tls.ts, which names the PostgreSQL flags, with the settings of
 * --pgbouncer.url instead: there they are parameters of the URL.
 */
export function forPgbouncer(message: string): string {
  return message
    .replaceAll('--postgres.sslrootcert', 'sslrootcert= in --pgbouncer.url')
    .replaceAll('--postgres.sslcert', 'sslcert= in --pgbouncer.url')
    .replaceAll('--postgres.sslkey', 'sslkey= in --pgbouncer.url')
    .replaceAll('--postgres.url', '--pgbouncer.url')
    .replaceAll('ssl = off on the server', 'client_tls_sslmode = disable in pgbouncer.ini')
    .replaceAll("the server's ssl_ca_file", "PgBouncer's client_tls_ca_file")
    .replaceAll('turn ssl on in PostgreSQL', 'configure client_tls_* in pgbouncer.ini');
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
