import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionFromUrl } from '../../src/config/postgres-connection.js';
import type { PostgresConnectionSettings } from '../../src/config/postgres-connection.js';
import type { PostgresFacts } from '../../src/model/snapshot.js';
import { MONITOR_APPLICATION_NAME, type PostgresSource, type PostgresSourceOptions } from '../../src/sources/postgres.js';
import { CREATE_CODER_REPLICAS_TABLE, insertReplicaRows } from '../support/coder-replicas-table.js';
import { testPostgresSource } from '../support/postgres-source.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { CODER_PASSWORD, MONITOR_PASSWORD, coderUrl, createCoderCluster, holdConnections, monitorUrl } from '../support/scenario.js';

let server: TestPostgres;

const connection = (url: string, overrides: Partial<PostgresConnectionSettings> = {}): PostgresConnectionSettings => ({
  ...connectionFromUrl(url, null),
  ...overrides,
});

function source(overrides: Partial<PostgresSourceOptions> = {}) {
  return testPostgresSource(monitorUrl(server), overrides);
}

async function facts(pgSource: PostgresSource): Promise<PostgresFacts> {
  const result = await pgSource.poll();
  if (!result.ok) throw new Error(result.error);
  return result.facts;
}

function count(f: PostgresFacts, owner: string): number {
  return f.connections.filter((g) => g.owner === owner).reduce((sum, g) => sum + g.count, 0);
}

beforeAll(async () => {
  server = await startPostgres({ maxConnections: 60 });
  await createCoderCluster(server);
});

afterAll(async () => {
  await server?.destroy();
});

describe('the PostgreSQL source', () => {
  it('reads max_connections and the superuser reservation', async () => {
    const { pgSource } = source();
    const f = await facts(pgSource);
    expect(f.maxConnections).toBe(60);
    expect(f.superuserReservedConnections).toBe(3);
    expect(f.reservedConnections).toBe(server.majorVersion >= 16 ? 0 : 0);
    expect(f.providerReservedConnections).toBe(0);
    expect(f.providerReservedSource).toBe('none');
    expect(Math.floor(f.serverVersionNum / 10000)).toBe(server.majorVersion);
    await pgSource.close();
  });

  it("counts Coder's connections, other roles' and its own apart", async () => {
    const coder = await holdConnections(coderUrl(server), 4, '');
    const other = await holdConnections(server.url('postgres', 'analytics', 'other-Secret-42'), 7);
    const { pgSource } = source();
    try {
      const f = await facts(pgSource);
      expect(count(f, 'coder')).toBe(4);
      expect(count(f, 'other')).toBe(7);
      expect(count(f, 'monitor')).toBe(1);
      const monitorGroup = f.connections.find((g) => g.owner === 'monitor');
      expect(monitorGroup).toMatchObject({ role: 'monitor', application: MONITOR_APPLICATION_NAME, state: 'active' });
      expect(f.connections.find((g) => g.owner === 'other')).toMatchObject({ role: 'analytics', database: 'postgres', application: 'analytics-etl', state: 'idle' });
    } finally {
      await Promise.all([coder.close(), other.close(), pgSource.close()]);
    }
  });

  it("counts Coder's connections only with the configured application_name when one is set", async () => {
    const tagged = await holdConnections(coderUrl(server), 2, 'coderd');
    const untagged = await holdConnections(coderUrl(server), 3, '');
    const { pgSource } = source({ coderApplicationName: 'coderd' });
    try {
      const f = await facts(pgSource);
      expect(count(f, 'coder')).toBe(2);
      expect(count(f, 'other')).toBe(3);
    } finally {
      await Promise.all([tagged.close(), untagged.close(), pgSource.close()]);
    }
  });

  it("reads Coder's role and database limits", async () => {
    const admin = await server.admin();
    await admin.query('ALTER ROLE coder CONNECTION LIMIT 40');
    await admin.query('ALTER DATABASE coder CONNECTION LIMIT 45');
    const { pgSource } = source();
    try {
      const f = await facts(pgSource);
      expect(f.coderRole).toEqual({ name: 'coder', superuser: false, connectionLimit: 40, canUseReservedConnections: false });
      expect(f.coderDatabase).toEqual({ name: 'coder', connectionLimit: 45 });
    } finally {
      await admin.query('ALTER ROLE coder CONNECTION LIMIT -1');
      await admin.query('ALTER DATABASE coder CONNECTION LIMIT -1');
      await Promise.all([admin.end(), pgSource.close()]);
    }
  });

  it('reports a missing role as null rather than failing', async () => {
    const { pgSource } = source({ coderRole: 'no_such_role' });
    const f = await facts(pgSource);
    expect(f.coderRole).toBeNull();
    expect(count(f, 'coder')).toBe(0);
    await pgSource.close();
  });

  it('without pg_read_all_stats still counts every client backend, with states unknown', async () => {
    const admin = await server.admin();
    await admin.query(`CREATE ROLE plain LOGIN PASSWORD 'plain-Secret-42'`);
    const other = await holdConnections(server.url('postgres', 'analytics', 'other-Secret-42'), 5);
    const { pgSource } = source({ connection: connection(server.url('coder', 'plain', 'plain-Secret-42')) });
    try {
      const f = await facts(pgSource);
      expect(f.privilegesSufficient).toBe(false);
      expect(f.connections.filter((g) => g.role === 'analytics').reduce((sum, g) => sum + g.count, 0)).toBe(5);
      expect(f.connections.find((g) => g.role === 'analytics')?.state).toBe('unknown');
      // Unprivileged, a background worker that runs as a role (the logical replication
      // launcher) looks like a client backend: the count errs on the safe side, by
      // exactly the rows that carry a role but are no client backend.
      const truth = await admin.query<{ client: string; with_role: string }>(
        `SELECT count(*) FILTER (WHERE backend_type = 'client backend') AS client,
                count(*) FILTER (WHERE usename IS NOT NULL) AS with_role FROM pg_stat_activity`,
      );
      const { client, with_role } = truth.rows[0]!;
      const counted = f.connections.reduce((sum, g) => sum + g.count, 0);
      expect(counted).toBe(Number(with_role));
      expect(counted - Number(client)).toBeLessThanOrEqual(1);
    } finally {
      await Promise.all([other.close(), pgSource.close()]);
      await admin.query('DROP ROLE plain');
      await admin.end();
    }
  });

  it('keeps one connection across polls, never one per poll', async () => {
    const { pgSource } = source();
    const admin = await server.admin();
    try {
      const pids = new Set<number>();
      for (let i = 0; i < 5; i++) {
        await facts(pgSource);
        const rows = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [MONITOR_APPLICATION_NAME]);
        expect(rows.rowCount).toBe(1);
        pids.add(rows.rows[0]!.pid);
      }
      expect(pids.size).toBe(1);
    } finally {
      await Promise.all([admin.end(), pgSource.close()]);
    }
  });

  it('reconnects after its connection is terminated', async () => {
    const { pgSource } = source();
    const admin = await server.admin();
    try {
      await facts(pgSource);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [MONITOR_APPLICATION_NAME]);
      // The first poll may see the terminated session; by the next it is back.
      const first = await pgSource.poll();
      if (!first.ok) expect(first.error).toMatch(/PostgreSQL at 127\.0\.0\.1/);
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect((await pgSource.poll()).ok).toBe(true);
    } finally {
      await Promise.all([admin.end(), pgSource.close()]);
    }
  });

  it('names the server and the fix when the password is wrong, and never the password', async () => {
    const { pgSource } = source({ connection: connection(server.url('coder', 'monitor', 'wrong-password-123')) });
    const result = await pgSource.poll();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('28P01');
    expect(result.error).toMatch(/refused the password for user monitor .*--postgres.password-file/);
    expect(result.error).not.toContain('wrong-password-123');
  });

  it('says PostgreSQL is unreachable when nothing listens', async () => {
    const { pgSource } = source({ connection: connection('postgres://monitor:x@127.0.0.1:1/coder') });
    const result = await pgSource.poll();
    expect(result).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
    if (!result.ok) expect(result.error).toBe('cannot reach PostgreSQL at 127.0.0.1:1 (ECONNREFUSED): is it running, and is --postgres.url right?');
  });

  it('reads the password file at each connect, trimming a trailing newline with one warning', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pwfile-'));
    const file = path.join(dir, 'password');
    await writeFile(file, `${MONITOR_PASSWORD}\n`);
    const url = server.url('coder', 'monitor', '').replace(':@', '@');
    const { pgSource, logs } = source({ connection: connection(url, { password: null, passwordFile: file }) });
    const admin = await server.admin();
    try {
      expect((await pgSource.poll()).ok).toBe(true);
      // Rotate the Secret: the new password applies at the next connect, no restart.
      await admin.query(`ALTER ROLE monitor PASSWORD 'rotated-Secret-43'`);
      await writeFile(file, 'rotated-Secret-43\n');
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [MONITOR_APPLICATION_NAME]);
      let ok = false;
      for (let i = 0; i < 5 && !ok; i++) {
        ok = (await pgSource.poll()).ok;
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
      expect(ok).toBe(true);
      const warnings = logs.entries().filter((e) => /password file ends in whitespace/.test(e.msg));
      expect(warnings).toHaveLength(1);
      expect(logs.lines.join('\n')).not.toContain('rotated-Secret-43');
    } finally {
      await admin.query(`ALTER ROLE monitor PASSWORD '${MONITOR_PASSWORD}'`);
      await Promise.all([admin.end(), pgSource.close()]);
    }
  });

  it('warns once, naming the file, when the password file overrides a password in the URL', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pwfile-'));
    const file = path.join(dir, 'password');
    await writeFile(file, MONITOR_PASSWORD);
    const { pgSource, logs } = source({ connection: connection(server.url('coder', 'monitor', 'stale-Url-Pass-77'), { passwordFile: file }) });
    const admin = await server.admin();
    try {
      expect((await pgSource.poll()).ok).toBe(true);
      // A reconnect reads the file again; it must not warn again.
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [MONITOR_APPLICATION_NAME]);
      let reconnected = false;
      for (let i = 0; i < 5 && !reconnected; i++) {
        await new Promise((resolve) => setTimeout(resolve, 60));
        reconnected = (await pgSource.poll()).ok;
      }
      expect(reconnected).toBe(true);
      const warnings = logs.entries().filter((e) => /overrides the password in --postgres.url/.test(e.msg));
      expect(warnings).toEqual([expect.objectContaining({ level: 40, file, msg: expect.stringContaining(`the password file ${file} overrides`) })]);
      expect(logs.lines.join('\n')).not.toContain('stale-Url-Pass-77');
      expect(logs.lines.join('\n')).not.toContain(MONITOR_PASSWORD);
    } finally {
      await Promise.all([admin.end(), pgSource.close()]);
    }
  });

  it("counts Coder's backends by the address they come from, and knows its own address and that it polls a primary", async () => {
    const coder = await holdConnections(coderUrl(server), 3, '');
    const { pgSource } = source();
    try {
      const f = await facts(pgSource);
      expect(f.coderAddresses).toEqual([{ address: '127.0.0.1', count: 3 }]);
      expect(f.monitorAddress).toBe('127.0.0.1');
      expect(f.inRecovery).toBe(false);
    } finally {
      await Promise.all([coder.close(), pgSource.close()]);
    }
  });

  it("reads live primary replicas from Coder's replicas table when asked: hostname, version, error and their own latency", async () => {
    const coder = await holdConnections(coderUrl(server), 1, '');
    const db = coder.clients[0]!;
    await db.query(CREATE_CODER_REPLICAS_TABLE);
    await db.query('GRANT SELECT ON replicas TO monitor');
    await insertReplicaRows(db, [
      { hostname: 'coder-7d9f-abcde', relayAddress: 'http://10.2.0.17:6060', latencyMicroseconds: 14200 },
      { hostname: 'coder-7d9f-fghij', relayAddress: 'http://10.2.0.18:6060', latencyMicroseconds: 850, secondsAgo: 3, error: 'relay unreachable' },
      { hostname: 'coder-gone', relayAddress: 'http://10.2.0.19:6060', latencyMicroseconds: 900, secondsAgo: 60 },
      { hostname: 'coder-stopping', relayAddress: 'http://10.2.0.20:6060', latencyMicroseconds: 900, primary: false },
    ]);
    const { pgSource } = source({ replicasFromDb: true });
    try {
      const f = await facts(pgSource);
      expect(f.liveReplicasFromDb).toBe(2);
      expect(f.replicaRows).toEqual([
        { hostname: 'coder-7d9f-abcde', relayAddress: 'http://10.2.0.17:6060', version: 'v2.30.0', error: '', databaseLatencySeconds: 0.0142 },
        { hostname: 'coder-7d9f-fghij', relayAddress: 'http://10.2.0.18:6060', version: 'v2.30.0', error: 'relay unreachable', databaseLatencySeconds: 0.00085 },
      ]);
    } finally {
      await db.query('DROP TABLE replicas');
      await Promise.all([coder.close(), pgSource.close()]);
    }
  });

  it('reports the GRANT when the replicas table is there but not readable, and the rest of the poll stands', async () => {
    const coder = await holdConnections(coderUrl(server), 1, '');
    const db = coder.clients[0]!;
    await db.query(CREATE_CODER_REPLICAS_TABLE);
    const { pgSource } = source({ replicasFromDb: true });
    try {
      const f = await facts(pgSource);
      expect(f.liveReplicasFromDb).toBeNull();
      expect(f.replicasTableError).toContain('GRANT SELECT ON replicas TO');
      expect(f.replicasTableError).toContain('42501');
      expect(count(f, 'coder')).toBe(1);
    } finally {
      await db.query('DROP TABLE replicas');
      await Promise.all([coder.close(), pgSource.close()]);
    }
  });

  it('fails only the replicas count, not the poll, when the table lacks the "primary" column (42703)', async () => {
    const coder = await holdConnections(coderUrl(server), 1, '');
    const db = coder.clients[0]!;
    await db.query(`CREATE TABLE replicas (id int, updated_at timestamptz)`);
    await db.query('GRANT SELECT ON replicas TO monitor');
    const { pgSource } = source({ replicasFromDb: true });
    try {
      const f = await facts(pgSource);
      expect(f.replicasTableError).toContain('42703');
      expect(f.maxConnections).toBeGreaterThan(0);
      expect(count(f, 'coder')).toBe(1);
    } finally {
      await db.query('DROP TABLE replicas');
      await Promise.all([coder.close(), pgSource.close()]);
    }
  });

  it('says where to connect when the replicas table is missing, and counts none from it', async () => {
    const { pgSource } = source({ replicasFromDb: true });
    const f = await facts(pgSource);
    expect(f.liveReplicasFromDb).toBeNull();
    expect(f.replicasTableError).toMatch(/does not exist \(42P01\): connect the monitor to Coder's database/);
    await pgSource.close();
  });

  it('runs the same poll when the monitor connects as Coder itself (a sidecar sharing the secret)', async () => {
    const { pgSource } = source({ connection: connection(server.url('coder', 'coder', CODER_PASSWORD)) });
    const f = await facts(pgSource);
    // Its own connection is the monitor's, though it is Coder's role on Coder's database.
    expect(count(f, 'monitor')).toBe(1);
    expect(count(f, 'coder')).toBe(0);
    await pgSource.close();
  });
});

describe('the PostgreSQL source and reserved_connections', () => {
  it('reads reserved_connections on 16 and later, and 0 before (the setting does not exist)', async () => {
    if (server.majorVersion < 16) {
      const { pgSource } = source();
      expect((await facts(pgSource)).reservedConnections).toBe(0);
      await pgSource.close();
      return;
    }
    const reserving = await startPostgres({ maxConnections: 60, postgresFlags: ['-c', 'reserved_connections=2'] });
    try {
      await createCoderCluster(reserving);
      const admin = await reserving.admin();
      await admin.query('GRANT pg_use_reserved_connections TO coder');
      await admin.end();
      const { pgSource } = source({ connection: connection(monitorUrl(reserving)) });
      const f = await facts(pgSource);
      expect(f.reservedConnections).toBe(2);
      expect(f.coderRole?.canUseReservedConnections).toBe(true);
      await pgSource.close();
    } finally {
      await reserving.destroy();
    }
  });
});
