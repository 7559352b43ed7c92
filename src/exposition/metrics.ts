// The exposition of the metric contract (src/contract/metrics.ts: every
// coder_pg_capacity_* family's name, type, help and labels), filled from the latest poll.
// A scrape never touches PostgreSQL or Coder, a replica that went away leaves no stale
// series, and while PostgreSQL is down the derived figures are absent, never frozen at
// their last value. Our figures are rendered once per poll (record()), the process' own
// at most once a second (render()). One file per concern fills the families: PostgreSQL's
// own figures, the capacity model's, each replica's pool, PgBouncer, what goes unbudgeted,
// and the monitor itself.

import client from 'prom-client';
import type { PollResult } from '../model/poll-result.js';
import { registerCapacityMetrics } from './capacity-metrics.js';
import { registerMonitorMetrics } from './monitor-metrics.js';
import { registerPgbouncerMetrics } from './pgbouncer-metrics.js';
import { registerPostgresMetrics } from './postgres-metrics.js';
import { registerReplicaMetrics } from './replica-metrics.js';
import { snapshotGauges, type Latest } from './snapshot-gauges.js';
import { registerUnbudgetedMetrics } from './unbudgeted-metrics.js';

export interface CapacityMetrics {
  /** Our figures (coder_pg_capacity_*), rendered once per poll. */
  registry: client.Registry;
  /** The exposition's Content-Type. */
  contentType: string;
  /** Counts and observes one poll, then renders our figures once for every scrape until the next poll. */
  record(result: PollResult): void;
  /** The whole exposition: our figures as last rendered, and the process' own (at most 1 s old). */
  render(): Promise<string>;
}

/** How old the process' own metrics may be when served: one Prometheus scrape interval at the most frequent. */
const PROCESS_METRICS_MAX_AGE_MS = 1000;

/** `sourceNames`: every report the sources give (postgres, discovery, coder, ...). */
export function createMetrics(latest: Latest, version: string, sourceNames: readonly string[] = ['postgres', 'discovery', 'coder']): CapacityMetrics {
  const registry = new client.Registry();
  // The process' own metrics (CPU, memory, event loop) change between scrapes and are read
  // at scrape time; ours change only when a poll lands, so they are rendered then and served from
  // that text: a scrape does no work proportional to the replicas or the connection groups.
  const processRegistry = new client.Registry();
  client.collectDefaultMetrics({ register: processRegistry });
  const gauges = snapshotGauges(registry, latest);
  registerPostgresMetrics(gauges);
  registerCapacityMetrics(gauges);
  registerReplicaMetrics(gauges);
  registerPgbouncerMetrics(gauges);
  registerUnbudgetedMetrics(gauges);
  const count = registerMonitorMetrics(registry, gauges, sourceNames, version);
  let ours: Promise<string> = registry.metrics();
  // Rendering the process' metrics took 0.35 ms, more than half of a scrape's CPU (bench,
  // case 1): under a burst of scrapes they are read at most once per second.
  let processText: { at: number; text: Promise<string> } | null = null;
  const processMetrics = () => {
    const now = performance.now();
    if (processText === null || now - processText.at >= PROCESS_METRICS_MAX_AGE_MS) processText = { at: now, text: processRegistry.metrics() };
    return processText.text;
  };
  return {
    registry,
    contentType: registry.contentType,
    record(result) {
      count(result);
      ours = registry.metrics();
    },
    async render() {
      const [rendered, process] = await Promise.all([ours, processMetrics()]);
      return rendered + process;
    },
  };
}
