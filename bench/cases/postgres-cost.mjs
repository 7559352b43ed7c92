// Case 2, cost to PostgreSQL per poll, with many idle client connections open: our poll
// (PostgresSource.poll, the daemon's one statement) against one postgres_exporter scrape,
// which is one poll of PostgreSQL for it. Measured four ways:
//   wall time: each poll timed in-process for ours, each scrape over HTTP for the exporter,
//     both over direct connections;
//   bytes received from PostgreSQL, statements run and connections opened: through the
//     counting proxy, by a second instance of each (so the proxy never adds to wall time);
//   PostgreSQL's own CPU: the whole cluster's, from /proc, around the timed polls.
// Beside them, the floor: `SELECT count(*) FROM pg_stat_activity`, the least any monitor
// that reads pg_stat_activity makes PostgreSQL do.

import { createPoller } from '../../dist/daemon.js';
import { parseConfig } from '../../dist/config/parse-config.js';
import { PostgresSource } from '../../dist/sources/postgres.js';
import { createLogger } from '../../dist/log.js';
import { countsBetween, startCountingProxy } from '../counting-proxy.mjs';
import { holdIdleConnections } from '../idle-connections.mjs';
import { startPostgresExporter } from '../postgres-exporter.mjs';
import { postgresCpuSeconds, postmasterPid } from '../cpu-time.mjs';
import { median } from '../stats.mjs';

/** The daemon's own PostgresSource, built from the same settings as `serve` builds it. */
function postgresSource(url) {
  const { sources } = createPoller(parseConfig(['--postgres.url', url, '--coder.replicas', '3'], {}), { logger: createLogger('silent') });
  const source = sources.find((candidate) => candidate instanceof PostgresSource);
  if (!source) throw new Error('the daemon lists no PostgresSource');
  return source;
}

async function pollOk(source) {
  const result = await source.poll();
  if (!result.ok) throw new Error(`our PostgreSQL poll failed: ${result.error}`);
  return result;
}

async function scrapeOk(url) {
  const response = await fetch(url);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`postgres_exporter answered ${response.status} at ${url}`);
  // A DSN it cannot use still answers 200, with pg_up 0: that would measure nothing.
  if (!/^pg_up 1$/m.test(text)) throw new Error(`postgres_exporter at ${url} reports pg_up 0: it cannot reach the benchmark's PostgreSQL`);
}

/** Wall ms of each run, and the cluster's CPU ms per run over all of them. */
async function timedWithCpu(postmaster, runs, work) {
  const wallMs = [];
  const cpuBefore = postgresCpuSeconds(postmaster);
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    wallMs.push(performance.now() - started);
  }
  const cpuMs = ((postgresCpuSeconds(postmaster) - cpuBefore) * 1000) / runs;
  return { wallMs: median(wallMs), cpuMs };
}

async function countedPerRun(proxy, runs, work) {
  const before = proxy.totals();
  for (let i = 0; i < runs; i++) await work();
  const delta = countsBetween(before, proxy.totals());
  return Object.fromEntries(Object.entries(delta).map(([key, value]) => [key, value / runs]));
}

export async function measurePostgresCost({ postgres, exporterBinary, exporterUrl, levels, oursRuns, exporterRuns }) {
  const directUrl = postgres.url('postgres');
  const proxy = await startCountingProxy(postgres.port);
  const proxiedUrl = directUrl.replace(`:${postgres.port}/`, `:${proxy.port}/`);
  const postmaster = postmasterPid(postgres.dataDir);
  const ours = postgresSource(directUrl);
  const oursCounted = postgresSource(proxiedUrl);
  const exporterCounted = await startPostgresExporter(exporterBinary, `${proxiedUrl}?sslmode=disable`);
  const idle = await holdIdleConnections(directUrl);
  const floorClient = await postgres.admin();
  const rows = [];
  const detail = [];
  try {
    for (const level of levels) {
      await idle.growTo(level);
      await new Promise((resolve) => setTimeout(resolve, 500)); // new backends finish starting
      for (let i = 0; i < 5; i++) {
        await pollOk(ours);
        await pollOk(oursCounted);
      }
      for (let i = 0; i < 2; i++) {
        await scrapeOk(exporterUrl);
        await scrapeOk(exporterCounted.url);
      }

      const roundTripsMs = [];
      const oursTimed = await timedWithCpu(postmaster, oursRuns, async () => {
        roundTripsMs.push((await pollOk(ours)).roundTripSeconds * 1000);
      });
      const oursCounts = await countedPerRun(proxy, Math.min(oursRuns, 20), () => pollOk(oursCounted));
      const exporterTimed = await timedWithCpu(postmaster, exporterRuns, () => scrapeOk(exporterUrl));
      const exporterCounts = await countedPerRun(proxy, Math.min(exporterRuns, 5), () => scrapeOk(exporterCounted.url));
      // The floor for any monitor that reads pg_stat_activity: PostgreSQL builds a row per backend.
      const floorTimed = await timedWithCpu(postmaster, oursRuns, () => floorClient.query({ name: 'floor', text: 'SELECT count(*) FROM pg_stat_activity' }));

      const at = `${level.toLocaleString('en')} idle`;
      // The poll's own cost, against the least any pg_stat_activity reader pays; a fixed
      // number of ms would measure PostgreSQL's per-backend work, not ours.
      const floorTarget = level >= 2000 ? { text: '≤ 1.3× the count floor', met: oursTimed.wallMs <= 1.3 * floorTimed.wallMs } : undefined;
      rows.push(
        { figure: `poll wall time, ${at}`, unit: 'ms', ours: oursTimed.wallMs, reference: exporterTimed.wallMs, referenceName: 'postgres_exporter scrape' },
        { figure: `bytes from PostgreSQL per poll, ${at}`, unit: 'bytes', ours: oursCounts.bytesFromServer, reference: exporterCounts.bytesFromServer, referenceName: 'postgres_exporter scrape' },
        { figure: `PostgreSQL CPU per poll, ${at}`, unit: 'ms', ours: oursTimed.cpuMs, reference: exporterTimed.cpuMs, referenceName: 'postgres_exporter scrape' },
        { figure: `  floor: count(*) FROM pg_stat_activity, ${at}`, unit: 'ms', ours: oursTimed.wallMs, reference: floorTimed.wallMs, referenceName: 'wall time', target: floorTarget },
        { figure: `  floor: count(*) FROM pg_stat_activity, ${at}`, unit: 'ms', ours: oursTimed.cpuMs, reference: floorTimed.cpuMs, referenceName: 'PostgreSQL CPU' },
      );
      // The same at every level: shown once, at the largest.
      if (level === levels.at(-1)) {
        rows.push(
          { figure: 'statements per poll', unit: 'count', ours: oursCounts.statements, reference: exporterCounts.statements, referenceName: 'postgres_exporter scrape' },
          { figure: 'connections opened per poll', unit: 'count', ours: oursCounts.connections, reference: exporterCounts.connections, referenceName: 'postgres_exporter scrape' },
        );
      }
      detail.push({ level, oursRoundTripMs: median(roundTripsMs), oursCounts, exporterCounts });
    }
  } finally {
    await idle.close();
    await floorClient.end();
    await ours.close();
    await oursCounted.close();
    await exporterCounted.stop();
    await proxy.close();
  }
  return { rows, detail };
}
