// When PostgreSQL cannot be polled, `check` and the status page say why in their headline,
// so that the fix is obvious at 3 a.m.: a wrong password, a database that does not exist,
// a port that is not PostgreSQL at all, or nothing listening. Each is exit 2.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheckCli } from '../support/check-cli.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { MONITOR_PASSWORD, createCoderCluster } from '../support/scenario.js';

let server: TestPostgres | undefined;
let web: Server | undefined;

beforeAll(async () => {
  server = await startPostgres({ maxConnections: 20 });
  await createCoderCluster(server);
  // A web port where PostgreSQL's should be: what a pasted coderd address looks like.
  web = createServer((_req, res) => res.end('ok\n'));
  await new Promise<void>((resolve) => web!.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => web?.close(resolve));
  await server?.destroy();
});

const planned = ['--coder.replicas', '3'];

describe('the headline when PostgreSQL cannot be polled', () => {
  it('a wrong password reads "PostgreSQL refused the monitor\'s login" (28P01)', async () => {
    const run = await runCheckCli(['--postgres.url', server!.url('coder', 'monitor', 'wrong-Password-1'), ...planned]);
    expect(run.stdout.split('\n')[0]).toBe("PostgreSQL refused the monitor's login");
    expect(run.stdout).toContain('28P01');
    expect(run.stdout).not.toContain('wrong-Password-1');
    expect(run.status).toBe(2);
  });

  it('a mistyped database in --postgres.url reads "Database "codr" does not exist" (3D000)', async () => {
    const run = await runCheckCli(['--postgres.url', server!.url('codr', 'monitor', MONITOR_PASSWORD), ...planned]);
    expect(run.stdout.split('\n')[0]).toBe('Database "codr" does not exist');
    expect(run.status).toBe(2);
  });

  it('a port that answers HTTP reads "Not PostgreSQL" and names the port', async () => {
    const port = (web!.address() as AddressInfo).port;
    const run = await runCheckCli(['--postgres.url', `postgres://monitor:${MONITOR_PASSWORD}@127.0.0.1:${port}/coder`, ...planned]);
    expect(run.stdout.split('\n')[0]).toBe('Not PostgreSQL');
    expect(run.stdout).toContain(`127.0.0.1:${port} answers HTTP, not the PostgreSQL protocol`);
    expect(run.status).toBe(2);
  });

  it('nothing listening reads "PostgreSQL unreachable"', async () => {
    const run = await runCheckCli(['--postgres.url', `postgres://monitor:${MONITOR_PASSWORD}@127.0.0.1:1/coder`, ...planned]);
    expect(run.stdout.split('\n')[0]).toBe('PostgreSQL unreachable');
    expect(run.stdout).toContain('ECONNREFUSED');
    expect(run.status).toBe(2);
  });
});
