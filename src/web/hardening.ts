// Limits on what a client may send. Every endpoint is a GET without a body, so anything
// else is refused before a handler runs, and nothing a client sends is ever buffered:
// headers are capped by Node (maxHeaderSize, 431), bodies are refused unread (413), and
// the timeouts bound a client that sends slowly (slowloris).

import type { NextFunction, Request, Response } from 'express';

export const HTTP_LIMITS = {
  /** Node's default is 16 KiB; Prometheus and browsers send well under 2 KiB. */
  maxHeaderSize: 8 * 1024,
  /** Until the headers are complete (and, with HTTPS, until the TLS handshake is). */
  headersTimeoutMs: 10_000,
  /** Until the whole request is read. */
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
} as const;

/** Options for http(s).createServer: the header cap, and the timeouts checked every second (Node's default: 30 s). */
export const HTTP_SERVER_OPTIONS = { maxHeaderSize: HTTP_LIMITS.maxHeaderSize, connectionsCheckingInterval: 1000 };

export function refuseBodiesAndUnsafeMethods(req: Request, res: Response, next: NextFunction): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.status(405).set('Allow', 'GET, HEAD').type('text/plain').send('method not allowed: every endpoint is read-only (GET)\n');
    return;
  }
  const length = Number(req.headers['content-length'] ?? 0);
  if (req.headers['transfer-encoding'] !== undefined || length > 0) {
    // The body stays unread: close the connection rather than drain it.
    res.status(413).set('Connection', 'close').type('text/plain').send('request bodies are not accepted\n');
    return;
  }
  next();
}
