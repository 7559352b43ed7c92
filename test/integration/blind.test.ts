// Never green when blind: each way the monitor can fail to see, run for real (a real
// PostgreSQL, three stand-in replicas holding real connections, one daemon per case), gives
// absent budget figures, coder_pg_capacity_blind{reason} 1, "Cannot judge" on the status
// page, exit 2 from `check`, and CoderPostgresCapacityBlind firing in a real Prometheus.

import dns from 'node:dns';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BlindReason } from '../../src/model/blind.js';
import { startStandInReplica, type StandInReplica } from '../../dev/stand-in-replica.js';
import { runCheckCli } from '../support/check-cli.js';
import { startTestDaemon, type RunningDaemon } from '../support/daemon.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { startPrometheusStack, type PrometheusStack } from '../support/prometheus-stack.js';
import { coderUrl, createCoderCluster, holdConnections, monitorUrl } from '../support/scenario.js';

const prefix = 'coder_pg_capacity_';
const ruleFile = fileURLToPath(new URL('../../alerts/coder-pg-capacity.rules.yml', import.meta.url));

interface BlindCase {
  name: string;
  reasons: BlindReason[];
  /** Daemon and check flags besides --postgres.url. */
  args: () => string[];
  /** Metrics that must be absent, and ones that must still be there. */
  absent: string[];
  present: string[];
  /** The status page's and check's headline. */
  headline: string;
  /** false: check resolves names with the system's DNS, which a test must not depend on. */
  viaCheck: boolean;
}

let server: TestPostgres | undefined;
let dnsServer: TestDnsServer | undefined;
let resolver: dns.promises.Resolver;
let replicas: StandInReplica[] = [];
let stack: PrometheusStack | undefined;
const daemons = new Map<string, RunningDaemon>();

const targets = () => ['--coder.targets', replicas.map((replica) => replica.url).join(',')];
const budgetFigures = [
  'coder_budget_connections{phase="steady"}',
  'budget_headroom_connections{phase="steady"}',
  'recommended_pool_max_connections',
  'max_safe_replicas',
  'slots_connections{part="coder_unopened"}',
];
const attributionFigures = ['coder_connections', 'other_connections', 'budget_headroom_connections{phase="steady"}', 'unaccounted_coder_connections'];

const cases: BlindCase[] = [
  {
    name: 'no --coder.targets, --coder.replicas or --coder.replicas-from-db',
    reasons: ['no_replicas_configured'],
    args: () => ['--coder.role', 'coder'],
    absent: budgetFigures,
    present: ['coder_connections', 'headroom_connections'],
    headline: 'Cannot judge: no Coder replica configured',
    viaCheck: true,
  },
  {
    name: 'a dns+ target whose name has no records',
    reasons: ['no_replicas_found'],
    args: () => ['--coder.role', 'coder', '--coder.targets', 'dns+http://coder-metrics.coder.test:2112/metrics'],
    absent: budgetFigures,
    present: ['coder_connections', 'headroom_connections'],
    headline: 'Cannot judge: no Coder replica found',
    viaCheck: false,
  },
  {
    name: '--coder.replicas-from-db without the GRANT',
    reasons: ['replicas_table_unreadable', 'no_replicas_found'],
    args: () => ['--coder.role', 'coder', '--coder.replicas-from-db'],
    absent: budgetFigures,
    present: ['coder_connections', 'headroom_connections', 'available_connections'],
    headline: "Cannot judge: Coder's replicas table cannot be read",
    viaCheck: true,
  },
  {
    name: 'a mistyped --coder.role',
    reasons: ['coder_role_missing'],
    args: () => ['--coder.role', 'codr', ...targets()],
    absent: attributionFigures,
    present: ['coder_budget_connections{phase="steady"}', 'headroom_connections'],
    headline: 'Cannot judge: Coder\'s role "codr" does not exist',
    viaCheck: true,
  },
  {
    name: 'a mistyped --coder.database',
    reasons: ['coder_database_missing'],
    args: () => ['--coder.role', 'coder', '--coder.database', 'codr', ...targets()],
    absent: attributionFigures,
    present: ['coder_budget_connections{phase="steady"}', 'headroom_connections'],
    headline: 'Cannot judge: Coder\'s database "codr" does not exist',
    viaCheck: true,
  },
  {
    name: 'an --coder.application-name that Coder does not set',
    reasons: ['coder_connections_mismatch'],
    args: () => ['--coder.role', 'coder', '--coder.application-name', 'coderd', ...targets()],
    absent: [],
    present: ['coder_budget_connections{phase="steady"}', 'unaccounted_coder_connections'],
    headline: 'Cannot judge: the replicas hold more connections than PostgreSQL shows for Coder',
    viaCheck: true,
  },
];

beforeAll(async () => {
  server = await startPostgres({ maxConnections: 80 });
  await createCoderCluster(server);
  // Coder's replicas table, which the monitor was not granted.
  const coder = await holdConnections(coderUrl(server), 1, '');
  await coder.clients[0]!.query(`CREATE TABLE replicas (id int, "primary" boolean NOT NULL, updated_at timestamptz NOT NULL)`);
  await coder.close();
  dnsServer = await startDnsServer();
  dnsServer.set('coder-metrics.coder.test', {});
  resolver = new dns.promises.Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([dnsServer.address]);
  replicas = await Promise.all([0, 1, 2].map(() => startStandInReplica({ connectionString: coderUrl(server!), poolMax: 20, open: 5, inUse: 2, applicationName: '' })));
  for (const blind of cases) {
    daemons.set(blind.name, await startTestDaemon(['--postgres.url', monitorUrl(server), ...blind.args()], {}, { resolver }));
  }
  stack = await startPrometheusStack({ scrapeTargets: [...daemons.values()].map((daemon) => new URL(daemon.url).host), ruleFile, forOverride: '2s' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([...daemons.values()].map((daemon) => daemon.stop()));
  await Promise.all(replicas.map((replica) => replica.close()));
  await dnsServer?.close();
  await server?.destroy();
}, 60_000);

describe.each(cases)('blind: $name', (blind) => {
  const daemon = () => daemons.get(blind.name)!;

  it(`exports blind{reason} 1 for ${blind.reasons.join(' and ')} and leaves the figures it breaks absent, never 0`, async () => {
    await vi.waitFor(async () => {
      const samples = await daemon().scrape();
      for (const reason of blind.reasons) expect(samples.get(`${prefix}blind{reason="${reason}"}`), reason).toBe(1);
    }, { timeout: 10_000, interval: 200 });
    const samples = await daemon().scrape();
    const reported = [...samples.keys()].filter((key) => key.startsWith(`${prefix}blind{`));
    expect(reported).toHaveLength(blind.reasons.length);
    expect(samples.get(`${prefix}postgres_up`)).toBe(1);
    expect(samples.get(`${prefix}postgres_full`)).toBe(0);
    for (const figure of blind.absent) expect(samples.get(prefix + figure), figure).toBeUndefined();
    for (const figure of blind.present) expect(samples.get(prefix + figure), figure).toBeDefined();
  });

  it('says "Cannot judge" on the status page', async () => {
    const page = await (await fetch(`${daemon().url}/`)).text();
    expect(page).toContain(`<h1>${blind.headline.replaceAll("'", '&#39;').replaceAll('"', '&quot;')}</h1>`);
  });

  it.skipIf(!blind.viaCheck)(`makes check exit 2 with "Cannot judge"${blind.viaCheck ? '' : ' (skipped: check would resolve the name with the system DNS; the daemon case covers it)'}`, async () => {
    const run = await runCheckCli(['--postgres.url', monitorUrl(server!), ...blind.args()]);
    expect(run.stdout.split('\n')[0]).toBe(blind.headline);
    expect(run.status).toBe(2);
  });
});

describe('CoderPostgresCapacityBlind in a real Prometheus', () => {
  it('fires once per blind reason', async () => {
    const expected = [...new Set(cases.flatMap((blind) => blind.reasons))].sort();
    await vi.waitFor(
      async () => {
        const firing = await stack!.query('ALERTS{alertname="CoderPostgresCapacityBlind", alertstate="firing"}');
        const reasons = (firing.result as { metric: Record<string, string> }[]).map((sample) => sample.metric.reason).sort();
        expect(reasons).toEqual(expected);
      },
      { timeout: 40_000, interval: 1000 },
    );
  }, 60_000);
});
