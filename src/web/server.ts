// The HTTP face of the daemon: /metrics for Prometheus, /healthz and /readyz for
// Kubernetes, /api/v1/capacity for people and scripts. Every answer is built from the
// latest poll: no request ever touches PostgreSQL or Coder.

import { createServer, type Server } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { CapacityMetrics } from '../exposition/metrics.js';
import type { Logger } from '../log.js';
import type { Poller } from '../poller.js';
import { HTTP_LIMITS, HTTP_SERVER_OPTIONS, refuseBodiesAndUnsafeMethods } from './hardening.js';
import { capacityDocument } from '../views/capacity-document.js';
import { assess } from '../model/verdict.js';
import { toJson } from '../views/json.js';
import { renderStatusPage } from '../views/status-page.js';

export interface HttpOptions {
  /** `history`, the demand window's polls, draws the status page's picture of the last day. */
  poller: Pick<Poller, 'latest' | 'lastPostgresSuccessAt'> & Partial<Pick<Poller, 'history'>>;
  metrics: CapacityMetrics;
  logger: Logger;
  version: string;
  /** Runs before every route: the web config's rate limit, headers and basic auth (web-auth.ts). */
  guard?: RequestHandler;
}

export function createApp({ poller, metrics, logger, version, guard }: HttpOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(refuseBodiesAndUnsafeMethods);
  if (guard) app.use(guard);

  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.contentType);
    res.send(await metrics.render());
  });

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });

  // Ready once PostgreSQL has been polled successfully: before that every figure is unknown.
  app.get('/readyz', (_req, res) => {
    if (poller.lastPostgresSuccessAt === null) {
      const why = poller.latest?.postgresError ?? 'the first poll has not finished';
      res.status(503).type('text/plain').send(`not ready: ${why}\n`);
      return;
    }
    res.type('text/plain').send('ready\n');
  });

  app.get('/api/v1/capacity', (_req, res) => {
    const latest = poller.latest;
    res.type('application/json');
    if (!latest) {
      res.status(503).send(toJson({ status: 'starting', message: 'the first poll has not finished' }));
      return;
    }
    res.send(toJson(capacityDocument(latest, assess(latest), { version })));
  });

  // docs/runbooks.md as HTML: every alert's runbook_url lands here. Loaded at the first
  // request: the markdown renderer is of no use to a daemon nobody reads runbooks from.
  let runbooks: Promise<RequestHandler> | undefined;
  app.get('/runbooks', (req, res, next) => {
    runbooks ??= import('./runbooks.js').then((module) => module.runbooksHandler());
    runbooks.then((handler) => handler(req, res, next), next);
  });

  // The status page: self-contained, so the policy forbids every outside resource and script.
  app.get('/', (_req, res) => {
    res
      .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'")
      .set('Cache-Control', 'no-store')
      .type('text/html')
      .send(renderStatusPage(poller.latest, { version, history: poller.history }));
  });

  // No stack traces to clients: log the error, answer plainly.
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err: error }, 'HTTP handler failed');
    res.status(500).type('text/plain').send('internal error\n');
  });

  return app;
}

/** Makes an HTTPS server instead of HTTP (web-tls.ts), with the same header cap. */
export type SecureServerFactory = (app: express.Express, options: typeof HTTP_SERVER_OPTIONS) => Server;

/** Starts listening; resolves once bound, rejects with a clear message when it cannot. */
export function listen(app: express.Express, host: string, port: number, secure?: SecureServerFactory): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = secure ? secure(app, HTTP_SERVER_OPTIONS) : createServer(HTTP_SERVER_OPTIONS, app);
    server.headersTimeout = HTTP_LIMITS.headersTimeoutMs;
    server.requestTimeout = HTTP_LIMITS.requestTimeoutMs;
    server.keepAliveTimeout = HTTP_LIMITS.keepAliveTimeoutMs;
    server.once('listening', () => resolve(server));
    server.listen(port, host || undefined);
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new Error(`cannot listen on ${host || '*'}:${port} (${error.code ?? error.message}): check --web.listen-address`));
    });
  });
}
