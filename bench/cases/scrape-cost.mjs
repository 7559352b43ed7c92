// Case 1, scrape cost: /metrics under load (autocannon, 10 connections) for our daemon and
// for postgres_exporter against the same PostgreSQL. Ours answers from the latest poll;
// postgres_exporter queries PostgreSQL at every scrape. Also measured: one connection
// scraping back to back (what a single Prometheus sees, without queueing), and the CPU
// each scrape costs: the exporter's process plus PostgreSQL's, ours plus PostgreSQL's
// (only our scheduled polls), from /proc, so that machine load does not inflate it.
//
// Latencies are recorded from autocannon's per-response event at full resolution:
// its own histogram keeps whole milliseconds, too coarse for answers well under one.

import autocannon from 'autocannon';
import { postgresCpuSeconds, processCpuSeconds } from '../cpu-time.mjs';
import { quantile } from '../stats.mjs';

async function load(url, connections, seconds) {
  const latenciesMs = [];
  const instance = autocannon({ url, connections, duration: seconds });
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode === 200) latenciesMs.push(responseTimeMs);
  });
  const result = await instance;
  if (result.errors > 0 || result.non2xx > 0 || latenciesMs.length === 0) {
    throw new Error(`load on ${url} broke: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers, ${latenciesMs.length} good answers`);
  }
  return {
    p50: quantile(latenciesMs, 0.5),
    p99: quantile(latenciesMs, 0.99),
    requestsPerSecond: latenciesMs.length / (result.duration || seconds),
    requests: latenciesMs.length,
  };
}

/** Load, with the CPU the serving process and PostgreSQL spent per answered scrape. */
async function loadWithCpu(url, pid, postmaster, connections, seconds) {
  const processBefore = processCpuSeconds(pid);
  const postgresBefore = postgresCpuSeconds(postmaster);
  const result = await load(url, connections, seconds);
  const perScrapeMs = (before, after) => ((after - before) * 1000) / result.requests;
  return {
    ...result,
    processCpuMs: perScrapeMs(processBefore, processCpuSeconds(pid)),
    postgresCpuMs: perScrapeMs(postgresBefore, postgresCpuSeconds(postmaster)),
  };
}

/** Loads each target in turn (never both at once: they share two cores). */
export async function measureScrapeCost({ ours, exporter, postmaster, connections, seconds, warmupSeconds, sequentialSeconds }) {
  const run = async (target) => {
    await load(target.url, connections, warmupSeconds);
    const loaded = await loadWithCpu(target.url, target.pid, postmaster, connections, seconds);
    const sequential = await load(target.url, 1, sequentialSeconds);
    return { loaded, sequential };
  };
  const o = await run(ours);
  const e = await run(exporter);
  const versus = { referenceName: 'postgres_exporter' };
  return {
    ours: o.loaded,
    exporter: e.loaded,
    rows: [
      { figure: `/metrics p50 latency, ${connections} connections`, unit: 'ms', ours: o.loaded.p50, reference: e.loaded.p50, ...versus },
      { figure: `/metrics p99 latency, ${connections} connections`, unit: 'ms', ours: o.loaded.p99, reference: e.loaded.p99, ...versus, target: { text: '≤ 1/20 of postgres_exporter', met: o.loaded.p99 <= e.loaded.p99 / 20 } },
      { figure: `/metrics requests/s, ${connections} connections`, unit: 'req/s', ours: o.loaded.requestsPerSecond, reference: e.loaded.requestsPerSecond, ...versus },
      { figure: '/metrics p50 latency, 1 connection', unit: 'ms', ours: o.sequential.p50, reference: e.sequential.p50, ...versus },
      { figure: '/metrics p99 latency, 1 connection', unit: 'ms', ours: o.sequential.p99, reference: e.sequential.p99, ...versus },
      { figure: 'CPU per scrape: the server process', unit: 'ms', ours: o.loaded.processCpuMs, reference: e.loaded.processCpuMs, ...versus },
      { figure: 'CPU per scrape: PostgreSQL', unit: 'ms', ours: o.loaded.postgresCpuMs, reference: e.loaded.postgresCpuMs, ...versus },
    ],
  };
}
