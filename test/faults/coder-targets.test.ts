// Faults on the Coder side, each a real HTTP server or a real DNS exchange: a target that
// accepts and never answers, one that trickles bytes, one that sends 100 MB, a DNS name
// with no records, and a target that flips between up and down. Each is bounded by the poll
// timeout or the size cap, and the healthy target beside them is still polled.

import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/parse-config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import type { PollResult } from '../../src/model/poll-result.js';
import { DEFAULT_MAX_EXPOSITION_BYTES } from '../../src/sources/coder.js';
import { parseExposition, seriesKey } from '../support/daemon.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { reportFault, seconds } from '../support/faults.js';
import { captureLogs, type CapturedLogs } from '../support/logs.js';

/** Wall time of the scrapes in one poll (the report of source "coder"). */
const coderSeconds = (poll: PollResult) => poll.sources.find((report) => report.source === 'coder')?.seconds ?? Number.NaN;
import { flappingTarget, floodingTarget, hangingTarget, healthyTarget, tricklingTarget, type Target } from '../support/misbehaving-targets.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { createCoderCluster, monitorUrl } from '../support/scenario.js';

const prefix = 'coder_pg_capacity_';
let server: TestPostgres;
let dns: TestDnsServer;
let resolver: Resolver;
const targets: Target[] = [];
const daemons: Daemon[] = [];

beforeAll(async () => {
  [server, dns] = await Promise.all([startPostgres({ maxConnections: 30 }), startDnsServer()]);
  // A name that exists with no addresses (a headless Service without ready pods); gone.coder.test is NXDOMAIN.
  dns.set('empty.coder.test', {});
  resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([dns.address]);
  await createCoderCluster(server);
});

afterAll(async () => {
  await Promise.all(daemons.map((daemon) => daemon.stop()));
  await Promise.all(targets.map((target) => target.close()));
  await dns?.close();
  await server?.destroy();
});

async function start(args: string[]): Promise<{ daemon: Daemon; logs: CapturedLogs; polls: PollResult[]; sample(name: string, labels?: Record<string, string>): Promise<number | undefined> }> {
  const logs = captureLogs();
  const config = parseConfig(['--postgres.url', monitorUrl(server), '--coder.role', 'coder', '--web.listen-address', '127.0.0.1:0', '--poll.schedule', '* * * * * *', ...args], {});
  const daemon = await startDaemon(config, { logger: logs.logger, resolver });
  daemons.push(daemon);
  const polls: PollResult[] = [];
  daemon.poller.onPoll((result) => polls.push(result));
  const sample = async (name: string, labels: Record<string, string> = {}) => parseExposition(await (await fetch(`${daemon.url}/metrics`)).text()).get(seriesKey(prefix + name, labels));
  return { daemon, logs, polls, sample };
}

async function keep(target: Promise<Target>): Promise<Target> {
  const started = await target;
  targets.push(started);
  return started;
}

describe('fault: Coder targets that hang, trickle or flood', () => {
  it('bounds each by the poll timeout or the size cap, and still polls the healthy one in the same poll', async () => {
    const timeoutMs = 8000;
    const [healthy, hanging, trickling, flooding] = await Promise.all([keep(healthyTarget()), keep(hangingTarget()), keep(tricklingTarget()), keep(floodingTarget(100))]);
    const heapBefore = process.memoryUsage().heapUsed;
    // One poll (at start; the schedule's next is a year away) is all this case needs.
    const { daemon, polls, sample } = await start([
      '--poll.timeout',
      `${timeoutMs / 1000}s`,
      '--poll.schedule',
      '0 0 1 1 *',
      '--coder.targets',
      [healthy, hanging, trickling, flooding].map((t) => t.url).join(','),
    ]);

    await vi.waitFor(() => expect(polls.length).toBeGreaterThanOrEqual(1), { timeout: timeoutMs + 10_000, interval: 100 });
    const poll = polls[0] as PollResult;
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    const errorOf = (target: Target) => poll.coderErrors.find((e) => e.target === target.url)?.message ?? '';

    // The poll as a whole is bounded by the timeout (plus scheduling slack).
    expect(coderSeconds(poll)).toBeLessThan(timeoutMs / 1000 + 1.5);
    expect(poll.snapshot.replicas.find((r) => r.replica === healthy.url)).toMatchObject({ up: true, poolMax: 20, open: 5 });
    expect(errorOf(hanging)).toContain(`cannot scrape ${hanging.url}: connected, but no answer within ${timeoutMs} ms (--poll.timeout)`);
    expect(errorOf(trickling)).toContain(`cannot scrape ${trickling.url}: the exposition did not finish within ${timeoutMs} ms (--poll.timeout)`);
    // On a busy machine 64 MiB may take longer than the timeout: either bound is a bound.
    expect(errorOf(flooding)).toMatch(
      new RegExp(`^cannot scrape ${flooding.url}: (the exposition exceeds ${DEFAULT_MAX_EXPOSITION_BYTES} bytes; stopped reading|the exposition did not finish within ${timeoutMs} ms \\(--poll\\.timeout\\):)`),
    );
    const floodBound = errorOf(flooding).includes('exceeds') ? 'the 64 MiB size cap' : 'the timeout';

    // What the user sees: the healthy replica up with its figures, the others down, the budget whole.
    await vi.waitFor(async () => expect(await sample('replica_up', { replica: hanging.url })).toBe(0), { timeout: 5000 });
    expect(await sample('replica_up', { replica: healthy.url })).toBe(1);
    expect(await sample('replica_open_connections', { replica: healthy.url })).toBe(5);
    for (const bad of [hanging, trickling, flooding]) expect(await sample('replica_up', { replica: bad.url })).toBe(0);
    expect(await sample('replicas', { count: 'observed' })).toBe(4);
    expect(await sample('poll_errors_total', { source: 'coder' })).toBeGreaterThanOrEqual(3);

    await daemon.stop();
    reportFault('coder-target-hangs', `replica_up 0 after the ${seconds(timeoutMs)} timeout, the healthy target scraped in the same poll`);
    reportFault('coder-target-trickles', `replica_up 0 after the ${seconds(timeoutMs)} timeout (${trickling.bytesSent()} bytes trickled)`);
    reportFault(
      'coder-target-floods-100MB',
      `stopped by ${floodBound} after ${(flooding.bytesSent() / 1024 / 1024).toFixed(0)} MB sent; whole poll ${coderSeconds(poll).toFixed(2)} s; heap ${heapGrowthMb >= 0 ? '+' : ''}${heapGrowthMb.toFixed(1)} MB`,
    );
  });
});

describe('fault: discovery and flapping', () => {
  it('counts a DNS name with no records as a discovery error, and keeps a flapping replica in the budget at its pool max', async () => {
    const [healthy, flapping] = await Promise.all([keep(healthyTarget(3)), keep(flappingTarget())]);
    const port = new URL(healthy.url).port;
    const { polls, logs, sample } = await start([
      '--poll.timeout',
      '2s',
      '--coder.targets',
      [healthy.url, flapping.url, `dns+http://empty.coder.test:${port}/metrics`, `dns+http://gone.coder.test:${port}/metrics`].join(','),
    ]);

    await vi.waitFor(() => expect(polls.filter((p) => p.capacity !== null).length).toBeGreaterThanOrEqual(4), { timeout: 15_000, interval: 100 });
    const upSeries = polls.map((p) => (p.snapshot.replicas.find((r) => r.replica === flapping.url)?.up ? 1 : 0));
    // Up on odd requests, down on even ones: it alternates poll by poll.
    expect(upSeries.slice(0, 4)).toEqual([1, 0, 1, 0]);
    for (const p of polls.slice(0, 4)) {
      const replica = p.snapshot.replicas.find((r) => r.replica === flapping.url);
      // Down or up, it stays in the budget at its last known pool max.
      expect(replica?.poolMax).toBe(20);
      expect(p.capacity?.budget?.steady).toBe(polls[0]?.capacity?.budget?.steady);
      expect(p.snapshot.replicas.find((r) => r.replica === healthy.url)?.up).toBe(true);
    }
    const discovery = polls[0]?.coderErrors.filter((e) => e.source === 'discovery') ?? [];
    expect(discovery.map((e) => e.message).sort()).toEqual([
      'empty.coder.test has no A or AAAA records: check the headless Service selects the coderd pods',
      'gone.coder.test has no A or AAAA records: check the headless Service selects the coderd pods',
    ]);
    expect(dns.questions).toEqual(expect.arrayContaining(['A empty.coder.test', 'AAAA empty.coder.test', 'A gone.coder.test']));
    expect(await sample('poll_errors_total', { source: 'discovery' })).toBeGreaterThanOrEqual(2);
    expect(await sample('replicas', { count: 'observed' })).toBe(2);
    // Each flip is logged once per transition (down: the error, up: "answers again"), read
    // in the same tick as the polls so that no poll falls between the two.
    const flips = logs.entries().filter((e) => e.target === flapping.url);
    const states = polls.map((p) => p.snapshot.replicas.find((r) => r.replica === flapping.url)?.up === true);
    const expected = states.flatMap((up, i) => (up === (states[i - 1] ?? true) ? [] : [up ? 'Coder target answers again' : expect.stringContaining(`cannot scrape ${flapping.url}`)]));
    expect(flips.map((e) => e.msg)).toEqual(expected);

    reportFault('dns-no-records', `two names without records (NOERROR empty, NXDOMAIN) from a real DNS exchange: discovery errors counted, the other targets polled`);
    reportFault('coder-target-flaps', `replica_up ${upSeries.slice(0, 4).join(',')} over 4 polls, pool max 20 and budget ${polls[0]?.capacity?.budget?.steady} kept while down`);
  });
});
