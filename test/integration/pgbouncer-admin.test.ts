// The PgBouncer source against a real PgBouncer (Debian's package) in front of the test
// PostgreSQL: what its admin console says, which pool is Coder's and what it may hold, and
// how an instance that fails or goes away reads. Stand-in Coder connections run a query
// after connecting, as a real pool does: PgBouncer links a server connection only then.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePostgresTls } from '../../src/sources/postgres-tls.js';
import { PgbouncerAdmin, coderPool, type PgbouncerFacts } from '../../src/sources/pgbouncer-admin.js';
import { holdPooledConnections, startPgbouncer, type TestPgbouncer } from '../support/pgbouncer.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { CODER_PASSWORD, MONITOR_PASSWORD, createCoderCluster } from '../support/scenario.js';

const ADMIN = { name: 'pgbouncer_admin', password: 'admin-Secret-42' };

let postgres: TestPostgres | undefined;
const bouncers: TestPgbouncer[] = [];
const admins: PgbouncerAdmin[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
  await createCoderCluster(postgres);
});

afterAll(async () => {
  await Promise.all(admins.map((admin) => admin.close()));
  await Promise.all(bouncers.map((bouncer) => bouncer.stop()));
  await postgres?.destroy();
});

async function bouncer(options: Omit<Parameters<typeof startPgbouncer>[0], 'postgres' | 'adminUser'>): Promise<TestPgbouncer> {
  const started = await startPgbouncer({ postgres: postgres!, adminUser: ADMIN, ...options });
  bouncers.push(started);
  return started;
}

function adminOf(target: TestPgbouncer, url = target.adminUrl): PgbouncerAdmin {
  const admin = new PgbouncerAdmin({ url, timeoutMs: 3000 });
  admins.push(admin);
  return admin;
}

async function facts(admin: PgbouncerAdmin): Promise<PgbouncerFacts> {
  const poll = await admin.poll();
  if (!poll.ok) throw new Error(`poll failed: ${poll.error}`);
  return poll.facts;
}

describe('a PgBouncer in session mode with pool_size=25 for database coder', () => {
  let session: TestPgbouncer;
  let admin: PgbouncerAdmin;

  beforeAll(async () => {
    session = await bouncer({ poolMode: 'session', maxClientConn: 150, databases: [{ name: 'coder', poolSize: 25 }] });
    admin = adminOf(session);
  });

  it("Coder's pool holds 25 server connections, in session mode", async () => {
    const pool = coderPool(await facts(admin), 'coder', 'coder');
    expect(pool).toMatchObject({ user: 'coder', poolSize: 25, reservePool: 0, serverCap: 25, poolMode: 'session', poolModeSource: 'default' });
    expect(pool?.database).toMatchObject({ name: 'coder', database: 'coder', host: '127.0.0.1', port: postgres!.port });
  });

  it('max_client_conn, default_pool_size and the version read as configured', async () => {
    const read = await facts(admin);
    expect(read).toMatchObject({
      instance: `127.0.0.1:${session.port}`,
      version: session.version,
      maxClientConn: 150,
      defaultPoolSize: 20,
      reservePool: 0,
      maxDbConnections: 0,
      maxUserConnections: 0,
      poolModeDefault: 'session',
      usersShown: true,
    });
    expect(read.users.map((u) => u.name)).toContain('coder');
  });

  it('connections through PgBouncer that ran a query show as cl_active and sv_active', async () => {
    const held = await holdPooledConnections(session.clientUrl('coder', 'coder', CODER_PASSWORD), 3);
    try {
      const read = await facts(admin);
      const pool = coderPool(read, 'coder', 'coder');
      expect(pool?.pool).toMatchObject({ database: 'coder', user: 'coder', clActive: 3, clWaiting: 0, svActive: 3, poolMode: 'session' });
      expect(pool?.database.currentConnections).toBe(3);
      // Coder's 3 and the monitor's own console connection: both count against max_client_conn.
      expect(read.clientConnections).toBe(4);

      const onPostgres = await postgres!.admin();
      try {
        const backends = await onPostgres.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'coder' AND datname = 'coder'");
        expect(Number(backends.rows[0]?.n)).toBe(3);
      } finally {
        await onPostgres.end();
      }
    } finally {
      await held.close();
    }
  });

  it('a stats user may read the console, and a password never shows in an error', async () => {
    const stats = await bouncer({
      poolMode: 'session',
      maxClientConn: 50,
      databases: [{ name: 'coder' }],
      statsUsers: [{ name: 'monitor', password: MONITOR_PASSWORD }],
    });
    expect((await adminOf(stats, stats.clientUrl('pgbouncer', 'monitor', MONITOR_PASSWORD)).poll()).ok).toBe(true);

    const wrong = await adminOf(stats, stats.clientUrl('pgbouncer', 'monitor', 'wrong-Password-7')).poll();
    expect(wrong).toMatchObject({ ok: false, code: 'auth_failed' });
    if (wrong.ok) return;
    expect(wrong.error).toContain(`PgBouncer 127.0.0.1:${stats.port} refused the password of user "monitor"`);
    expect(wrong.error).not.toContain('wrong-Password-7');
  });

  it('a user that is not an admin is told to add it to admin_users or stats_users', async () => {
    const poll = await adminOf(session, session.clientUrl('pgbouncer', 'coder', CODER_PASSWORD)).poll();
    expect(poll).toMatchObject({ ok: false, code: 'not_admin_user' });
    if (poll.ok) return;
    expect(poll.error).toContain(`PgBouncer 127.0.0.1:${session.port} does not let user "coder" into its admin console`);
    expect(poll.error).toContain('add it to admin_users or stats_users');
    expect(poll.error).not.toContain(CODER_PASSWORD);
  });
});

describe('pool modes and limits, resolved as PgBouncer resolves them', () => {
  it('a PgBouncer in transaction mode reports transaction mode for Coder\'s pool', async () => {
    const transaction = await bouncer({ poolMode: 'transaction', maxClientConn: 100, databases: [{ name: 'coder', poolSize: 25 }] });
    const admin = adminOf(transaction);
    const held = await holdPooledConnections(transaction.clientUrl('coder', 'coder', CODER_PASSWORD), 2);
    try {
      const pool = coderPool(await facts(admin), 'coder', 'coder');
      expect(pool).toMatchObject({ poolMode: 'transaction', poolModeSource: 'default', poolSize: 25 });
      // Between transactions a client holds no server connection.
      expect(pool?.pool).toMatchObject({ clActive: 2, svActive: 0, poolMode: 'transaction' });
    } finally {
      await held.close();
    }
  });

  it("the user's pool_mode wins over the database's, which wins over the default, as in SHOW POOLS", async () => {
    const mixed = await bouncer({
      poolMode: 'session',
      maxClientConn: 100,
      databases: [
        { name: 'coder', poolMode: 'transaction' },
        { name: 'coder_direct', dbname: 'coder', poolMode: 'transaction' },
      ],
      users: [
        { name: 'coder', password: CODER_PASSWORD },
        { name: 'monitor', password: MONITOR_PASSWORD, poolMode: 'session' },
      ],
    });
    const admin = adminOf(mixed);
    const asCoder = await holdPooledConnections(mixed.clientUrl('coder', 'coder', CODER_PASSWORD), 1);
    const asMonitor = await holdPooledConnections(mixed.clientUrl('coder_direct', 'monitor', MONITOR_PASSWORD), 1);
    try {
      const read = await facts(admin);
      const byDatabase = coderPool(read, 'coder', 'coder');
      expect(byDatabase).toMatchObject({ poolMode: 'transaction', poolModeSource: 'database' });
      expect(byDatabase?.pool?.poolMode).toBe('transaction');
      const byUser = coderPool(read, 'monitor', 'coder_direct');
      expect(byUser).toMatchObject({ poolMode: 'session', poolModeSource: 'user' });
      expect(byUser?.pool?.poolMode).toBe('session');
    } finally {
      await asCoder.close();
      await asMonitor.close();
    }
  });

  it('reserve_pool adds to the cap, and max_db_connections / max_user_connections bound it', async () => {
    const limited = await bouncer({
      poolMode: 'session',
      maxClientConn: 100,
      databases: [
        { name: 'coder', poolSize: 25, reservePool: 5 },
        { name: 'coder_capped', dbname: 'coder', poolSize: 25, maxDbConnections: 12 },
      ],
      maxUserConnections: 40,
    });
    const read = await facts(adminOf(limited));
    expect(coderPool(read, 'coder', 'coder')).toMatchObject({ poolSize: 25, reservePool: 5, maxUserConnections: 40, serverCap: 30 });
    expect(coderPool(read, 'coder', 'coder_capped')).toMatchObject({ poolSize: 25, maxDbConnections: 12, serverCap: 12 });
    expect(coderPool(read, 'coder', 'no_such_db')).toBeNull();

    await limited.reload({ maxUserConnections: 8 });
    expect(coderPool(await facts(adminOf(limited)), 'coder', 'coder')).toMatchObject({ serverCap: 8 });
  });

  it('clients beyond a full session pool wait, and the wait is measured', async () => {
    const small = await bouncer({ poolMode: 'session', maxClientConn: 100, databases: [{ name: 'coder', poolSize: 2 }] });
    const admin = adminOf(small);
    const url = small.clientUrl('coder', 'coder', CODER_PASSWORD);
    const holding = await holdPooledConnections(url, 2);
    const waiting = await holdPooledConnections(url, 1, { waitForQueries: false });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const pool = coderPool(await facts(admin), 'coder', 'coder');
      expect(pool?.pool).toMatchObject({ clActive: 2, clWaiting: 1, svActive: 2 });
      expect(pool?.pool?.maxWaitSeconds).toBeGreaterThanOrEqual(1);
    } finally {
      await waiting.close();
      await holding.close();
    }
  });
});

describe('credentials and TLS as for PostgreSQL', () => {
  let plain: TestPgbouncer;
  let dir: string;

  beforeAll(async () => {
    plain = await bouncer({ poolMode: 'session', maxClientConn: 50, databases: [{ name: 'coder' }] });
    dir = await mkdtemp(path.join(tmpdir(), 'pgbouncer-password-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const tlsOf = (url: string) => resolvePostgresTls({ url, given: {} }, []);
  const withoutPassword = () => `postgres://${ADMIN.name}@127.0.0.1:${plain.port}/pgbouncer`;

  it('logs in with the password file (its trailing newline trimmed) where the URL has none', async () => {
    const file = path.join(dir, 'password');
    await writeFile(file, `${ADMIN.password}\n`);
    const admin = new PgbouncerAdmin({ url: withoutPassword(), passwordFile: file, tls: tlsOf(withoutPassword()), timeoutMs: 3000 });
    admins.push(admin);
    expect(await admin.poll()).toMatchObject({ ok: true, facts: { maxClientConn: 50 } });
  });

  it('names a password file it cannot read, and the flag that points at it', async () => {
    const admin = new PgbouncerAdmin({ url: withoutPassword(), passwordFile: path.join(dir, 'missing'), timeoutMs: 3000 });
    admins.push(admin);
    const poll = await admin.poll();
    expect(poll).toMatchObject({ ok: false, code: 'password_file' });
    if (poll.ok) return;
    expect(poll.error).toBe(`cannot read the password file ${path.join(dir, 'missing')} for PgBouncer 127.0.0.1:${plain.port} (ENOENT): check --pgbouncer.password-file and the Secret's mount`);
  });

  it('sslmode=prefer falls back to plaintext when PgBouncer offers no TLS, as libpq does', async () => {
    const url = `${plain.adminUrl}?sslmode=prefer`;
    const admin = new PgbouncerAdmin({ url, tls: tlsOf(url), timeoutMs: 3000 });
    admins.push(admin);
    expect((await admin.poll()).ok).toBe(true);
  });

  it("sslmode=require against a PgBouncer without TLS says what to set in pgbouncer.ini, and never the password", async () => {
    const url = `${plain.adminUrl}?sslmode=require`;
    const admin = new PgbouncerAdmin({ url, tls: tlsOf(url), timeoutMs: 3000 });
    admins.push(admin);
    const poll = await admin.poll();
    expect(poll.ok).toBe(false);
    if (poll.ok) return;
    expect(poll.error).toBe(
      `PgBouncer 127.0.0.1:${plain.port} does not offer TLS (client_tls_sslmode = disable in pgbouncer.ini), but sslmode=require (from sslmode in --pgbouncer.url) requires it: configure client_tls_* in pgbouncer.ini, or lower sslmode`,
    );
    expect(poll.error).not.toContain(ADMIN.password);
  });
});

describe('instances that fail or go away', () => {
  it('an instance that goes away reads ok:false naming it, and is read again at the next poll after its restart', async () => {
    const flaky = await bouncer({ poolMode: 'session', maxClientConn: 60, databases: [{ name: 'coder', poolSize: 25 }] });
    const admin = adminOf(flaky);
    expect((await admin.poll()).ok).toBe(true);

    await flaky.down();
    const gone = await admin.poll();
    expect(gone.ok).toBe(false);
    if (gone.ok) return;
    expect(gone.error).toContain(`PgBouncer 127.0.0.1:${flaky.port}`);
    // The first poll after the loss finds the connection dropped; nothing listens after that.
    const next = await admin.poll();
    expect(next).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
    if (next.ok) return;
    expect(next.error).toBe(`cannot reach PgBouncer 127.0.0.1:${flaky.port} (ECONNREFUSED): is it running, and is --pgbouncer.url right?`);

    await flaky.up();
    const back = await admin.poll();
    expect(back).toMatchObject({ ok: true, facts: { maxClientConn: 60 } });
  });

  it('a URL that points at PostgreSQL instead of PgBouncer says so', async () => {
    const poll = await adminOf(bouncers[0]!, postgres!.url('coder', 'monitor', MONITOR_PASSWORD)).poll();
    expect(poll).toMatchObject({ ok: false, code: 'not_pgbouncer' });
    if (poll.ok) return;
    expect(poll.error).toContain(`PgBouncer 127.0.0.1:${postgres!.port} answered SHOW CONFIG like PostgreSQL`);
    expect(poll.error).toContain("point --pgbouncer.url at PgBouncer's port");
    expect(poll.error).not.toContain(MONITOR_PASSWORD);
  });

  it('two instances are read at once, each with its own figures', async () => {
    const [a, b] = await Promise.all([
      bouncer({ poolMode: 'session', maxClientConn: 70, databases: [{ name: 'coder', poolSize: 10 }] }),
      bouncer({ poolMode: 'session', maxClientConn: 90, databases: [{ name: 'coder', poolSize: 15 }] }),
    ]);
    expect(a.port).not.toBe(b.port);
    expect(a.pid).not.toBe(b.pid);
    const onA = await holdPooledConnections(a.clientUrl('coder', 'coder', CODER_PASSWORD), 2);
    const onB = await holdPooledConnections(b.clientUrl('coder', 'coder', CODER_PASSWORD), 3);
    try {
      const [readA, readB] = await Promise.all([facts(adminOf(a)), facts(adminOf(b))]);
      expect(readA.instance).toBe(`127.0.0.1:${a.port}`);
      expect(readB.instance).toBe(`127.0.0.1:${b.port}`);
      expect([readA.maxClientConn, readB.maxClientConn]).toEqual([70, 90]);
      expect([coderPool(readA, 'coder', 'coder')?.serverCap, coderPool(readB, 'coder', 'coder')?.serverCap]).toEqual([10, 15]);
      expect([coderPool(readA, 'coder', 'coder')?.pool?.svActive, coderPool(readB, 'coder', 'coder')?.pool?.svActive]).toEqual([2, 3]);
    } finally {
      await onA.close();
      await onB.close();
    }
  });
});
