// What the web config asks of every request, in the exporter-toolkit's order: the rate
// limit, the extra response headers, then basic authentication against bcrypt hashes.
// Every path is protected, /healthz and /readyz included, as the toolkit protects every
// path of an exporter (Kubernetes probes then send an Authorization header, or use a
// tcpSocket probe; see docs/security.md, "Protecting /metrics").

import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { WebConfig } from './web-config.js';

/**
 * A hash of a password nobody has, compared against when the user is unknown, so that the
 * answer takes as long for an unknown user as for a wrong password (no user enumeration).
 */
const UNKNOWN_USER_HASH = '$2b$10$9tqX72LhrZL6wGDnWXESTeql4sIM4F32RgUXkM8IKV4Gfj2Bjjug6';
/** bcrypt costs ~100 ms per check: results are cached, keyed by a digest, never the password. */
const MAX_CACHED_RESULTS = 1000;

export function webConfigGuard(current: () => WebConfig): RequestHandler {
  const verified = new Map<string, boolean>();
  // One bcrypt comparison at a time: a flood of guesses costs one core's share, not all.
  let queue: Promise<unknown> = Promise.resolve();
  let bucket: { config: WebConfig['rateLimit']; tokens: number; updatedAt: number } | null = null;

  const allowedByRateLimit = (config: WebConfig): boolean => {
    if (!config.rateLimit) return true;
    const now = performance.now();
    if (bucket?.config !== config.rateLimit) bucket = { config: config.rateLimit, tokens: config.rateLimit.burst, updatedAt: now };
    const { intervalMs, burst } = config.rateLimit;
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.updatedAt) / intervalMs);
    bucket.updatedAt = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };

  const passwordMatches = async (user: string, password: string, hash: string | undefined): Promise<boolean> => {
    const key = createHash('sha256').update(`${user}\0${hash ?? ''}\0${password}`).digest('hex');
    const cached = verified.get(key);
    if (cached !== undefined) return cached;
    const check = queue.then(() => bcrypt.compare(password, hash ?? UNKNOWN_USER_HASH));
    queue = check.catch(() => undefined);
    const ok = hash !== undefined && (await check.catch(() => false));
    if (verified.size >= MAX_CACHED_RESULTS) verified.delete(verified.keys().next().value as string);
    verified.set(key, ok);
    return ok;
  };

  return (req: Request, res: Response, next: NextFunction) => {
    const config = current();
    if (!allowedByRateLimit(config)) {
      res.status(429).type('text/plain').send('Too Many Requests\n');
      return;
    }
    for (const [name, value] of Object.entries(config.headers)) res.setHeader(name, value);
    if (config.basicAuthUsers.size === 0) {
      next();
      return;
    }
    const credentials = basicCredentials(req.headers.authorization);
    const unauthorized = () => {
      res.setHeader('WWW-Authenticate', 'Basic');
      res.status(401).type('text/plain').send('Unauthorized\n');
    };
    if (!credentials) {
      unauthorized();
      return;
    }
    passwordMatches(credentials.user, credentials.password, config.basicAuthUsers.get(credentials.user)).then(
      (ok) => (ok ? next() : unauthorized()),
      next,
    );
  };
}

function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
