// Starts the daemon in-process against a real PostgreSQL, polling every second, and
// reads its /metrics the way Prometheus would.

import { parseConfig } from '../../src/config/parse-config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import type { AddressResolver } from '../../src/sources/discovery.js';
import { captureLogs, type CapturedLogs } from './logs.js';

export interface RunningDaemon extends Daemon {
  logs: CapturedLogs;
  /** Samples of /metrics, keyed `name{label="value",...}` with labels sorted. */
  scrape(): Promise<Map<string, number>>;
  /** One sample's value; undefined when the series is absent. */
  sample(name: string, labels?: Record<string, string>): Promise<number | undefined>;
}

/** `resolver` answers the dns+ targets (a test DNS server); node:dns's default otherwise. */
export async function startTestDaemon(args: string[], env: Record<string, string> = {}, options: { resolver?: AddressResolver } = {}): Promise<RunningDaemon> {
  const config = parseConfig(['--web.listen-address', '127.0.0.1:0', '--poll.schedule', '* * * * * *', '--poll.timeout', '1s', ...args], env);
  const logs = captureLogs();
  const daemon = await startDaemon(config, { logger: logs.logger, resolver: options.resolver });
  const scrape = async () => parseExposition(await (await fetch(`${daemon.url}/metrics`)).text());
  return {
    ...daemon,
    stop: daemon.stop,
    logs,
    scrape,
    async sample(name, labels = {}) {
      return (await scrape()).get(seriesKey(name, labels));
    },
  };
}

export function seriesKey(name: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`);
  return pairs.length ? `${name}{${pairs.join(',')}}` : name;
}

/** Prometheus text to samples; enough for prom-client's output (no escapes in our label values). */
export function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    const raw = match[3] as string;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.set(seriesKey(match[1] as string, labels), value);
  }
  return samples;
}
