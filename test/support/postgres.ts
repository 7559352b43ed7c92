// Tests use the same embedded PostgreSQL as `npm run demo` (dev/embedded-postgres.ts).
import pg from 'pg';

export { startPostgres, type StartPostgresOptions, type TestPostgres } from '../../dev/embedded-postgres.js';

/** One statement on a connection of its own, closed after: for reading a server's state in a test. */
export async function queryOnce<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}
