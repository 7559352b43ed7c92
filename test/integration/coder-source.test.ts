// Scraping a real stand-in coderd (real PostgreSQL connections behind it). HTTP failure
// cases that need a scripted server live in coder-source-failures.test.ts, with nock:
// nock patches node:http for the whole file, and real streams are better without it.

import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandInReplica, type StandInReplica } from '../../dev/stand-in-replica.js';
import { scrapeReplica } from '../../src/sources/coder.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { coderUrl, createCoderCluster } from '../support/scenario.js';

let server: TestPostgres;
let replica: StandInReplica;

beforeAll(async () => {
  server = await startPostgres({ maxConnections: 30 });
  await createCoderCluster(server);
  replica = await startStandInReplica({ connectionString: coderUrl(server), poolMax: 15, open: 4, inUse: 3, fillerSeries: 20_000 });
});

afterAll(async () => {
  await replica?.close();
  await server?.destroy();
});

/** A port that was free a moment ago and has nothing listening now. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('scraping a Coder replica', () => {
  it("reads the pool figures past 20,000 per-workspace series", async () => {
    const outcome = await scrapeReplica(replica.url, 2000);
    expect(outcome).toMatchObject({
      ok: true,
      metrics: { maxOpen: 15, open: 4, inUse: 3, idle: 1, waitCount: 0, waitDurationSeconds: 0, pubsubConnected: 1 },
    });
    // The stand-in honours name[] as client_golang 1.24+ does: the 20,000 series stay home.
    expect(outcome.ok && outcome.bytes).toBeLessThan(2048);
  });

  it('bounds a replica that never answers by the timeout', async () => {
    replica.setHang(true);
    try {
      const started = performance.now();
      const outcome = await scrapeReplica(replica.url, 300);
      expect(performance.now() - started).toBeLessThan(1500);
      expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining(`cannot scrape ${replica.url}: connected, but no answer within 300 ms (--poll.timeout)`) });
    } finally {
      replica.setHang(false);
    }
  });

  it('says connection refused when nothing listens', async () => {
    const outcome = await scrapeReplica(`http://127.0.0.1:${await closedPort()}/metrics`, 1000);
    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining('ECONNREFUSED') });
  });
});
