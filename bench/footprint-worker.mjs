// The daemon's memory over many polls, in a process of its own:
// `node bench/footprint-worker.mjs POSTGRES_URL CODER_URL POLLS`, prints one JSON line.
//
// It starts the real daemon (startDaemon: sources, poller, metrics, HTTP) with a schedule
// that never fires within the run, then drives the poller back to back, as the schedule
// would over days (10,000 polls are 42 hours at the default 15 s), and scrapes its own
// /metrics every SCRAPE_EVERY polls as Prometheus would. RSS is read at idle (after the
// first poll), after WARM_POLLS (allocator and JIT settled), after SETTLED_POLLS and at the end.
//
// The warm and final readings follow a full garbage collection (run with --expose-gc):
// back to back, 10,000 polls leave the garbage of the last few hundred uncollected, and
// where the collector stands at the moment of reading moved the raw figure by 0.1 to 5 MB
// between runs. After a full collection the growth is what the polls kept. The peak stays
// raw: it is what the polls cost at their worst.

import { drainGet } from './node-http-get.mjs';
import { parseConfig } from '../dist/config/parse-config.js';
import { startDaemon } from '../dist/daemon.js';
import { createLogger } from '../dist/log.js';

const SCRAPE_EVERY = 100;
const WARM_POLLS = 1000;
/** A second reading: V8's old space takes its last growth step after poll 1,000 in some runs. */
const SETTLED_POLLS = 5000;


/** process.memoryUsage() after a full garbage collection: what is kept, not what awaits collection. */
function settledMemory() {
  globalThis.gc();
  return process.memoryUsage();
}

// Every module the daemon needs is loaded (static imports) and nothing has run yet.
const loadedRss = process.memoryUsage().rss;

const [postgresUrl, coderUrl, pollsText] = process.argv.slice(2);
const polls = Number(pollsText);

const config = parseConfig(
  ['--postgres.url', postgresUrl, '--coder.targets', coderUrl, '--web.listen-address', '127.0.0.1:0', '--poll.schedule', '0 0 0 1 1 *', '--log.level', 'silent'],
  {},
);
const daemon = await startDaemon(config, { logger: createLogger('silent') });
const deadline = Date.now() + 20_000;
while (daemon.poller.latest === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
await new Promise((resolve) => setTimeout(resolve, 1000));
const idle = process.memoryUsage();

let warmRss = null;
let warmHeap = null;
let settledRss = null;
let failures = 0;
let firstFailure = null;
const started = performance.now();
for (let i = 1; i <= polls; i++) {
  const result = await daemon.poller.pollOnce();
  if (result.postgresError !== null || result.coderErrors.length > 0) {
    failures++;
    firstFailure ??= result.postgresError ?? result.coderErrors[0].message;
  }
  if (i % SCRAPE_EVERY === 0) {
    // node:http, as the daemon's own clients: fetch would load undici into the measured process.
    const status = await drainGet(`${daemon.url}/metrics`);
    if (status !== 200) {
      failures++;
      firstFailure ??= `/metrics answered ${status}`;
    }
  }
  if (i === WARM_POLLS) {
    const warm = settledMemory();
    warmRss = warm.rss;
    warmHeap = { total: warm.heapTotal, used: warm.heapUsed, external: warm.external };
  }
  if (i === SETTLED_POLLS && polls > SETTLED_POLLS) settledRss = settledMemory().rss;
}
const seconds = (performance.now() - started) / 1000;
const final = settledMemory();
await daemon.stop();
process.stdout.write(
  JSON.stringify({
    polls,
    seconds,
    loadedRss,
    idleRss: idle.rss,
    warmRss,
    warmPolls: WARM_POLLS,
    settledRss,
    settledPolls: SETTLED_POLLS,
    finalRss: final.rss,
    peakRss: process.resourceUsage().maxRSS * 1024,
    // Where the resident memory is, for the notes: V8's heap (reserved, used) and memory outside it.
    idleHeap: { total: idle.heapTotal, used: idle.heapUsed, external: idle.external },
    warmHeap,
    finalHeap: { total: final.heapTotal, used: final.heapUsed, external: final.external },
    failures,
    firstFailure,
  }) + '\n',
);
process.exit(0);
