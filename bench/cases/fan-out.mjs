// Case 4, fan-out: one poll of CoderSource (discovery, concurrent scrapes, streaming
// extraction) against many fake replicas, each answering a Coder-like body after a delay,
// against the same poll of a single replica. Filtering replicas answer name[] as
// client_golang 1.24+ does (about 1 kB each); the others send the whole exposition, as
// older coderd do, and there the poll is bound by the bytes on the wire: its figure is
// shown beside the transport floors, with no target of its own. Beside it, the transport floors: the same
// concurrent requests with every body read and thrown away, no extraction at all, once
// with fetch (what CoderSource used before the bench showed the cost) and once with node:http (what it uses now).
// run.mjs runs it in a child process with the daemon's V8 flags (measureFanOutAsDaemon).

import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { CoderSource, filteredScrapeUrl } from '../../dist/sources/coder.js';
import { parseTargets } from '../../dist/sources/targets.js';
import { startFakeCoderFleet } from '../fake-coder-fleet.mjs';
import { daemonNodeFlags } from '../node-flags.mjs';
import { drainGet } from '../node-http-get.mjs';
import { runNodeJson } from '../processes.mjs';
import { median, timeRuns } from '../stats.mjs';

/** Untimed rounds of each kind before the timed ones: the fleet and the poller both JIT-compile their paths. */
const WARM_UP_RUNS = 3;

const worker = fileURLToPath(new URL('../fan-out-worker.mjs', import.meta.url));

/** measureFanOut in a child process that runs with the daemon's V8 flags, as the daemon polls. */
export function measureFanOutAsDaemon(options) {
  return runNodeJson(worker, [JSON.stringify(options)], { timeoutMs: 300_000, nodeArgs: daemonNodeFlags() });
}

function coderSource(urls) {
  const { targets, problems } = parseTargets(urls.join(','));
  if (problems.length > 0) throw new Error(`fake replica URLs rejected: ${problems.join('; ')}`);
  return new CoderSource({ targets, timeoutMs: 60_000 });
}

async function pollAllUp(source, expected) {
  const poll = await source.poll();
  const up = poll.replicas.filter((replica) => replica.up && replica.open !== null).length;
  if (up !== expected) throw new Error(`fan-out poll saw ${up} of ${expected} replicas up: ${poll.errors[0]?.message ?? 'no error given'}`);
  return poll;
}

/** The same requests as CoderSource makes (same headers), bodies discarded. */
function drainWithFetch(urls) {
  return Promise.all(
    urls.map(async (url) => {
      const response = await fetch(filteredScrapeUrl(url), { headers: { 'accept-encoding': 'gzip' } });
      for await (const _chunk of response.body);
    }),
  );
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Infinity });
function drainWithNodeHttp(urls) {
  return Promise.all(urls.map((url) => drainGet(filteredScrapeUrl(url), { agent: keepAlive })));
}

/**
 * Rows comparing a poll of all replicas with a poll of one; with `floors`, also with the
 * transport floors (identity bodies only: node:http does not decompress).
 */
export async function measureFanOut({ replicas, bytes, delayMs, singleRuns, fleetRuns, gzip = false, floors = false, target = false, filtering = false }) {
  const fleet = await startFakeCoderFleet({ replicas, bytes, delayMs, gzip, filtering });
  try {
    const single = coderSource(fleet.urls.slice(0, 1));
    const all = coderSource(fleet.urls);
    await pollAllUp(single, 1);
    const first = await pollAllUp(all, replicas); // opens every connection
    const bytesPerReplica = median(first.replicas.map((replica) => replica.scrapeBytes ?? 0));
    // Untimed rounds first, so that neither side is timed while the other process's JIT warms.
    await timeRuns(WARM_UP_RUNS, () => pollAllUp(single, 1));
    await timeRuns(WARM_UP_RUNS, () => pollAllUp(all, replicas));
    const singleMs = median(await timeRuns(singleRuns, () => pollAllUp(single, 1)));
    const fleetMs = median(await timeRuns(fleetRuns, () => pollAllUp(all, replicas)));
    const size = bytes >= 1e6 ? `${Math.round(bytes / 1e6)} MB` : `${Math.round(bytes / 1e3)} kB`;
    const what = `${replicas} replicas × ${size}${gzip ? ' gzip' : ''}${filtering ? ', coderd honours name[]' : ', coderd ignores name[]'}, ${delayMs} ms away`;
    const rows = [
      { figure: `one Coder poll, ${what}`, unit: 'ms', ours: fleetMs, reference: singleMs, referenceName: 'ours, 1 replica', target: target ? { text: '≤ 3× one replica', met: fleetMs <= 3 * singleMs } : undefined },
      {
        figure: `  bytes read per replica (decompressed)`,
        unit: 'bytes',
        ours: bytesPerReplica,
        reference: bytes,
        referenceName: 'the whole exposition',
        target: target && filtering ? { text: '< 2 kB', met: bytesPerReplica < 2048 } : undefined,
      },
    ];
    if (floors) {
      await drainWithNodeHttp(fleet.urls); // opens node:http's connections
      await timeRuns(WARM_UP_RUNS, () => drainWithFetch(fleet.urls));
      await timeRuns(WARM_UP_RUNS, () => drainWithNodeHttp(fleet.urls));
      const fetchMs = median(await timeRuns(fleetRuns, () => drainWithFetch(fleet.urls)));
      const nodeHttpMs = median(await timeRuns(fleetRuns, () => drainWithNodeHttp(fleet.urls)));
      rows.push(
        { figure: `  the same requests, bodies discarded`, unit: 'ms', ours: fleetMs, reference: fetchMs, referenceName: 'fetch, no extraction' },
        { figure: `  the same requests, bodies discarded`, unit: 'ms', ours: fleetMs, reference: nodeHttpMs, referenceName: 'node:http, no extraction' },
      );
    }
    return { rows, singleMs, fleetMs };
  } finally {
    await fleet.stop();
  }
}
