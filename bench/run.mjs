#!/usr/bin/env node
// The benchmark: our daemon against postgres_exporter and against the physical limits,
// in one run, printed as one table. `npm run bench` builds dist/ first, then runs this.
//
//   node bench/run.mjs            all five cases at full size (a few minutes)
//   node bench/run.mjs --write    the same, and writes the results into docs/performance.md
//   node bench/run.mjs --quick    reduced sizes, to check the harness (not reference figures)
//
// Exit code 1 only when the run broke (a process did not start, a reader gave a wrong
// answer, a request failed); a missed target is a finding, printed in the table.

import { fileURLToPath } from 'node:url';
import { startPostgres } from '../dist-dev/dev/embedded-postgres.js';
import { measureExtraction } from './cases/extraction.mjs';
import { measureFanOutAsDaemon } from './cases/fan-out.mjs';
import { footprintRows, measurePollFootprint } from './cases/footprint.mjs';
import { measureModuleFootprint } from './cases/module-footprint.mjs';
import { measurePostgresCost } from './cases/postgres-cost.mjs';
import { measureScrapeCost } from './cases/scrape-cost.mjs';
import { postmasterPid } from './cpu-time.mjs';
import { startDaemonProcess } from './daemon-process.mjs';
import { startFakeCoderFleet } from './fake-coder-fleet.mjs';
import { describeMachine, loadAverage } from './machine.mjs';
import { ensurePostgresExporter, startPostgresExporter } from './postgres-exporter.mjs';
import { residentShares, rssBytes } from './processes.mjs';
import { renderMachine, renderTable, writeResults } from './report.mjs';

const FULL = {
  scrape: { connections: 10, seconds: 10, warmupSeconds: 2, sequentialSeconds: 3 },
  idleLevels: [100, 2000],
  oursRuns: 200,
  exporterRuns: 20,
  extraction: { bigBytes: 50e6, smallBytes: 10e6 },
  fanOut: { fleets: [200, 500], bytes: 1e6, delayMs: 20, singleRuns: 9, fleetRuns: 7 },
  polls: 10_000,
  pollReplicaBytes: 100e3,
  moduleRuns: 3,
};

const QUICK = {
  scrape: { connections: 10, seconds: 2, warmupSeconds: 1, sequentialSeconds: 1 },
  idleLevels: [100],
  oursRuns: 30,
  exporterRuns: 5,
  extraction: { bigBytes: 10e6, smallBytes: 2e6 },
  fanOut: { fleets: [20], bytes: 1e6, delayMs: 20, singleRuns: 3, fleetRuns: 2 },
  polls: 1_200,
  pollReplicaBytes: 100e3,
  moduleRuns: 1,
};

const resultsFile = fileURLToPath(new URL('../docs/performance.md', import.meta.url));

function parseArgs(args) {
  const known = new Set(['--write', '--quick']);
  const unknown = args.filter((arg) => !known.has(arg));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown argument(s) ${unknown.join(' ')}; use --write (write the results into docs/performance.md) and/or --quick (reduced sizes)\n`);
    process.exit(2);
  }
  return { write: args.includes('--write'), quick: args.includes('--quick') };
}

const runStarted = performance.now();
const progress = (message) => process.stderr.write(`[bench ${Math.round((performance.now() - runStarted) / 1000)} s] ${message}\n`);

/** Things to stop, last started first, whatever happens. */
const cleanups = [];
async function cleanUp() {
  while (cleanups.length > 0) {
    const stop = cleanups.pop();
    await stop().catch((error) => progress(`clean-up: ${error.message}`));
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    progress(`${signal}: stopping everything started`);
    cleanUp().finally(() => process.exit(130));
  });
}

async function main({ write, quick }) {
  const sizes = quick ? QUICK : FULL;
  const started = performance.now();
  const loadBefore = loadAverage();
  const rows = [];
  const notes = [];
  const add = (label, caseRows) => rows.push(...caseRows.map((row) => ({ case: label, ...row })));

  progress('setup: postgres_exporter (installed when missing), PostgreSQL with max_connections 2100');
  const exporterBinary = ensurePostgresExporter();
  const postgres = await startPostgres({ maxConnections: 2100 });
  cleanups.push(() => postgres.destroy());
  const admin = await postgres.admin();
  const postgresVersion = (await admin.query('SHOW server_version')).rows[0].server_version;
  await admin.end();
  const postgresUrl = postgres.url('postgres');

  // Case 1 (and 5's idle and loaded figures): both systems as operators run them.
  const replica = await startFakeCoderFleet({ replicas: 1, bytes: sizes.pollReplicaBytes, delayMs: 0 });
  cleanups.push(() => replica.stop());
  const daemon = await startDaemonProcess({ postgresUrl, coderTargets: replica.urls });
  cleanups.push(() => daemon.stop());
  const exporter = await startPostgresExporter(exporterBinary.binary, `${postgresUrl}?sslmode=disable`);
  cleanups.push(() => exporter.stop());
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idle = { ours: rssBytes(daemon.pid), exporter: rssBytes(exporter.pid) };
  const idleShares = residentShares(daemon.pid);

  progress(`case 1: /metrics under load, ${sizes.scrape.connections} connections, ${sizes.scrape.seconds} s each`);
  const scrape = await measureScrapeCost({
    ours: { url: `${daemon.url}/metrics`, pid: daemon.pid },
    exporter: { url: exporter.url, pid: exporter.pid },
    postmaster: postmasterPid(postgres.dataDir),
    ...sizes.scrape,
  });
  add('1 scrape', scrape.rows);
  const loaded = { ours: rssBytes(daemon.pid), exporter: rssBytes(exporter.pid) };
  // Its schedule would poll in the middle of case 2's measurements.
  await daemon.stop();
  await replica.stop();

  progress(`case 2: cost to PostgreSQL per poll with ${sizes.idleLevels.join(' and ')} idle connections`);
  const postgresCost = await measurePostgresCost({
    postgres,
    exporterBinary: exporterBinary.binary,
    exporterUrl: exporter.url,
    levels: sizes.idleLevels,
    oursRuns: sizes.oursRuns,
    exporterRuns: sizes.exporterRuns,
  });
  add('2 PostgreSQL', postgresCost.rows);
  for (const d of postgresCost.detail) {
    notes.push(
      `Case 2 at ${d.level} idle connections: the round trip of an empty statement before the poll's (PostgresSource roundTripSeconds, the network and PostgreSQL's answer) was ${d.oursRoundTripMs.toFixed(2)} ms (median); ` +
        `per poll we sent ${Math.round(d.oursCounts.bytesToServer)} bytes, postgres_exporter ${Math.round(d.exporterCounts.bytesToServer)}.`,
    );
  }
  await exporter.stop();

  progress(`case 5: ${sizes.polls.toLocaleString('en')} polls of the daemon in a child process`);
  const polls = await measurePollFootprint({ postgresUrl, polls: sizes.polls, replicaBytes: sizes.pollReplicaBytes });
  const heap = (h) => `V8 heap ${(h.total / 1e6).toFixed(1)} MB reserved, ${(h.used / 1e6).toFixed(1)} MB used, ${(h.external / 1e6).toFixed(1)} MB external`;
  notes.push(
    `Case 5: ${polls.polls.toLocaleString('en')} polls (each: PostgreSQL + one ${sizes.pollReplicaBytes / 1e3} kB replica; /metrics scraped every 100) took ${polls.seconds.toFixed(1)} s. ` +
      `RSS ${(polls.idleRss / 1e6).toFixed(1)} MB idle in that process (${heap(polls.idleHeap)}), ${(polls.finalRss / 1e6).toFixed(1)} MB at the end (${heap(polls.finalHeap)}). ` +
      `RSS with the daemon's modules loaded, before it starts: ${(polls.loadedRss / 1e6).toFixed(1)} MB; a bare Node process: ${(polls.transport.http.before / 1e6).toFixed(1)} MB. ` +
      (polls.warmHeap === null
        ? ''
        : `After a full GC at poll ${polls.warmPolls.toLocaleString('en')} and at the end: V8 heap used ${(polls.warmHeap.used / 1e6).toFixed(1)} -> ${(polls.finalHeap.used / 1e6).toFixed(1)} MB, reserved ${(polls.warmHeap.total / 1e6).toFixed(1)} -> ${(polls.finalHeap.total / 1e6).toFixed(1)} MB.`),
    `Case 5, the serve process idle: of its ${(idleShares.rss / 1e6).toFixed(1)} MB resident, ${(idleShares.fileBacked / 1e6).toFixed(1)} MB are pages of mapped files (the node binary and its libraries, shared with every process that maps them) and ${(idleShares.anonymous / 1e6).toFixed(1)} MB its own memory.`,
  );
  await postgres.destroy();

  progress(`case 3: extraction, ${sizes.extraction.bigBytes / 1e6} MB and ${sizes.extraction.smallBytes / 1e6} MB bodies, one child process per reader`);
  const extraction = await measureExtraction(sizes.extraction);
  add('3 extraction', extraction.rows);
  notes.push(
    `Case 3: the ${sizes.extraction.bigBytes / 1e6} MB body has ${extraction.lines.toLocaleString('en')} lines; ` +
      `peak RSS of a child that only reads it (no reader) was ${(extraction.memory.none.big.peakRssBytes / 1e6).toFixed(1)} MB, ` +
      `the newline scan's ${(extraction.memory.newline.big.peakRssBytes / 1e6).toFixed(1)} MB: the floor every streaming reader shares.`,
  );

  for (const replicas of sizes.fanOut.fleets) {
    progress(`case 4: fan-out to ${replicas} fake replicas, coderd honouring name[] and not`);
    // A current coderd: only the families asked for cross the wire.
    add('4 fan-out', (await measureFanOutAsDaemon({ ...sizes.fanOut, replicas, filtering: true, target: true, floors: true })).rows);
    // An older coderd: every byte of the exposition, against the transport floors.
    add('4 fan-out', (await measureFanOutAsDaemon({ ...sizes.fanOut, replicas, floors: true })).rows);
  }
  // What an older coderd really serves when the scraper accepts gzip (promhttp's default).
  add('4 fan-out', (await measureFanOutAsDaemon({ ...sizes.fanOut, replicas: sizes.fanOut.fleets[0], gzip: true })).rows);

  add('5 footprint', footprintRows({ oursIdle: idle.ours, oursLoaded: loaded.ours, exporterIdle: idle.exporter, exporterLoaded: loaded.exporter, scrapes: { ours: scrape.ours.requests, exporter: scrape.exporter.requests }, polls }));

  progress('case 6: resident memory per module');
  add('6 modules', (await measureModuleFootprint({ runs: sizes.moduleRuns })).rows);

  const machine = {
    ...describeMachine(),
    postgres: postgresVersion,
    exporter: exporterBinary.version,
    loadBefore,
    loadAfter: loadAverage(),
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    seconds: Math.round((performance.now() - started) / 1000),
    quick,
  };
  const table = renderTable(rows);
  notes.sort((a, b) => a.slice(0, 6).localeCompare(b.slice(0, 6))); // by case number, as the table
  process.stdout.write(`\n${renderMachine(machine)}\n\n${table}\n\n${notes.map((note) => `- ${note}`).join('\n')}\n`);
  if (write) {
    await writeResults(resultsFile, { table, machine, notes });
    progress(`wrote ${resultsFile}`);
  }
}

const options = parseArgs(process.argv.slice(2));
try {
  await main(options);
  await cleanUp();
  // Keep-alive sockets to stopped servers must not hold the process open.
  process.exit(0);
} catch (error) {
  process.stderr.write(`\nbench: the run broke, no figures to trust: ${error.stack ?? error}\n`);
  await cleanUp();
  process.exit(1);
}
