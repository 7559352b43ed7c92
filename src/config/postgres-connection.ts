// Where and as whom the monitor connects to PostgreSQL: resolved by parseConfig from the URL,
// else libpq's PG* variables, and consumed by the PostgreSQL source and IAM auth.

export interface PostgresConnectionSettings {
  /** Full connection URL (may hold a password: never log it, see redact.ts). */
  url: string | null;
  /** libpq's PG* variables, used when no URL is given. */
  host: string | null;
  port: number | null;
  user: string | null;
  database: string | null;
  password: string | null;
  passwordFile: string | null;
}

/** The variables libpq reads when there is no URL. */
type LibpqEnvironment = Partial<Record<'PGHOST' | 'PGPORT' | 'PGUSER' | 'PGDATABASE' | 'PGPASSWORD', string>>;

/** The URL's parts, or libpq's PG* variables when there is no URL; a bad PGPORT is a problem. */
export function connectionSettings(url: string | undefined, env: LibpqEnvironment, passwordFile: string | undefined, problems: string[]): PostgresConnectionSettings {
  if (url !== undefined) return connectionFromUrl(url, passwordFile ?? null);
  return {
    url: null,
    host: env.PGHOST ?? null,
    port: env.PGPORT ? pgPort(env.PGPORT, problems) : null,
    user: env.PGUSER ?? null,
    database: env.PGDATABASE ?? null,
    password: env.PGPASSWORD ?? null,
    passwordFile: passwordFile ?? null,
  };
}

/** PGPORT as a port number; anything else (a name, 0, 70000, 5432.5) would reach pg as NaN or be refused late. */
function pgPort(text: string, problems: string[]): number | null {
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (port >= 1 && port <= 65535) return port;
  problems.push(`PGPORT=${JSON.stringify(text)}: expected a whole number from 1 to 65535 (libpq's port), or unset it for 5432`);
  return null;
}

/** A connection URL's parts (the URL itself is kept whole for pg). */
export function connectionFromUrl(url: string, passwordFile: string | null): PostgresConnectionSettings {
  const parsed = new URL(url);
  return {
    url,
    host: parsed.hostname || null,
    port: parsed.port ? Number(parsed.port) : null,
    user: parsed.username ? decodeURIComponent(parsed.username) : null,
    database: parsed.pathname.length > 1 ? decodeURIComponent(parsed.pathname.slice(1)) : null,
    password: parsed.password ? decodeURIComponent(parsed.password) : null,
    passwordFile,
  };
}
