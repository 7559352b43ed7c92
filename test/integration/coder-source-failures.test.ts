// The Coder source against scripted HTTP answers (nock): error statuses, names that do not
// resolve, bodies that are not Coder's or too large, a replica that fails after answering once, and DNS
// discovery of addresses a test cannot listen on. Real scrapes are in coder-source.test.ts.

import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { formatDbStats, formatPubsubConnected } from '../../dev/client-golang-format.js';
import { CoderSource, scrapeReplica } from '../../src/sources/coder.js';
import type { AddressResolver } from '../../src/sources/discovery.js';
import { parseTargets } from '../../src/sources/targets.js';

afterEach(() => {
  nock.cleanAll();
});

nock.disableNetConnect();

/** An error as Node's socket or resolver raises it (nock passes on Error instances only). */
function nodeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function targets(text: string) {
  return parseTargets(text).targets;
}

describe('scraping a Coder replica that fails over HTTP', () => {
  it('blames coderd\'s metrics handler for a 5xx, and points at its logs', async () => {
    nock('http://coder-a:2112').get('/metrics').query(true).reply(500, 'collector failed');
    expect(await scrapeReplica('http://coder-a:2112/metrics', 1000)).toEqual({
      ok: false,
      error: "cannot scrape http://coder-a:2112/metrics: coderd's metrics handler failed (HTTP 500): look at coderd's logs (and at any proxy in front of it) for the error",
    });
  });

  it('reads a 404 as a wrong path or not a coderd metrics endpoint', async () => {
    nock('http://coder-a:8080').get('/metrics').query(true).reply(404, 'not found');
    const outcome = await scrapeReplica('http://coder-a:8080/metrics', 1000);
    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining('cannot scrape http://coder-a:8080/metrics: not found (HTTP 404): wrong path, or not a coderd metrics endpoint') });
  });

  it('reads a 401 or 403 as authentication asked by something in front of coderd', async () => {
    nock('http://ingress:443').get('/metrics').query(true).reply(401).get('/metrics').query(true).reply(403);
    for (const status of [401, 403]) {
      const outcome = await scrapeReplica('http://ingress:443/metrics', 1000);
      expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining(`authentication required (HTTP ${status}): coderd's metrics endpoint has none, so something in front of it`) });
    }
  });

  it('refuses an endpoint that serves no go_sql metrics, naming an old coderd or another endpoint', async () => {
    nock('http://not-coder:9100').get('/metrics').query(true).reply(200, 'node_load1 0.5\n');
    expect(await scrapeReplica('http://not-coder:9100/metrics', 1000)).toEqual({
      ok: false,
      error:
        'http://not-coder:9100/metrics answered without go_sql_* metrics: coderd older than v2.23 (no go_sql_* metrics) or not a coderd metrics endpoint; point --coder.targets at CODER_PROMETHEUS_ADDRESS (port 2112)',
    });
  });

  it('says when the answer without go_sql metrics is an HTML page', async () => {
    nock('http://coder-web:3000').get('/metrics').query(true).reply(200, '\n<!DOCTYPE html><html><title>Coder</title></html>', { 'content-type': 'text/plain' });
    const outcome = await scrapeReplica('http://coder-web:3000/metrics', 1000);
    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining('answered without go_sql_* metrics, with an HTML page') });
  });

  it('says a refused pod address is refused, and that coderd must listen beyond 127.0.0.1', async () => {
    nock('http://10.0.0.7:2112').get('/metrics').query(true).replyWithError(nodeError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.7:2112'));
    expect(await scrapeReplica('http://10.0.0.7:2112/metrics', 1000)).toEqual({
      ok: false,
      error:
        'cannot scrape http://10.0.0.7:2112/metrics: connection refused (ECONNREFUSED): is coderd running with CODER_PROMETHEUS_ENABLE=true, and does CODER_PROMETHEUS_ADDRESS listen on 0.0.0.0:2112 (its default 127.0.0.1 is unreachable from other pods)?',
    });
  });

  it('says a host name that does not resolve does not, with where to fix it', async () => {
    nock('http://coder-gone:2112').get('/metrics').query(true).replyWithError(nodeError('ENOTFOUND', 'getaddrinfo ENOTFOUND coder-gone'));
    expect(await scrapeReplica('http://coder-gone:2112/metrics', 1000)).toEqual({
      ok: false,
      error: 'cannot scrape http://coder-gone:2112/metrics: the host name coder-gone does not resolve (ENOTFOUND): check it in --coder.targets (a Service in another namespace needs name.namespace.svc)',
    });
  });

  it('tells a DNS that did not answer from a name that does not exist', async () => {
    nock('http://coder-a:2112').get('/metrics').query(true).replyWithError(nodeError('EAI_AGAIN', 'getaddrinfo EAI_AGAIN coder-a'));
    const outcome = await scrapeReplica('http://coder-a:2112/metrics', 1000);
    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining('could not be resolved now (EAI_AGAIN, DNS did not answer): check the cluster DNS') });
  });

  it('stops reading a body over the size cap', async () => {
    const body = `${'coderd_agents_up{workspace="w"} 1\n'.repeat(40_000)}${formatDbStats({ maxOpen: 10, open: 1, inUse: 0 })}`;
    nock('http://coder-big:2112').get('/metrics').query(true).reply(200, body);
    const outcome = await scrapeReplica('http://coder-big:2112/metrics', 2000, 100_000);
    expect(outcome).toEqual({ ok: false, error: 'cannot scrape http://coder-big:2112/metrics: the exposition exceeds 100000 bytes; stopped reading' });
  });
});

describe('the Coder source', () => {
  it('keeps a failing replica in the poll at its last known pool max', async () => {
    const source = new CoderSource({ targets: targets('http://coder-a:2112/metrics'), timeoutMs: 1000 });
    nock('http://coder-a:2112')
      .get('/metrics').query(true)
      .reply(200, formatDbStats({ maxOpen: 25, open: 7, inUse: 2 }) + formatPubsubConnected(true))
      .get('/metrics').query(true)
      .reply(500, 'boom');
    const first = await source.poll();
    expect(first.replicas[0]).toMatchObject({ up: true, poolMax: 25, open: 7, pubsubConnected: 1 });
    const second = await source.poll();
    expect(second.replicas[0]).toMatchObject({ replica: 'http://coder-a:2112/metrics', up: false, poolMax: 25, open: null });
    expect(second.errors).toEqual([{ source: 'coder', target: 'http://coder-a:2112/metrics', message: expect.stringContaining('HTTP 500') }]);
  });

  it('scrapes every target even when one of them hangs', async () => {
    nock('http://coder-a:2112').get('/metrics').query(true).delay(5_000).reply(200, formatDbStats({ maxOpen: 10, open: 2, inUse: 1 }));
    nock('http://coder-b:2112').get('/metrics').query(true).reply(200, formatDbStats({ maxOpen: 10, open: 2, inUse: 1 }));
    const source = new CoderSource({ targets: targets('http://coder-a:2112/metrics,http://coder-b:2112/metrics'), timeoutMs: 400 });
    const started = performance.now();
    const poll = await source.poll();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(poll.replicas.map((r) => [r.replica, r.up])).toEqual([
      ['http://coder-a:2112/metrics', false],
      ['http://coder-b:2112/metrics', true],
    ]);
  });
});

describe('DNS discovery', () => {
  function resolver(records: Record<string, { v4?: string[]; v6?: string[] }>): AddressResolver {
    const answer = (family: 'v4' | 'v6') => async (hostname: string) => {
      const found = records[hostname]?.[family];
      if (found) return found;
      throw Object.assign(new Error(`queryA ENODATA ${hostname}`), { code: 'ENODATA' });
    };
    return { resolve4: answer('v4'), resolve6: answer('v6') };
  }

  it('turns each address of the name into a replica, IPv6 included', async () => {
    const records = { 'coder-metrics.coder.svc': { v4: ['10.0.0.7', '10.0.0.8'], v6: ['fd00::9'] } };
    for (const host of ['10.0.0.7', '10.0.0.8', '[fd00::9]']) {
      nock(`http://${host}:2112`).get('/metrics').query(true).reply(200, formatDbStats({ maxOpen: 10, open: 1, inUse: 0 }));
    }
    const source = new CoderSource({ targets: targets('dns+http://coder-metrics.coder.svc:2112/metrics'), timeoutMs: 1000, resolver: resolver(records) });
    const poll = await source.poll();
    expect(poll.replicas.map((r) => r.replica)).toEqual(['http://10.0.0.7:2112/metrics', 'http://10.0.0.8:2112/metrics', 'http://[fd00::9]:2112/metrics']);
    expect(poll.replicas.every((r) => r.up)).toBe(true);
  });

  it('reports a name without records as a discovery error, not a failed poll', async () => {
    const source = new CoderSource({ targets: targets('dns+http://nothing.coder.svc:2112/metrics'), timeoutMs: 1000, resolver: resolver({}) });
    const poll = await source.poll();
    expect(poll.replicas).toEqual([]);
    expect(poll.errors).toEqual([
      { source: 'discovery', target: 'dns+http://nothing.coder.svc:2112/metrics', message: 'nothing.coder.svc has no A or AAAA records: check the headless Service selects the coderd pods' },
    ]);
  });

  it('drops a replica that left the Service, with its last known pool max', async () => {
    const records: Record<string, { v4?: string[] }> = { svc: { v4: ['10.0.0.7', '10.0.0.8'] } };
    const source = new CoderSource({ targets: targets('dns+http://svc:2112/metrics'), timeoutMs: 1000, resolver: resolver(records) });
    nock('http://10.0.0.7:2112').get('/metrics').query(true).times(2).reply(200, formatDbStats({ maxOpen: 10, open: 1, inUse: 0 }));
    nock('http://10.0.0.8:2112').get('/metrics').query(true).reply(200, formatDbStats({ maxOpen: 30, open: 1, inUse: 0 }));
    expect((await source.poll()).replicas).toHaveLength(2);
    records.svc = { v4: ['10.0.0.7'] };
    const poll = await source.poll();
    expect(poll.replicas.map((r) => r.replica)).toEqual(['http://10.0.0.7:2112/metrics']);
  });
});
