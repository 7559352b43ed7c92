// A fleet on one Prometheus (issue 20), with every part real: two Coder deployments,
// "clusters" a and b, each the reference scenario (a PostgreSQL with max_connections 60,
// three stand-in Coder replicas at pool max 20, another application holding 7
// connections). Cluster a runs a pair of monitors; cluster b one, told that the other
// application may open 17 (--other.budget analytics=17). Each cluster's Prometheus scrapes
// its own monitors under the same job name, stamps its cluster external label, loads no
// rules and remote-writes everything to a central Prometheus, which evaluates the shipped
// rule file (only `for:` shortened) and notifies a real Alertmanager.
//
// Done when: Alertmanager delivers exactly one CoderPostgresBudgetOvercommitted per
// cluster, each with its own cluster's figures (a: 48 left for Coder, headroom -15; b: 39,
// -24), no MonitorDown fires, and stopping one monitor of a's pair changes neither.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort } from '../../dev/free-port.js';
import { startReferenceCluster, type ReferenceCluster } from '../../dev/reference-scenario.js';
import type { CapacityDocument } from '../../src/views/capacity-document.js';
import { startTestDaemon, type RunningDaemon } from '../support/daemon.js';
import {
  startPrometheus,
  startPrometheusStack,
  type PrometheusServer,
  type PrometheusStack,
  type WebhookAlert,
} from '../support/prometheus-stack.js';

const ruleFile = fileURLToPath(new URL('../../alerts/coder-pg-capacity.rules.yml', import.meta.url));
const OVERCOMMITTED = 'CoderPostgresBudgetOvercommitted';
const MONITOR_DOWN = 'CoderPostgresCapacityMonitorDown';
const JOB = 'coder-pg-capacity';

// Everything started is stopped in afterAll, last started first, also after a half-way failure.
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  const errors: unknown[] = [];
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => errors.push(error));
  if (errors.length > 0) throw errors[0];
}, 60_000);

/** Starts all of `starts` at once; each one started is cleaned up, even when another fails. */
async function startAll<T>(starts: Promise<T>[], stop: (started: T) => Promise<unknown>): Promise<T[]> {
  const settled = await Promise.allSettled(starts);
  for (const outcome of settled) if (outcome.status === 'fulfilled') cleanups.push(() => stop(outcome.value));
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}

let clusterA: ReferenceCluster;
let clusterB: ReferenceCluster;
let pairA: RunningDaemon[];
let monitorB: RunningDaemon;
let central: PrometheusStack;
const stopped = new Set<RunningDaemon>();

const host = (daemon: RunningDaemon) => new URL(daemon.url).host;

/** The figures a monitor's /api/v1/capacity reports, as the alerts read them. */
async function figures(daemon: RunningDaemon) {
  const { capacity } = (await (await fetch(`${daemon.url}/api/v1/capacity`)).json()) as CapacityDocument;
  return {
    replicas: capacity?.replicas.observed,
    otherHeld: capacity?.other,
    otherBudgeted: capacity?.otherBudgeted,
    leftForCoder: capacity?.coderAvailable,
    budget: capacity?.budget?.steady,
    headroom: capacity?.budgetHeadroom?.steady,
    // The same figure as exported, which the alert's description looks up.
    leftForCoderMetric: await daemon.sample('coder_pg_capacity_coder_available_connections'),
  };
}

/** `{ cluster: value }` of an instant vector aggregated by cluster. */
async function byCluster(promql: string): Promise<Record<string, string>> {
  const { result } = await central.query(promql);
  return Object.fromEntries((result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => [s.metric.cluster ?? '', s.value[1]]));
}

/** Every alert of this name Alertmanager delivered firing, one per alert (its fingerprint), the latest payload's copy. */
function deliveredFiring(alertname: string): WebhookAlert[] {
  const latest = new Map<string, WebhookAlert>();
  for (const payload of central.webhook.alerts) {
    for (const alert of payload.alerts) if (alert.labels.alertname === alertname && alert.status === 'firing') latest.set(alert.fingerprint, alert);
  }
  return [...latest.values()];
}

const deliveredFor = (cluster: string) => deliveredFiring(OVERCOMMITTED).filter((alert) => alert.labels.cluster === cluster);

beforeAll(async () => {
  const clusters = await startAll([startReferenceCluster(), startReferenceCluster()], (cluster) => cluster.stop());
  clusterA = clusters[0]!;
  clusterB = clusters[1]!;

  // a: a pair of monitors with the same flags (an HA Deployment of two replicas).
  // b: one monitor, told the other application's pool may grow to 17.
  const stopDaemon = (daemon: RunningDaemon) => (stopped.has(daemon) ? Promise.resolve() : daemon.stop());
  const daemons = await startAll(
    [startTestDaemon(clusterA.daemonArgs), startTestDaemon(clusterA.daemonArgs), startTestDaemon([...clusterB.daemonArgs, '--other.budget', 'analytics=17'])],
    stopDaemon,
  );
  pairA = daemons.slice(0, 2);
  monitorB = daemons[2]!;

  // The figures, before any alert is judged. Each monitor holds one connection:
  // a: other 7 + 2 monitors = 9, 57 - 9 = 48 left for Coder, 48 - 63 = -15.
  // b: other committed 17 + 1 monitor = 18, 57 - 18 = 39 left for Coder, 39 - 63 = -24.
  await vi.waitFor(
    async () => {
      for (const daemon of pairA) {
        expect(await figures(daemon)).toEqual({ replicas: 3, otherHeld: 9, otherBudgeted: 9, leftForCoder: 48, budget: 63, headroom: -15, leftForCoderMetric: 48 });
      }
      expect(await figures(monitorB)).toEqual({ replicas: 3, otherHeld: 8, otherBudgeted: 18, leftForCoder: 39, budget: 63, headroom: -24, leftForCoderMetric: 39 });
    },
    { timeout: 20_000, interval: 250 },
  );

  // The central Prometheus's port is chosen first, so that the clusters' Prometheus servers
  // write to it from their first scrape and the central starts with data: its
  // absent(build_info) never stays true for a whole (shortened) `for:`.
  const centralPort = await freeLoopbackPort();
  const remoteWriteTo = `http://127.0.0.1:${centralPort}/api/v1/write`;
  await startAll(
    [
      startPrometheus({ scrapeTargets: pairA.map(host), jobName: JOB, externalLabels: { cluster: 'a' }, remoteWriteTo }),
      startPrometheus({ scrapeTargets: [host(monitorB)], jobName: JOB, externalLabels: { cluster: 'b' }, remoteWriteTo }),
    ],
    (prometheus: PrometheusServer) => prometheus.stop(),
  );
  // No scrape targets of its own: it only receives, evaluates the rules and notifies.
  // MonitorDown keeps a minute: until the clusters' first remote writes land (seconds, more
  // on a busy machine) the central has no build_info at all, which is that alert's first
  // arm; in production its `for: 5m` rides out a ruler's start the same way.
  central = await startPrometheusStack({ ruleFile, forOverride: '3s', forByAlert: { [MONITOR_DOWN]: '1m' }, enableRemoteWriteReceiver: true, port: centralPort });
  cleanups.push(() => central.stop());
}, 120_000);

describe('a fleet on one Prometheus: two clusters remote-writing to a central ruler', () => {
  it('delivers one CoderPostgresBudgetOvercommitted per cluster, each with its own figures, and no MonitorDown', async () => {
    const firing = (cluster: string) =>
      central.webhook.waitFor((payload) => payload.alerts.some((alert) => alert.labels.alertname === OVERCOMMITTED && alert.status === 'firing' && alert.labels.cluster === cluster), 45_000);
    await Promise.all([firing('a'), firing('b')]);

    // Every label of the deployment kept (cluster, job), the monitors' instance aggregated away.
    expect(deliveredFiring(OVERCOMMITTED).map((alert) => alert.labels).sort((x, y) => x.cluster!.localeCompare(y.cluster!))).toEqual([
      { alertname: OVERCOMMITTED, severity: 'critical', cluster: 'a', job: JOB, phase: 'steady' },
      { alertname: OVERCOMMITTED, severity: 'critical', cluster: 'b', job: JOB, phase: 'steady' },
    ]);
    const [a] = deliveredFor('a');
    const [b] = deliveredFor('b');
    expect(a!.annotations.description).toContain('Steady-state budget 63 connections > 48 left for Coder');
    expect(a!.annotations.description).toContain('budget headroom -15 connections');
    expect(a!.annotations.description).not.toContain('39');
    expect(b!.annotations.description).toContain('Steady-state budget 63 connections > 39 left for Coder');
    expect(b!.annotations.description).toContain('budget headroom -24 connections');
    expect(b!.annotations.description).not.toContain('48');

    expect(deliveredFiring(MONITOR_DOWN)).toEqual([]);
    expect((await central.alerts()).filter((alert) => alert.labels.alertname === MONITOR_DOWN)).toEqual([]);
  }, 60_000);

  it('stopping one monitor of the pair changes nothing: still one alert per cluster, no MonitorDown', async () => {
    const [staying, leaving] = pairA as [RunningDaemon, RunningDaemon];
    stopped.add(leaving);
    await leaving.stop();

    // Cluster a's Prometheus fails the scrape, marks the leaving monitor's series stale and
    // remote-writes the markers: the central sees one monitor in a, and its up 0.
    await vi.waitFor(
      async () => {
        expect(await byCluster('count by (cluster) (coder_pg_capacity_build_info)')).toEqual({ a: '1', b: '1' });
        expect(await byCluster(`up{instance="${host(leaving)}"}`)).toEqual({ a: '0' });
      },
      { timeout: 15_000, interval: 250 },
    );

    // The staying monitor no longer sees the leaving one's connection: 49 left for Coder, -14.
    await vi.waitFor(async () => expect(await figures(staying)).toMatchObject({ otherHeld: 8, leftForCoder: 49, headroom: -14 }), { timeout: 10_000, interval: 250 });

    // Ten evaluations: MonitorDown never even goes pending (its expression is never true
    // for either cluster), and each cluster keeps exactly one overcommit alert, firing throughout.
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      const alerts = await central.alerts();
      expect(alerts.filter((alert) => alert.labels.alertname === MONITOR_DOWN)).toEqual([]);
      const overcommitted = alerts.filter((alert) => alert.labels.alertname === OVERCOMMITTED);
      expect(overcommitted.map((alert) => `${alert.labels.cluster} ${alert.state}`).sort()).toEqual(['a firing', 'b firing']);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    expect(await byCluster(`count by (cluster) (ALERTS{alertname="${OVERCOMMITTED}", alertstate="firing"})`)).toEqual({ a: '1', b: '1' });

    // Its figures follow the monitor still up; b's are untouched.
    const alerts = await central.alerts();
    const descriptionOf = (cluster: string) => alerts.find((alert) => alert.labels.alertname === OVERCOMMITTED && alert.labels.cluster === cluster)!.annotations.description;
    expect(descriptionOf('a')).toContain('> 49 left for Coder');
    expect(descriptionOf('a')).toContain('budget headroom -14 connections');
    expect(descriptionOf('b')).toContain('> 39 left for Coder');
    expect(descriptionOf('b')).toContain('budget headroom -24 connections');

    // Alertmanager delivered nothing new: the same two alerts, never resolved, no MonitorDown.
    // (Other alerts may come and go: with `for:` shortened to 3 s, CoderPostgresLatencyHigh
    // fires on a busy test machine's ~17 ms round trips, once per cluster too.)
    expect(deliveredFiring(OVERCOMMITTED).map((alert) => alert.labels.cluster).sort()).toEqual(['a', 'b']);
    const resolved = central.webhook.alerts.flatMap((payload) => payload.alerts).filter((alert) => alert.status === 'resolved');
    expect(resolved.filter((alert) => alert.labels.alertname === OVERCOMMITTED)).toEqual([]);
    expect(deliveredFiring(MONITOR_DOWN)).toEqual([]);
  }, 60_000);
});
