// Proves the streaming standby of the harness (dev/standby.ts) on whichever major runs:
// `npm run test:matrix -- 13` runs it on PostgreSQL 13, and so on.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandby, type TestStandby } from '../../dev/standby.js';
import { queryOnce, startPostgres, type TestPostgres } from '../support/postgres.js';

const STARTUP_MS = 120_000;

describe('a streaming standby of the test PostgreSQL', () => {
  let primary: TestPostgres;
  let standby: TestStandby;

  beforeAll(async () => {
    // A scarce max_connections too: the standby must take the primary's, or refuse to start.
    primary = await startPostgres({ maxConnections: 37 });
    standby = await startStandby(primary);
  }, STARTUP_MS);

  afterAll(async () => {
    await standby?.stop();
    await primary?.destroy();
  }, STARTUP_MS);

  it('is in recovery, and its primary is not', async () => {
    expect(await queryOnce(standby.url(), 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);
    expect(await queryOnce(primary.url(), 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: false }]);
  });

  it('runs the same major and max_connections as its primary', async () => {
    // The matrix script names the major it installed: this proves the override took.
    const expected = process.env['CAPACITY_TEST_PG_MAJOR'];
    if (expected !== undefined && expected !== '') expect(primary.majorVersion).toBe(Number(expected));
    const rows = await queryOnce<{ version: string }>(standby.url(), "SELECT current_setting('server_version_num') AS version");
    expect(Math.floor(Number(rows[0]?.version) / 10_000)).toBe(primary.majorVersion);
    expect(standby.majorVersion).toBe(primary.majorVersion);
    expect(await queryOnce(standby.url(), 'SHOW max_connections')).toEqual([{ max_connections: '37' }]);
  });

  it('streams: a row inserted on the primary appears on the standby within seconds', async () => {
    const admin = await primary.admin();
    try {
      await admin.query('CREATE TABLE streamed (n int)');
      await admin.query('INSERT INTO streamed VALUES (7)');
    } finally {
      await admin.end();
    }
    await expect
      .poll(() => queryOnce<{ n: number }>(standby.url(), 'SELECT n FROM streamed').catch(() => []), { timeout: 10_000, interval: 200 })
      .toEqual([{ n: 7 }]);
  });

  it('shows on the primary as a streaming WAL sender through its slot', async () => {
    const rows = await queryOnce<{ state: string; active: boolean }>(
      primary.url(),
      `SELECT r.state, s.active FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid
        WHERE s.slot_name = '${standby.slotName}'`,
    );
    expect(rows).toEqual([{ state: 'streaming', active: true }]);
  });
});

describe('startStandby', () => {
  it('stops the standby, deletes its directory and drops its slot on stop', async () => {
    const primary = await startPostgres();
    try {
      const standby = await startStandby(primary);
      await standby.stop();
      expect(existsSync(standby.dataDir)).toBe(false);
      expect(() => process.kill(standby.pid, 0)).toThrow();
      expect(await queryOnce(primary.url(), 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
    } finally {
      await primary.destroy();
    }
  }, STARTUP_MS);
});
