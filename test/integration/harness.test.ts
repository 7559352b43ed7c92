// Proves the test PostgreSQL harness does what every other integration test relies on.
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

const STARTUP_MS = 120_000;

async function queryOnce<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('the test PostgreSQL', () => {
  let server: TestPostgres;

  beforeAll(async () => {
    server = await startPostgres({ maxConnections: 37 });
  }, STARTUP_MS);

  afterAll(async () => {
    await server?.destroy();
  }, STARTUP_MS);

  it('accepts the postgres superuser with its password over TCP', async () => {
    const rows = await queryOnce<{ usesuper: boolean }>(
      server.url(),
      'SELECT usesuper FROM pg_user WHERE usename = current_user',
    );
    expect(rows).toEqual([{ usesuper: true }]);
  });

  it('refuses the postgres superuser with a wrong password', async () => {
    await expect(queryOnce(server.url('postgres', 'postgres', 'wrong'), 'SELECT 1')).rejects.toMatchObject({
      code: '28P01', // invalid_password
    });
  });

  it('runs with the max_connections it was asked for', async () => {
    const admin = await server.admin();
    try {
      const { rows } = await admin.query<{ max_connections: string }>('SHOW max_connections');
      expect(rows[0]?.max_connections).toBe('37');
    } finally {
      await admin.end();
    }
  });

  it('reports the major version it really runs', () => {
    // The matrix script names the major it installed: this proves the override took.
    const expected = process.env['CAPACITY_TEST_PG_MAJOR'];
    if (expected !== undefined && expected !== '') {
      expect(server.majorVersion).toBe(Number(expected));
    } else {
      expect(server.majorVersion).toBeGreaterThanOrEqual(13);
    }
  });

  it('keeps its data across stop and start on the same port', async () => {
    const admin = await server.admin();
    await admin.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
    await admin.end();

    await server.stop();
    await expect(queryOnce(server.url(), 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await server.start();
    const rows = await queryOnce<{ n: number }>(server.url(), 'SELECT n FROM kept');
    expect(rows).toEqual([{ n: 42 }]);
  }, STARTUP_MS);
});

describe('startPostgres', () => {
  it('deletes the data dir on destroy', async () => {
    const server = await startPostgres();
    expect(existsSync(server.dataDir)).toBe(true);
    await server.destroy();
    expect(existsSync(server.dataDir)).toBe(false);
  }, STARTUP_MS);

  it('says why PostgreSQL did not start', async () => {
    await expect(startPostgres({ postgresFlags: ['-c', 'max_connections=lots'] })).rejects.toThrow(
      /did not start[\s\S]*max_connections/,
    );
  }, STARTUP_MS);
});
