// Every Coder scrape asks for its families by name[]: a coderd on client_golang 1.24 or
// later answers with those alone (about 1 kB), an older one ignores the parameter and
// sends everything, which the streaming extractor still reads. Both give the same pool
// figures; replica_scrape_bytes tells the operator which coderd is which.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandInReplica, type StandInReplica } from '../../dev/stand-in-replica.js';
import { CoderSource, filteredScrapeUrl } from '../../src/sources/coder.js';
import { POOL_FAMILY_NAMES } from '../../src/sources/pool-metrics-parser.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { coderUrl, createCoderCluster } from '../support/scenario.js';

let server: TestPostgres | undefined;
let current: StandInReplica | undefined;
let old: StandInReplica | undefined;

beforeAll(async () => {
  server = await startPostgres({ maxConnections: 40 });
  await createCoderCluster(server);
  const common = { connectionString: coderUrl(server), poolMax: 10, open: 3, inUse: 1, applicationName: '', fillerSeries: 20_000 };
  current = await startStandInReplica(common);
  old = await startStandInReplica({ ...common, honoursNameFilter: false });
});

afterAll(async () => {
  await Promise.all([current?.close(), old?.close()]);
  await server?.destroy();
});

describe('filtered scrapes', () => {
  it('ask for exactly the families the extractor reads, by name[]', () => {
    const url = new URL(filteredScrapeUrl('http://10.0.0.7:2112/metrics'));
    expect(url.searchParams.getAll('name[]')).toEqual([...POOL_FAMILY_NAMES]);
    expect(POOL_FAMILY_NAMES).toEqual(expect.arrayContaining(['go_sql_max_open_connections', 'go_sql_open_connections', 'coder_pubsub_connected']));
  });

  it('read about 1 kB from a coderd that honours name[], and MBs from one that does not, with the same figures', async () => {
    const source = new CoderSource({ targets: [current!, old!].map((replica) => ({ kind: 'static' as const, url: replica.url })), timeoutMs: 5000 });
    const { replicas } = await source.poll();
    const byUrl = new Map(replicas.map((replica) => [replica.replica, replica]));
    const filtered = byUrl.get(current!.url)!;
    const everything = byUrl.get(old!.url)!;
    expect(filtered.scrapeBytes).toBeLessThan(2048);
    expect(everything.scrapeBytes).toBeGreaterThan(1_000_000);
    for (const replica of [filtered, everything]) {
      expect(replica).toMatchObject({ up: true, poolMax: 10, open: 3, inUse: 1, pubsubConnected: 1 });
    }
  });
});
