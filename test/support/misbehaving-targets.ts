// Coder metrics endpoints that misbehave the ways a real network and a real coderd can:
// refuse, reset, accept and never answer, trickle bytes, send without end, flip between up and down.
// Each is a real HTTP server on a loopback port; close() ends it and every connection.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatDbStats, formatPubsubConnected } from '../../dev/client-golang-format.js';

export interface Target {
  url: string;
  /** Requests received so far. */
  requests(): number;
  /** Bytes written to clients so far (for the endless ones). */
  bytesSent(): number;
  /** Client connections open now. */
  openConnections(): number;
  close(): Promise<void>;
}

async function serve(handle: (req: IncomingMessage, res: ServerResponse, count: number, sent: (n: number) => void) => void): Promise<Target> {
  let requests = 0;
  let bytes = 0;
  let open = 0;
  const server: Server = createServer((req, res) => handle(req, res, ++requests, (n) => (bytes += n)));
  server.on('connection', (socket) => {
    open++;
    socket.once('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    requests: () => requests,
    bytesSent: () => bytes,
    openConnections: () => open,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A coderd pool: pool max 20, `open` open, 2 in use, pubsub connected. */
export function poolExposition(open = 5): string {
  return formatDbStats({ maxOpen: 20, open, inUse: 2 }) + formatPubsubConnected(true);
}

export const healthyTarget = (open = 5) => serve((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(poolExposition(open)));

/** Accepts the request and drops the connection without a word (the client sees ECONNRESET). */
export const resettingTarget = () => serve((req) => req.socket.destroy());

/**
 * Answers 200 with the pool figures first, then drops the connection before the end of the
 * body it announced (coderd killed mid-answer): figures read so far must not count.
 */
export const truncatingTarget = () =>
  serve((req, res) => {
    const body = Buffer.from(poolExposition());
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': String(body.length * 2) });
    res.write(body, () => req.socket.destroy());
  });

/** A port that had a listener a moment ago and has none now: connecting is refused. */
export async function refusingTarget(): Promise<{ url: string; port: number }> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return { url: `http://127.0.0.1:${port}/metrics`, port };
}

/** Accepts the connection and the request, and never answers. */
export const hangingTarget = () => serve(() => undefined);

/** Answers 200 and then one byte of a valid-looking exposition every 100 ms, forever. */
export const tricklingTarget = () =>
  serve((_req, res, _n, sent) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    const text = `# HELP go_sql_open_connections The number of established connections both in use and idle.\n${'#'.repeat(1_000_000)}`;
    let at = 0;
    const timer = setInterval(() => {
      res.write(text[at++ % text.length] as string);
      sent(1);
    }, 100);
    res.on('close', () => clearInterval(timer));
  });

/** Sends `megabytes` MB of coderd-like series as fast as the client reads, the pool figures last. */
export const floodingTarget = (megabytes: number) =>
  serve((_req, res, _n, sent) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    const chunk = Buffer.from('coderd_agents_connection_latencies_seconds{agent_name="main",username="u",workspace_name="w"} 0.0123\n'.repeat(700));
    const total = megabytes * 1024 * 1024;
    let written = 0;
    let closed = false;
    res.on('close', () => (closed = true));
    const write = () => {
      while (!closed && written < total) {
        written += chunk.length;
        sent(chunk.length);
        if (!res.write(chunk)) {
          res.once('drain', write);
          return;
        }
      }
      if (!closed) res.end(poolExposition());
    };
    write();
  });

/** Up on odd requests, 503 on even ones: a replica that flaps. */
export const flappingTarget = () =>
  serve((_req, res, count) => {
    if (count % 2 === 1) res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(poolExposition(4));
    else res.writeHead(503).end('restarting\n');
  });
