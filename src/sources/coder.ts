// The Coder source: discovers the replicas, scrapes them all at once, and extracts the
// pool figures while the body streams in. A failing replica never fails the poll: it
// reads up=false and stays in the budget at its last known pool max, because a replica
// that cannot be scraped may still hold its connections.

import type { ReplicaSample } from '../model/snapshot.js';
import { discoverTargets, type AddressResolver } from './discovery.js';
import { PoolMetricsExtractor, type PoolMetrics } from './exposition-extractor.js';
import type { TargetSpec } from './targets.js';

/**
 * Decompressed bytes read from one replica before giving up. Coder's expositions run to
 * many MB (per-workspace series); 64 MiB is far above any seen, and bounds a runaway body.
 */
export const DEFAULT_MAX_EXPOSITION_BYTES = 64 * 1024 * 1024;

// client_golang serves the text format; OpenMetrics is accepted too.
const ACCEPT = 'text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1';

export type ScrapeOutcome = { ok: true; metrics: PoolMetrics } | { ok: false; error: string };

/** Fetches one exposition and extracts the pool figures from the stream. */
export async function scrapeReplica(url: string, timeoutMs: number, maxBytes = DEFAULT_MAX_EXPOSITION_BYTES): Promise<ScrapeOutcome> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no complete answer within ${timeoutMs} ms (--poll.timeout)`)), timeoutMs);
  try {
    // fetch (undici) decompresses gzip itself; the byte cap below counts decompressed
    // bytes, so a small gzip bomb is bounded too.
    const response = await fetch(url, { signal: abort.signal, headers: { accept: ACCEPT, 'accept-encoding': 'gzip' } });
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      return { ok: false, error: `HTTP ${response.status} from ${url}: is CODER_PROMETHEUS_ENABLE=true and the address right?` };
    }
    const extractor = new PoolMetricsExtractor();
    let bytes = 0;
    for await (const chunk of response.body) {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) {
        // The abort reason is what the user reads: leaving the loop cancels the aborted
        // stream, which throws it, and the catch below reports it.
        abort.abort(new Error(`the exposition exceeds ${maxBytes} bytes; stopped reading`));
        return { ok: false, error: `cannot scrape ${url}: the exposition exceeds ${maxBytes} bytes; stopped reading` };
      }
      extractor.push(chunk);
    }
    const metrics = extractor.finish();
    if (metrics.open === null && metrics.maxOpen === null) {
      return { ok: false, error: `${url} answered without go_sql_* metrics: is it a coderd metrics endpoint (Coder v2.23 or later)?` };
    }
    return { ok: true, metrics };
  } catch (error) {
    const reason = abort.signal.aborted ? (abort.signal.reason as Error).message : describeFetchError(error);
    return { ok: false, error: `cannot scrape ${url}: ${reason}` };
  } finally {
    clearTimeout(timer);
  }
}

function describeFetchError(error: unknown): string {
  // fetch says only "fetch failed"; the reason (ECONNREFUSED, a DNS error) is in the cause.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  if (cause?.message) return cause.message;
  return (error as Error).message ?? String(error);
}

export interface CoderPoll {
  replicas: ReplicaSample[];
  /** Errors of this poll, by the part that failed: to log and to count. */
  errors: { source: 'discovery' | 'coder'; target: string; message: string }[];
}

export interface CoderSourceOptions {
  targets: TargetSpec[];
  timeoutMs: number;
  maxBytes?: number;
  resolver?: AddressResolver;
}

export class CoderSource {
  /** Last pool max each replica reported: the budget keeps it while the replica is down. */
  private readonly lastPoolMax = new Map<string, number>();

  constructor(private readonly options: CoderSourceOptions) {}

  async poll(): Promise<CoderPoll> {
    const discovery = await discoverTargets(this.options.targets, this.options.resolver);
    const errors: CoderPoll['errors'] = discovery.failures.map((failure) => ({
      source: 'discovery',
      target: failure.spec,
      message: failure.message,
    }));
    const outcomes = await Promise.all(
      discovery.targets.map(async (target) => ({ target, outcome: await scrapeReplica(target, this.options.timeoutMs, this.options.maxBytes) })),
    );

    // A replica gone from discovery is gone: forget its pool max, so its series go away.
    for (const known of [...this.lastPoolMax.keys()]) {
      if (!discovery.targets.includes(known)) this.lastPoolMax.delete(known);
    }

    const replicas = outcomes.map(({ target, outcome }): ReplicaSample => {
      if (!outcome.ok) {
        errors.push({ source: 'coder', target, message: outcome.error });
        return {
          replica: target,
          up: false,
          poolMax: this.lastPoolMax.get(target) ?? null,
          open: null,
          inUse: null,
          idle: null,
          waitCount: null,
          waitDurationSeconds: null,
          pubsubConnected: null,
        };
      }
      const { metrics } = outcome;
      if (metrics.maxOpen !== null) this.lastPoolMax.set(target, metrics.maxOpen);
      return {
        replica: target,
        up: true,
        poolMax: metrics.maxOpen ?? this.lastPoolMax.get(target) ?? null,
        open: metrics.open,
        inUse: metrics.inUse,
        idle: metrics.idle,
        waitCount: metrics.waitCount,
        waitDurationSeconds: metrics.waitDurationSeconds,
        pubsubConnected: metrics.pubsubConnected,
      };
    });
    return { replicas, errors };
  }
}
