// Where and as whom the monitor connects to PostgreSQL: the settings config.ts resolves
// (URL, else libpq's PG* variables) and the PostgreSQL source and IAM auth consume.

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
