// The Coder source: discovers the replicas, scrapes them all at once, and extracts the
// pool figures while the body streams in. A failing replica never fails the poll: it
// reads up=false and stays in the budget at its last known pool max, because a replica
// that cannot be scraped may still hold its connections.

import http, { type IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { urlToHttpOptions } from 'node:url';
import { createGunzip } from 'node:zlib';
import type { ReplicaSample } from '../model/snapshot.js';
import { describeRequestError, describeStatus, describeTimeout, withoutCredentials, type ScrapeProgress } from './coder-scrape-errors.js';
import { discoverTargets, type AddressResolver } from './discovery.js';
import { PoolMetricsExtractor } from './exposition-extractor.js';
import { POOL_FAMILY_NAMES, type PoolMetrics } from './pool-metrics-parser.js';
import { timed, type Source, type SourceCollection } from './source.js';
import type { TargetSpec } from './targets.js';

/**
 * Decompressed bytes read from one replica before giving up. Coder's expositions run to
 * many MB (per-workspace series); 64 MiB is far above any seen, and bounds a runaway body.
 */
export const DEFAULT_MAX_EXPOSITION_BYTES = 64 * 1024 * 1024;

// client_golang serves the text format; OpenMetrics is accepted too.
const ACCEPT = 'text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1';

/** `bytes`: the exposition's size, decompressed: about 1 kB from a coderd that filtered it. */
/** `address`: the IP the answer came from (the replica's pod address), when the socket told. */
export type ScrapeOutcome = { ok: true; metrics: PoolMetrics; bytes: number; address: string | null } | { ok: false; error: string };

/**
 * The scrape URL asking for the families the extractor reads, by name[]: client_golang 1.24
 * and later then encode and send only those (about 1 kB instead of many MB of per-workspace
 * series, on coderd's side as on ours); older ones ignore the parameter and send all,
 * which the streaming extractor still handles.
 */
export function filteredScrapeUrl(url: string): string {
  const filtered = new URL(url);
  for (const name of POOL_FAMILY_NAMES) filtered.searchParams.append('name[]', name);
  return filtered.toString();
}

/** One replica's scrape request, prepared once per target and reused by every poll. */
export interface ScrapeTarget {
  /** The target as configured: what messages name (without its credentials). */
  url: string;
  client: typeof http | typeof https;
  options: http.RequestOptions;
}

export function scrapeTarget(url: string): ScrapeTarget {
  const filtered = new URL(filteredScrapeUrl(url));
  return {
    url,
    client: filtered.protocol === 'https:' ? https : http,
    options: { ...urlToHttpOptions(filtered), headers: { accept: ACCEPT, 'accept-encoding': 'gzip' } },
  };
}

/** The response body, decompressed when gzip; errors of the response reach the reader. */
function bodyOf(response: IncomingMessage): Readable {
  if (response.headers['content-encoding'] !== 'gzip') return response;
  const gunzip = createGunzip();
  response.on('error', (error) => gunzip.destroy(error));
  return response.pipe(gunzip);
}

/** The outcome of a complete 2xx body: the pool figures, or why there are none. */
function outcomeOf(target: ScrapeTarget, metrics: PoolMetrics, bytes: number, contentType: string | undefined, start: string, address: string | null): ScrapeOutcome {
  if (metrics.open !== null || metrics.maxOpen !== null) return { ok: true, metrics, bytes, address };
  const html = /\btext\/html\b/i.test(contentType ?? '') || start.startsWith('<');
  const what = bytes === 0 ? ', with an empty body' : html ? ', with an HTML page (a web UI or a login page, not Prometheus metrics)' : '';
  return {
    ok: false,
    error: `${withoutCredentials(target.url)} answered without go_sql_* metrics${what}: coderd older than v2.23 (no go_sql_* metrics) or not a coderd metrics endpoint; point --coder.targets at CODER_PROMETHEUS_ADDRESS (port 2112)`,
  };
}

/**
 * Fetches one exposition and extracts the pool figures while the body streams in.
 *
 * node:http rather than fetch: receiving 200 expositions of 1 MB took 432 ms with fetch and
 * 198 ms with node:http, and fetch held about 40 MB more at peak (bench, case 4). Events
 * rather than an AbortController and `for await`: an AbortSignal and an async iterator per
 * scrape cost about 30 µs a replica (bench case 4, 500 filtered replicas: 53-55 -> 44.5 ms
 * a poll); the timer and the size cap destroy the request instead.
 */
export function scrape(target: ScrapeTarget, timeoutMs: number, maxBytes = DEFAULT_MAX_EXPOSITION_BYTES): Promise<ScrapeOutcome> {
  return new Promise((resolve) => {
    const progress: ScrapeProgress = { connected: false, answered: false };
    let timedOut = false;
    let settled = false;
    const settle = (outcome: ScrapeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const fail = (reason: string) => settle({ ok: false, error: `cannot scrape ${withoutCredentials(target.url)}: ${reason}` });
    const failWith = (error: unknown) => fail(timedOut ? describeTimeout(timeoutMs, progress, target.url) : describeRequestError(error, target.url));

    const timer = setTimeout(() => {
      timedOut = true;
      failWith(new Error('--poll.timeout'));
      request?.destroy();
    }, timeoutMs);
    let request: http.ClientRequest | undefined;
    try {
      request = target.client.get(target.options, onResponse);
    } catch (error) {
      failWith(error);
      return;
    }
    request.once('socket', (socket) => {
      // A kept-alive socket is connected already and emits no 'connect'.
      if (!socket.connecting) progress.connected = true;
      else socket.once('connect', () => (progress.connected = true));
    });
    request.on('error', failWith);

    function onResponse(response: IncomingMessage): void {
      progress.answered = true;
      response.on('error', failWith);
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) {
        response.resume();
        fail(describeStatus(status));
        return;
      }
      const body = bodyOf(response);
      const extractor = new PoolMetricsExtractor();
      let bytes = 0;
      // The first characters of the body, to tell an HTML page (a login page, a web UI) by.
      let start = '';
      body.on('data', (chunk: Buffer) => {
        if (settled) return;
        // The byte cap counts decompressed bytes, so a small gzip bomb is bounded too.
        bytes += chunk.byteLength;
        if (bytes > maxBytes) {
          fail(`the exposition exceeds ${maxBytes} bytes; stopped reading`);
          response.destroy();
          return;
        }
        if (start === '') start = chunk.toString('latin1', 0, Math.min(chunk.byteLength, 256)).trimStart();
        extractor.push(chunk);
      });
      body.on('error', failWith);
      const address = plainAddress(response.socket?.remoteAddress);
      body.once('end', () => settle(outcomeOf(target, extractor.finish(), bytes, response.headers['content-type'], start, address)));
      // A body that closes without its end and without an error still ends the scrape.
      body.once('close', () => failWith(Object.assign(new Error('the connection closed before the end of the exposition'), { code: 'ECONNRESET' })));
    }
  });
}

/** An IP as PostgreSQL's client_addr shows it: an IPv4 address mapped into IPv6 (::ffff:a.b.c.d) as IPv4. */
export function plainAddress(address: string | undefined | null): string | null {
  if (!address) return null;
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** The IP in a target's URL (dns+ discovery gives one per replica); null for a host name. */
export function addressInUrl(url: string): string | null {
  try {
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    return isIP(host) === 0 ? null : plainAddress(host);
  } catch {
    return null;
  }
}

/** One scrape of a URL, prepared for this call alone (CoderSource keeps its targets prepared). */
export function scrapeReplica(url: string, timeoutMs: number, maxBytes = DEFAULT_MAX_EXPOSITION_BYTES): Promise<ScrapeOutcome> {
  let target: ScrapeTarget;
  try {
    target = scrapeTarget(url);
  } catch (error) {
    return Promise.resolve({ ok: false, error: `cannot scrape ${withoutCredentials(url)}: ${describeRequestError(error, url)}` });
  }
  return scrape(target, timeoutMs, maxBytes);
}

export interface CoderPoll {
  replicas: ReplicaSample[];
  /** Errors of this poll, by the part that failed: to log and to count. */
  errors: { source: 'discovery' | 'coder'; target: string; message: string }[];
  /** Wall time of each part: resolving the targets, and scraping them. */
  seconds: { discovery: number; coder: number };
}

export interface CoderSourceOptions {
  targets: TargetSpec[];
  timeoutMs: number;
  maxBytes?: number;
  resolver?: AddressResolver;
}

export class CoderSource implements Source {
  readonly reportNames = ['discovery', 'coder'] as const;
  /** Last pool max each replica reported: the budget keeps it while the replica is down. */
  private readonly lastPoolMax = new Map<string, number>();
  /** The address each named target last answered from: a down replica keeps its address. */
  private readonly lastAddress = new Map<string, string>();
  /** Each discovered target's request, prepared when it first appears. */
  private readonly prepared = new Map<string, ScrapeTarget>();

  constructor(private readonly options: CoderSourceOptions) {}

  /** The replicas, and a report each for discovery and for the scrapes. */
  async collect(): Promise<SourceCollection> {
    const { replicas, errors, seconds } = await this.poll();
    const of = (source: 'discovery' | 'coder') => errors.filter((error) => error.source === source).map(({ target, message }) => ({ target, message }));
    return {
      observations: { replicas },
      reports: [
        { source: 'discovery', up: of('discovery').length === 0, seconds: seconds.discovery, errors: of('discovery') },
        { source: 'coder', up: of('coder').length === 0, seconds: seconds.coder, errors: of('coder') },
      ],
    };
  }

  async poll(): Promise<CoderPoll> {
    const { value: discovery, seconds: discoverySeconds } = await timed(() => discoverTargets(this.options.targets, this.options.resolver));
    const errors: CoderPoll['errors'] = discovery.failures.map((failure) => ({
      source: 'discovery',
      target: failure.spec,
      message: failure.message,
    }));
    const { value: outcomes, seconds: scrapeSeconds } = await timed(() =>
      Promise.all(discovery.targets.map(async (target) => ({ target, outcome: await this.scrape(target) }))),
    );

    // A replica gone from discovery is gone: forget its pool max, so its series go away.
    const current = new Set(discovery.targets);
    for (const known of [...this.lastPoolMax.keys()]) {
      if (!current.has(known)) this.lastPoolMax.delete(known);
    }
    for (const known of [...this.prepared.keys()]) {
      if (!current.has(known)) this.prepared.delete(known);
    }
    for (const known of [...this.lastAddress.keys()]) {
      if (!current.has(known)) this.lastAddress.delete(known);
    }

    const replicas = outcomes.map(({ target, outcome }): ReplicaSample => {
      if (!outcome.ok) {
        errors.push({ source: 'coder', target, message: outcome.error });
        return {
          replica: target,
          address: addressInUrl(target) ?? this.lastAddress.get(target) ?? null,
          up: false,
          poolMax: this.lastPoolMax.get(target) ?? null,
          open: null,
          inUse: null,
          idle: null,
          waitCount: null,
          waitDurationSeconds: null,
          pubsubConnected: null,
          closed: null,
          scrapeBytes: null,
        };
      }
      const { metrics } = outcome;
      if (metrics.maxOpen !== null) this.lastPoolMax.set(target, metrics.maxOpen);
      if (outcome.address !== null) this.lastAddress.set(target, outcome.address);
      return {
        replica: target,
        address: addressInUrl(target) ?? outcome.address,
        up: true,
        poolMax: metrics.maxOpen ?? this.lastPoolMax.get(target) ?? null,
        open: metrics.open,
        inUse: metrics.inUse,
        idle: metrics.idle,
        waitCount: metrics.waitCount,
        waitDurationSeconds: metrics.waitDurationSeconds,
        pubsubConnected: metrics.pubsubConnected,
        closed: metrics.closed,
        scrapeBytes: outcome.bytes,
      };
    });
    return { replicas, errors, seconds: { discovery: discoverySeconds, coder: scrapeSeconds } };
  }

  private scrape(url: string): Promise<ScrapeOutcome> {
    let target = this.prepared.get(url);
    if (target === undefined) {
      try {
        target = scrapeTarget(url);
      } catch {
        return scrapeReplica(url, this.options.timeoutMs, this.options.maxBytes); // says why the URL is unusable
      }
      this.prepared.set(url, target);
    }
    return scrape(target, this.options.timeoutMs, this.options.maxBytes);
  }
}
