// What a client can send the web listener and what it can learn from it: no bodies, no
// huge headers, no stack traces, and no secret on any page, whether PostgreSQL answers or not.

import { connect } from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CapacityMetrics } from '../../src/exposition/metrics.js';
import { createApp, listen } from '../../src/web/server.js';
import { captureLogs } from '../support/logs.js';
import { startTestDaemon, type RunningDaemon } from '../support/daemon.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { MONITOR_PASSWORD, createCoderCluster, monitorUrl } from '../support/scenario.js';

/** Sends raw bytes and returns the raw answer (until the server closes or 2 s pass). */
function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve(answer) : reject(error)));
    socket.on('close', () => resolve(answer));
    socket.setTimeout(2000, () => socket.destroy());
    socket.write(request);
  });
}

describe('requests the listener refuses', () => {
  let server: Server;
  let url: string;
  const logs = captureLogs();

  beforeAll(async () => {
    const failingMetrics = {
      registry: {
        contentType: 'text/plain',
        metrics: async () => {
          throw new Error(`collector exploded reading postgres://monitor:${MONITOR_PASSWORD}@db/coder`);
        },
      },
      record: () => undefined,
    } as unknown as CapacityMetrics;
    const app = createApp({ poller: { latest: null, lastPostgresSuccessAt: null }, metrics: failingMetrics, logger: logs.logger, version: 'test' });
    server = await listen(app, '127.0.0.1', 0);
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers a handler error with a plain 500: no stack trace, no message, no secret', async () => {
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(body).toBe('internal error\n');
    // The operator still learns what failed, from the log.
    expect(logs.entries().some((e) => e.msg === 'HTTP handler failed')).toBe(true);
  });

  it('refuses methods other than GET and HEAD with 405', async () => {
    const response = await fetch(`${url}/metrics`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('refuses a request body unread with 413 and closes the connection', async () => {
    const answer = await raw(url, `GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n${'x'.repeat(1000)}`);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    const chunked = await raw(url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('refuses headers over 8 KiB with 431 before any handler runs', async () => {
    const answer = await raw(url, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(9 * 1024)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect((await raw(url, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(4 * 1024)}\r\nConnection: close\r\n\r\n`))).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('drops a client that sends its headers too slowly (slowloris) after about 10 s', { timeout: 20_000 }, async () => {
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    const started = performance.now();
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    // One header byte a second: never completing, always "active".
    const trickle = setInterval(() => socket.write('X'), 1000);
    await new Promise((resolve) => socket.once('close', resolve));
    clearInterval(trickle);
    const closedAfterMs = performance.now() - started;
    expect(closedAfterMs).toBeGreaterThan(9000);
    expect(closedAfterMs).toBeLessThan(13_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('answers an unknown path with a bare 404 that echoes nothing back as HTML', async () => {
    const response = await fetch(`${url}/%3Cscript%3Ealert(1)%3C/script%3E`);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('<script>');
  });
});

describe('pages that could leak the connection secret', () => {
  let postgres: TestPostgres;
  let reachable: RunningDaemon;
  let unreachable: RunningDaemon;

  beforeAll(async () => {
    postgres = await startPostgres({ maxConnections: 20 });
    await createCoderCluster(postgres);
    reachable = await startTestDaemon(['--postgres.url', monitorUrl(postgres), '--coder.role', 'coder']);
    // The same secret in a URL whose server is gone: the error text is shown on the pages.
    unreachable = await startTestDaemon(['--postgres.url', `postgres://monitor:${MONITOR_PASSWORD}@127.0.0.1:1/coder?sslmode=disable`, '--coder.role', 'coder']);
    await vi.waitFor(async () => {
      expect(await reachable.sample('coder_pg_capacity_postgres_up')).toBe(1);
      expect(reachable.poller.latest?.snapshot.postgres).not.toBeNull();
      expect(unreachable.poller.latest?.postgresError).toMatch(/ECONNREFUSED/);
    }, { timeout: 15_000 });
  });

  afterAll(async () => {
    await reachable?.stop();
    await unreachable?.stop();
    await postgres?.destroy();
  });

  it('shows no password on /, /api/v1/capacity, /metrics or /readyz, nor in the log', async () => {
    for (const daemon of [reachable, unreachable]) {
      for (const route of ['/', '/api/v1/capacity', '/metrics', '/readyz']) {
        const body = await (await fetch(`${daemon.url}${route}`)).text();
        expect(body, `${daemon.url}${route}`).not.toContain(MONITOR_PASSWORD);
        expect(body).not.toContain(encodeURIComponent(MONITOR_PASSWORD));
      }
      expect(daemon.logs.lines.join('\n')).not.toContain(MONITOR_PASSWORD);
    }
    // The error the pages show is still useful: where, and what to check.
    const api = (await (await fetch(`${unreachable.url}/api/v1/capacity`)).json()) as { postgres: { error: string } };
    expect(api.postgres.error).toBe('cannot reach PostgreSQL at 127.0.0.1:1 (ECONNREFUSED): is it running, and is --postgres.url right?');
  });
});
