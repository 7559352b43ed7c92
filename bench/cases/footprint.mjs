// Case 5, footprint: resident memory of our daemon idle and after many polls, beside
// postgres_exporter's idle and after the scrapes of case 1. The polls run in a child
// process (footprint-worker.mjs) against the real PostgreSQL and one fake replica.

import { fileURLToPath } from 'node:url';
import { startFakeCoderFleet } from '../fake-coder-fleet.mjs';
import { daemonNodeFlags } from '../node-flags.mjs';
import { runNodeJson } from '../processes.mjs';

const worker = fileURLToPath(new URL('../footprint-worker.mjs', import.meta.url));
const transportWorker = fileURLToPath(new URL('../transport-rss-worker.mjs', import.meta.url));
/** Scrapes by a bare process, to tell what the HTTP client alone keeps resident. */
const TRANSPORT_SCRAPES = 100;
const mb = (bytes) => bytes / 1e6;
/** Targets of issue 14: idle after the first poll, and after the scrape load and the polls. */
const IDLE_LIMIT_MB = 60;
const LIMIT_MB = 80;
/** "No growth": under this much between the warm point and the end. */
const GROWTH_LIMIT_MB = 2;

export async function measurePollFootprint({ postgresUrl, polls, replicaBytes }) {
  const fleet = await startFakeCoderFleet({ replicas: 1, bytes: replicaBytes, delayMs: 0 });
  try {
    const result = await runNodeJson(worker, [postgresUrl, fleet.urls[0], String(polls)], { timeoutMs: 300_000, nodeArgs: [...daemonNodeFlags(), '--expose-gc'] });
    if (result.failures > 0) throw new Error(`${result.failures} of ${polls} polls failed in the footprint run: ${result.firstFailure}`);
    const transport = {};
    for (const client of ['fetch', 'http']) transport[client] = await runNodeJson(transportWorker, [client, fleet.urls[0], String(TRANSPORT_SCRAPES)]);
    return { ...result, transport };
  } finally {
    await fleet.stop();
  }
}

/**
 * idle / loaded: RSS of the serve process and of postgres_exporter before and after the
 * scrape load of case 1; polls: the worker's result.
 */
export function footprintRows({ oursIdle, oursLoaded, exporterIdle, exporterLoaded, scrapes, polls }) {
  const growth = polls.warmRss === null ? null : mb(polls.finalRss - polls.warmRss);
  return [
    { figure: 'RSS idle, after the first poll', unit: 'MB', ours: mb(oursIdle), reference: mb(exporterIdle), referenceName: 'postgres_exporter', target: { text: `≤ ${IDLE_LIMIT_MB} MB`, met: mb(oursIdle) <= IDLE_LIMIT_MB } },
    { figure: `RSS after case 1's load (${scrapes.ours.toLocaleString('en')} scrapes of ours, ${scrapes.exporter.toLocaleString('en')} of postgres_exporter)`, unit: 'MB', ours: mb(oursLoaded), reference: mb(exporterLoaded), referenceName: 'postgres_exporter', target: { text: `≤ ${LIMIT_MB} MB`, met: mb(oursLoaded) <= LIMIT_MB } },
    { figure: `RSS after ${polls.polls.toLocaleString('en')} polls (after a full GC)`, unit: 'MB', ours: mb(polls.finalRss), reference: mb(polls.peakRss), referenceName: 'ours, peak during the polls', target: { text: `≤ ${LIMIT_MB} MB`, met: mb(polls.peakRss) <= LIMIT_MB } },
    {
      figure: `RSS growth, poll ${polls.warmPolls.toLocaleString('en')} → ${polls.polls.toLocaleString('en')} (each after a full GC)`,
      unit: 'MB',
      ours: growth,
      reference: null,
      referenceName: '',
      target: growth === null ? undefined : { text: `no growth (< ${GROWTH_LIMIT_MB} MB)`, met: growth < GROWTH_LIMIT_MB },
    },
    ...(polls.settledRss === null
      ? []
      : [
          {
            figure: `  RSS growth, poll ${polls.settledPolls.toLocaleString('en')} → ${polls.polls.toLocaleString('en')} (each after a full GC)`,
            unit: 'MB',
            ours: mb(polls.finalRss - polls.settledRss),
            reference: null,
            referenceName: '',
          },
        ]),
    {
      figure: `  cause: peak RSS of bare Node over ${TRANSPORT_SCRAPES} scrapes with fetch (CoderSource before; now node:http)`,
      unit: 'MB',
      ours: mb(polls.transport.fetch.peak),
      reference: mb(polls.transport.http.peak),
      referenceName: 'the same with node:http',
    },
  ];
}
