// The stand-in replica against a real PostgreSQL: it must hold exactly the backends a
// coderd replica holds and describe them as coderd's /metrics does.
import http from 'node:http';
import zlib from 'node:zlib';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  formatDbStats,
  formatGoFloat,
  startStandInReplica,
  type StandInReplica,
  type StandInReplicaOptions,
} from '../../dev/stand-in-replica.js';
import { createTestPki, type TestPki } from '../support/certificates.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { enableTls } from '../support/postgres-tls.js';

const STARTUP_MS = 120_000;

describe('a stand-in replica', () => {
  let server: TestPostgres;
  let admin: pg.Client;
  const replicas: StandInReplica[] = [];
  let nextName = 0;

  beforeAll(async () => {
    server = await startPostgres();
    admin = await server.admin();
  }, STARTUP_MS);

  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((r) => r.close()));
  });

  afterAll(async () => {
    await admin?.end();
    await server?.destroy();
  }, STARTUP_MS);

  /** A stand-in with its own application_name, so tests never count each other's backends. */
  async function standIn(
    opts: Omit<StandInReplicaOptions, 'connectionString'>,
  ): Promise<{ replica: StandInReplica; applicationName: string }> {
    const applicationName = opts.applicationName ?? `stand-in-${++nextName}`;
    const replica = await startStandInReplica({ connectionString: server.url(), ...opts, applicationName });
    replicas.push(replica);
    return { replica, applicationName };
  }

  async function backends(applicationName: string): Promise<number> {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE application_name = $1 AND backend_type = 'client backend'`,
      [applicationName],
    );
    return rows[0]?.n ?? -1;
  }

  async function metrics(replica: StandInReplica): Promise<string> {
    const response = await fetch(replica.url);
    expect(response.status).toBe(200);
    return response.text();
  }

  it('holds its open connections plus one LISTEN connection, as a coderd replica does', async () => {
    const { applicationName } = await standIn({ poolMax: 10, open: 5, inUse: 2 });
    expect(await backends(applicationName)).toBe(6);

    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query = 'LISTEN coder_pubsub'`,
      [applicationName],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('serves its pool numbers in client_golang text, go_sql families sorted by name', async () => {
    const { replica } = await standIn({ poolMax: 10, open: 5, inUse: 2 });
    const text = await metrics(replica);

    expect(text).toContain('coder_pubsub_connected 1\n');
    expect(text).toContain(
      '# HELP go_sql_max_open_connections Maximum number of open connections to the database.\n' +
        '# TYPE go_sql_max_open_connections gauge\n' +
        'go_sql_max_open_connections{db_name=""} 10\n',
    );
    expect(text).toContain('go_sql_open_connections{db_name=""} 5\n');
    expect(text).toContain('go_sql_in_use_connections{db_name=""} 2\n');
    expect(text).toContain('go_sql_idle_connections{db_name=""} 3\n');
    expect(text).toContain('go_sql_wait_count_total{db_name=""} 0\n');

    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(families).toEqual([
      'coder_pubsub_connected',
      'go_sql_idle_connections',
      'go_sql_in_use_connections',
      'go_sql_max_idle_closed_total',
      'go_sql_max_idle_time_closed_total',
      'go_sql_max_lifetime_closed_total',
      'go_sql_max_open_connections',
      'go_sql_open_connections',
      'go_sql_wait_count_total',
      'go_sql_wait_duration_seconds_total',
    ]);
  });

  it('puts its filler series before the go_sql families, so a scraper must stream past them', async () => {
    const { replica } = await standIn({ poolMax: 10, open: 1, fillerSeries: 20_000 });
    const text = await metrics(replica);

    expect(text.match(/^coderd_agents_up\{/gm)).toHaveLength(20_000);
    expect(text.lastIndexOf('coderd_agents_up{')).toBeLessThan(text.indexOf('go_sql_'));
    expect(text.length).toBeGreaterThan(1_000_000);
  });

  it('counts waits bumped through addWait', async () => {
    const { replica } = await standIn({ poolMax: 3, open: 3, inUse: 3 });
    replica.addWait(4, 1.5);
    replica.addWait(1, 0.25);
    const text = await metrics(replica);
    expect(text).toContain('go_sql_wait_count_total{db_name=""} 5\n');
    expect(text).toContain('go_sql_wait_duration_seconds_total{db_name=""} 1.75\n');
  });

  it('grows and shrinks the connections it holds with setOpen', async () => {
    const { replica, applicationName } = await standIn({ poolMax: 10, open: 2 });
    expect(await backends(applicationName)).toBe(3);

    await replica.setOpen(8);
    expect(await backends(applicationName)).toBe(9);
    expect(await metrics(replica)).toContain('go_sql_open_connections{db_name=""} 8\n');

    await replica.setOpen(1);
    // A closed backend leaves pg_stat_activity a moment after the client hangs up.
    await expect.poll(() => backends(applicationName)).toBe(2);
    expect(await metrics(replica)).toContain('go_sql_open_connections{db_name=""} 1\n');
  });

  it('refuses to open more connections than its pool max', async () => {
    const { replica, applicationName } = await standIn({ poolMax: 4, open: 4 });
    await expect(replica.setOpen(5)).rejects.toThrow(/cannot exceed poolMax/);
    expect(await backends(applicationName)).toBe(5);
  });

  it('answers with gzip when the scraper accepts it', async () => {
    const { replica } = await standIn({ poolMax: 10, open: 3, fillerSeries: 100 });
    const plain = await metrics(replica);
    const zipped = await rawGet(replica.url, { 'Accept-Encoding': 'gzip' });

    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(zipped.body).toString('utf8')).toBe(plain);
    expect(zipped.body.length).toBeLessThan(plain.length);
  });

  it('answers on any path, as coderd does', async () => {
    const { replica } = await standIn({ poolMax: 10, open: 1 });
    const other = await rawGet(replica.url.replace('/metrics', '/anything'), {});
    expect(other.body.toString('utf8')).toContain('go_sql_open_connections{db_name=""} 1\n');
  });

  it('leaves a scrape hanging until the client times out, its connections still held', async () => {
    const { replica, applicationName } = await standIn({ poolMax: 10, open: 5 });
    replica.setHang(true);

    await expect(fetch(replica.url, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(await backends(applicationName)).toBe(6);

    replica.setHang(false);
    expect(await metrics(replica)).toContain('go_sql_open_connections{db_name=""} 5\n');
  });

  it('closes even while a scrape hangs', async () => {
    const { replica, applicationName } = await standIn({ poolMax: 10, open: 2 });
    replica.setHang(true);
    const pending = fetch(replica.url).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));

    await replica.close();
    expect(await pending).toBeInstanceOf(Error);
    await expect.poll(() => backends(applicationName)).toBe(0);
  });

  it('reports coder_pubsub_connected 0 once its LISTEN backend is terminated', async () => {
    const { replica, applicationName } = await standIn({ poolMax: 10, open: 2 });
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = $1 AND query = 'LISTEN coder_pubsub'`,
      [applicationName],
    );
    await expect.poll(() => metrics(replica)).toContain('coder_pubsub_connected 0\n');
    expect(await metrics(replica)).toContain('go_sql_open_connections{db_name=""} 2\n');
  });

  it('drops a pooled connection whose backend is terminated, as database/sql does', async () => {
    const { replica, applicationName } = await standIn({ poolMax: 10, open: 3 });
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = $1 AND query <> 'LISTEN coder_pubsub' LIMIT 1`,
      [applicationName],
    );
    await expect.poll(() => metrics(replica)).toContain('go_sql_open_connections{db_name=""} 2\n');
    expect(replica.stats().pubsubConnected).toBe(true);
  });

  /** The stand-in's pooled backends by pg_stat_activity.state (the LISTEN connection left out). */
  async function states(applicationName: string): Promise<Record<string, number>> {
    const { rows } = await admin.query<{ state: string; n: number }>(
      `SELECT state, count(*)::int AS n FROM pg_stat_activity
        WHERE application_name = $1 AND backend_type = 'client backend' AND query <> 'LISTEN coder_pubsub' GROUP BY state`,
      [applicationName],
    );
    return Object.fromEntries(rows.map((row) => [row.state, row.n]));
  }

  it('runs a statement on each in-use connection, so PostgreSQL sees them active as a busy pool', async () => {
    const { replica, applicationName } = await standIn({ poolMax: 10, open: 5, inUse: 2 });
    await expect.poll(() => states(applicationName)).toEqual({ active: 2, idle: 3 });
    replica.setInUse(4);
    await expect.poll(() => states(applicationName)).toEqual({ active: 4, idle: 1 });
    replica.setInUse(1);
    await expect.poll(() => states(applicationName)).toEqual({ active: 1, idle: 4 });
  });

  it('leaves a connection idle in a transaction, counted in use by the pool, until told otherwise', async () => {
    const { replica, applicationName } = await standIn({ poolMax: 10, open: 4, inUse: 1 });
    await replica.setIdleInTransaction(1);
    await expect.poll(() => states(applicationName)).toEqual({ 'idle in transaction': 1, active: 1, idle: 2 });
    expect(await metrics(replica)).toContain('go_sql_in_use_connections{db_name=""} 2\n');
    await replica.setIdleInTransaction(0);
    await expect.poll(() => states(applicationName)).toEqual({ active: 1, idle: 3 });
  });

  it('stops its running statements before it hangs up: no backend outlives close() or a smaller pool', async () => {
    const { replica, applicationName } = await standIn({ poolMax: 10, open: 4, inUse: 4 });
    await expect.poll(() => states(applicationName)).toEqual({ active: 4 });
    await replica.setOpen(2);
    await expect.poll(() => backends(applicationName)).toBe(3);
    await replica.close();
    await expect.poll(() => backends(applicationName)).toBe(0);
  });

  it('serves the closes added with addClosed as client_golang counters', async () => {
    const { replica } = await standIn({ poolMax: 10, open: 1 });
    replica.addClosed({ max_idle: 7, max_lifetime: 2 });
    const text = await metrics(replica);
    expect(text).toContain('go_sql_max_idle_closed_total{db_name=""} 7\n');
    expect(text).toContain('go_sql_max_idle_time_closed_total{db_name=""} 0\n');
    expect(text).toContain('go_sql_max_lifetime_closed_total{db_name=""} 2\n');
  });

  it('sets no application_name when given an empty one, like real Coder', async () => {
    const marker = `coder_${Date.now()}`;
    await admin.query(`CREATE ROLE ${marker} LOGIN PASSWORD 'secret'`);
    const replica = await startStandInReplica({
      connectionString: server.url('postgres', marker, 'secret'),
      poolMax: 10,
      open: 2,
      applicationName: '',
    });
    replicas.push(replica);
    const { rows } = await admin.query<{ application_name: string; n: number }>(
      `SELECT application_name, count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 GROUP BY 1`,
      [marker],
    );
    expect(rows).toEqual([{ application_name: '', n: 3 }]);
  });

  /** The stand-in's client backends by pg_stat_activity.client_addr. */
  async function backendsByAddress(applicationName: string): Promise<Record<string, number>> {
    const { rows } = await admin.query<{ addr: string; n: number }>(
      `SELECT host(client_addr) AS addr, count(*)::int AS n FROM pg_stat_activity
        WHERE application_name = $1 AND backend_type = 'client backend' GROUP BY 1`,
      [applicationName],
    );
    return Object.fromEntries(rows.map((row) => [row.addr, row.n]));
  }

  const POD_ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

  it('comes from its own address as a pod: three stand-ins at 127.0.0.2 to .4 with the batch sender show 7 backends each there, their /metrics 5 open', async () => {
    const applicationName = 'pods-with-sender';
    const pods = await Promise.all(
      POD_ADDRESSES.map((address) => standIn({ poolMax: 20, open: 5, inUse: 2, address, sender: true, applicationName })),
    );

    expect(await backendsByAddress(applicationName)).toEqual({ '127.0.0.2': 7, '127.0.0.3': 7, '127.0.0.4': 7 });
    for (const { replica } of pods) {
      const text = await metrics(replica);
      expect(text).toContain('go_sql_open_connections{db_name=""} 5\n');
      expect(text).toContain('coder_pubsub_connected 1\n');
    }
  });

  it('serves its /metrics on its own address', async () => {
    const { replica } = await standIn({ poolMax: 10, open: 1, address: '127.0.0.3' });
    expect(replica.url).toMatch(/^http:\/\/127\.0\.0\.3:\d+\/metrics$/);
    expect(await metrics(replica)).toContain('go_sql_open_connections{db_name=""} 1\n');
  });

  it('comes from connectFrom when given: three stand-ins behind one shared 127.0.0.9 show all 21 backends there', async () => {
    const applicationName = 'pods-behind-snat';
    const pods = await Promise.all(
      POD_ADDRESSES.map((address) =>
        standIn({ poolMax: 20, open: 5, address, connectFrom: '127.0.0.9', sender: true, applicationName }),
      ),
    );

    expect(await backendsByAddress(applicationName)).toEqual({ '127.0.0.9': 21 });
    // Only the connections move: each /metrics stays on its pod's address.
    expect(pods.map(({ replica }) => new URL(replica.url).hostname)).toEqual(POD_ADDRESSES);
  });

  it('labels coder_pubsub_connected with backend="postgres" when asked, as newer coderd does', async () => {
    const { replica } = await standIn({ poolMax: 10, open: 1, pubsubBackendLabel: true });
    const text = await metrics(replica);
    expect(text).toContain('# TYPE coder_pubsub_connected gauge\ncoder_pubsub_connected{backend="postgres"} 1\n');
    expect(text).not.toMatch(/^coder_pubsub_connected /m);
  });

  it('closes its LISTEN connection and reports coder_pubsub_connected 0 after setPubsubConnected(false)', async () => {
    const { replica, applicationName } = await standIn({ poolMax: 10, open: 3, address: '127.0.0.2' });
    expect(await backends(applicationName)).toBe(4);

    await replica.setPubsubConnected(false);
    await expect.poll(() => backends(applicationName)).toBe(3);
    expect(await listeners(applicationName)).toBe(0);
    const text = await metrics(replica);
    expect(text).toContain('coder_pubsub_connected 0\n');
    expect(text).toContain('go_sql_open_connections{db_name=""} 3\n');
  });

  it('LISTENs again on a new connection and reports 1 after setPubsubConnected(true)', async () => {
    const { replica, applicationName } = await standIn({ poolMax: 10, open: 3, address: '127.0.0.2', pubsubBackendLabel: true });
    await replica.setPubsubConnected(false);
    await expect.poll(() => listeners(applicationName)).toBe(0);

    await replica.setPubsubConnected(true);
    expect(await listeners(applicationName)).toBe(1);
    expect(await backendsByAddress(applicationName)).toEqual({ '127.0.0.2': 4 });
    expect(await metrics(replica)).toContain('coder_pubsub_connected{backend="postgres"} 1\n');
  });

  async function listeners(applicationName: string): Promise<number> {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query = 'LISTEN coder_pubsub'`,
      [applicationName],
    );
    return rows[0]?.n ?? -1;
  }

  it('fails to start with a reason when PostgreSQL refuses the login, holding nothing', async () => {
    await expect(
      startStandInReplica({
        connectionString: server.url('postgres', 'postgres', 'wrong'),
        poolMax: 10,
        open: 2,
        applicationName: 'refused-stand-in',
      }),
    ).rejects.toThrow(/127\.0\.0\.1:\d+\/postgres failed: password authentication failed/);
    await expect.poll(() => backends('refused-stand-in')).toBe(0);
  });
});

describe('a stand-in replica on its own address over TLS', () => {
  let server: TestPostgres;
  let pki: TestPki;

  beforeAll(async () => {
    [server, pki] = await Promise.all([startPostgres(), createTestPki()]);
    const certificate = await pki.server({ ip: ['127.0.0.1'] });
    await enableTls(server, certificate, pki.ca.cert, []);
  }, STARTUP_MS);

  afterAll(async () => {
    await server?.destroy();
    await pki?.remove();
  }, STARTUP_MS);

  it('still verifies the server and encrypts every connection it binds to its address', async () => {
    const connectionString = `${server.url()}?sslmode=verify-full&sslrootcert=${encodeURIComponent(pki.ca.cert)}`;
    const replica = await startStandInReplica({ connectionString, poolMax: 10, open: 3, address: '127.0.0.2', sender: true, applicationName: 'tls-pod' });
    try {
      const admin = await server.admin();
      try {
        const { rows } = await admin.query<{ addr: string; ssl: boolean; n: number }>(
          `SELECT host(a.client_addr) AS addr, s.ssl, count(*)::int AS n
             FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
            WHERE a.application_name = 'tls-pod' GROUP BY 1, 2`,
        );
        expect(rows).toEqual([{ addr: '127.0.0.2', ssl: true, n: 5 }]);
      } finally {
        await admin.end();
      }
    } finally {
      await replica.close();
    }
  });
});

describe('formatDbStats', () => {
  it('prints the nine go_sql families with db_name="" and idle derived from open - inUse', () => {
    const text = formatDbStats({ maxOpen: 0, open: 7, inUse: 4 });
    expect(text.match(/^# HELP /gm)).toHaveLength(9);
    expect(text.match(/^# TYPE /gm)).toHaveLength(9);
    expect(text).toContain('go_sql_max_open_connections{db_name=""} 0\n');
    expect(text).toContain('go_sql_idle_connections{db_name=""} 3\n');
    expect(text).toContain('# TYPE go_sql_wait_duration_seconds_total counter\n');
  });

  it('escapes a db_name as the text format requires', () => {
    expect(formatDbStats({ maxOpen: 1, open: 1, inUse: 0, dbName: 'a"b\\c' })).toContain(
      'go_sql_open_connections{db_name="a\\"b\\\\c"} 1\n',
    );
  });
});

describe('formatGoFloat', () => {
  it.each([
    [0, '0'],
    [1, '1'],
    [-1, '-1'],
    [10, '10'],
    [999_999, '999999'],
    [1_000_000, '1e+06'],
    [1_234_567, '1.234567e+06'],
    [0.5, '0.5'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e300, '1.5e+300'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('writes %d as Go writes it: %s', (value, expected) => {
    expect(formatGoFloat(value)).toBe(expected);
  });
});

function rawGet(url: string, headers: http.OutgoingHttpHeaders): Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
