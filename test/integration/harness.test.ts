// Proves the test PostgreSQL harness does what every other integration test relies on.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENCE, REFERENCE_ADDRESSES, startReferenceCluster, type ReferenceCluster } from '../../dev/reference-scenario.js';
import { queryOnce, startPostgres, type TestPostgres } from '../support/postgres.js';

const STARTUP_MS = 120_000;

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

/** Coder's client backends on the cluster's PostgreSQL, by pg_stat_activity.client_addr. */
async function coderBackendsByAddress(cluster: ReferenceCluster): Promise<Record<string, number>> {
  const rows = await queryOnce<{ addr: string; n: number }>(
    cluster.server.url(),
    `SELECT host(client_addr) AS addr, count(*)::int AS n FROM pg_stat_activity
      WHERE usename = 'coder' AND backend_type = 'client backend' GROUP BY 1`,
  );
  return Object.fromEntries(rows.map((row) => [row.addr, row.n]));
}

async function metricsOf(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.text();
}

describe('the reference cluster', () => {
  let cluster: ReferenceCluster;

  beforeAll(async () => {
    cluster = await startReferenceCluster();
  }, STARTUP_MS);

  afterAll(async () => {
    await cluster?.stop();
  }, STARTUP_MS);

  it('runs each replica as a pod: its /metrics on 127.0.0.2, .3 and .4', () => {
    expect(cluster.replicas.map((replica) => new URL(replica.url).hostname)).toEqual([...REFERENCE_ADDRESSES]);
  });

  it("shows each replica's 5 pooled + 1 LISTEN connections coming from its own address", async () => {
    expect(await coderBackendsByAddress(cluster)).toEqual({ '127.0.0.2': 6, '127.0.0.3': 6, '127.0.0.4': 6 });
  });

  it('serves the unlabelled coder_pubsub_connected of older coderd by default', async () => {
    expect(await metricsOf(cluster.replicas[0]!.url)).toContain('\ncoder_pubsub_connected 1\n');
  });
});

describe('the reference cluster with the batch sender, one shared source address and the labelled pubsub gauge', () => {
  let cluster: ReferenceCluster;

  beforeAll(async () => {
    cluster = await startReferenceCluster({ sender: true, connectFrom: '127.0.0.9', pubsubBackendLabel: true });
  }, STARTUP_MS);

  afterAll(async () => {
    await cluster?.stop();
  }, STARTUP_MS);

  it('holds 7 backends per replica where each /metrics says 5 open: the sender is in no go_sql figure', async () => {
    const total = Object.values(await coderBackendsByAddress(cluster)).reduce((a, b) => a + b, 0);
    expect(total).toBe(REFERENCE.replicas * (REFERENCE.open + 2));
    for (const replica of cluster.replicas) {
      expect(await metricsOf(replica.url)).toContain(`go_sql_open_connections{db_name=""} ${REFERENCE.open}\n`);
    }
  });

  it("brings all 21 of Coder's connections from the shared 127.0.0.9, the replicas' /metrics still on their own addresses", async () => {
    expect(await coderBackendsByAddress(cluster)).toEqual({ '127.0.0.9': 21 });
    expect(cluster.replicas.map((replica) => new URL(replica.url).hostname)).toEqual([...REFERENCE_ADDRESSES]);
  });

  it('serves coder_pubsub_connected{backend="postgres"} as newer coderd does', async () => {
    for (const replica of cluster.replicas) {
      expect(await metricsOf(replica.url)).toContain('\ncoder_pubsub_connected{backend="postgres"} 1\n');
    }
  });
});
