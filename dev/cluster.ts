// A Coder-like cluster on a real PostgreSQL: Coder's role and database, a monitoring role
// with pg_monitor, and helpers to hold connections of "other applications". The demo, the
// tests and the bench all build on it.

import pg from 'pg';
import type { TestPostgres } from './embedded-postgres.js';

export const CODER_PASSWORD = 'coder-Secret-42';
export const MONITOR_PASSWORD = 'monitor-Secret-42';
export const OTHER_PASSWORD = 'other-Secret-42';

/** Creates roles coder (owner of database coder), monitor (pg_monitor) and analytics. */
export async function createCoderCluster(server: TestPostgres, options: { monitorGrants?: boolean } = {}): Promise<void> {
  const admin = await server.admin();
  try {
    await admin.query(`CREATE ROLE coder LOGIN PASSWORD '${CODER_PASSWORD}'`);
    await admin.query(`CREATE ROLE monitor LOGIN PASSWORD '${MONITOR_PASSWORD}'`);
    await admin.query(`CREATE ROLE analytics LOGIN PASSWORD '${OTHER_PASSWORD}'`);
    await admin.query('CREATE DATABASE coder OWNER coder');
    if (options.monitorGrants !== false) await admin.query('GRANT pg_monitor TO monitor');
  } finally {
    await admin.end();
  }
}

/** The monitor's URL on Coder's database: how the daemon is deployed. */
export function monitorUrl(server: TestPostgres): string {
  return server.url('coder', 'monitor', MONITOR_PASSWORD);
}

export function coderUrl(server: TestPostgres): string {
  return server.url('coder', 'coder', CODER_PASSWORD);
}

/** Holds `count` idle connections as another application's role; close() releases them. */
export async function holdConnections(
  url: string,
  count: number,
  applicationName = 'analytics-etl',
): Promise<{ clients: pg.Client[]; close(): Promise<void> }> {
  const clients: pg.Client[] = [];
  for (let i = 0; i < count; i++) {
    const client = new pg.Client({ connectionString: url, application_name: applicationName });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
  }
  return {
    clients,
    async close() {
      await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    },
  };
}
