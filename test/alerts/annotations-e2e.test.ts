// The figures an alert's page shows are the model's, not a re-derivation in PromQL. The
// reference scenario with the other application declaring a pool of 20 (--other.budget
// analytics=20): the model leaves 57 - (20 + the monitor's 1) = 36 slots for Coder, and a
// steady budget of 63 is 27 too many. A real daemon, Prometheus and Alertmanager load the
// generated rules; the page must say 36 and -27, as the daemon's own /api/v1/capacity does.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startReferenceCluster, type ReferenceCluster } from '../../dev/reference-scenario.js';
import type { CapacityDocument } from '../../src/views/capacity-document.js';
import { startTestDaemon, type RunningDaemon } from '../support/daemon.js';
import { findAlert, startPrometheusStack, type PrometheusStack } from '../support/prometheus-stack.js';

const ruleFile = fileURLToPath(new URL('../../alerts/coder-pg-capacity.rules.yml', import.meta.url));

let cluster: ReferenceCluster | undefined;
let daemon: RunningDaemon | undefined;
let prometheus: PrometheusStack | undefined;

afterAll(async () => {
  await prometheus?.stop();
  await daemon?.stop();
  await cluster?.stop();
}, 60_000);

beforeAll(async () => {
  cluster = await startReferenceCluster();
  daemon = await startTestDaemon([...cluster.daemonArgs, '--other.budget', 'analytics=20']);
  const running = daemon;
  await vi.waitFor(async () => expect(await running.sample('coder_pg_capacity_replicas', { count: 'observed' })).toBe(3), { timeout: 10_000 });
  prometheus = await startPrometheusStack({ scrapeTargets: [new URL(daemon.url).host], ruleFile, forOverride: '3s' });
}, 120_000);

async function modelFigures(): Promise<NonNullable<CapacityDocument['capacity']>> {
  const response = await fetch(new URL('/api/v1/capacity', daemon!.url));
  const document = (await response.json()) as CapacityDocument;
  expect(document.capacity).not.toBeNull();
  return document.capacity!;
}

describe("an alert's page shows the model's figures", () => {
  it('with --other.budget analytics=20, CoderPostgresBudgetOvercommitted says 36 are left for Coder, as the model does', async () => {
    const capacity = await modelFigures();
    expect(capacity.available).toBe(57);
    expect(capacity.otherBudgeted).toBe(21);
    expect(capacity.coderAvailable).toBe(36);
    expect(capacity.budget?.steady).toBe(63);
    expect(capacity.budgetHeadroom?.steady).toBe(-27);

    const firing = await prometheus!.webhook.waitFor((payload) => findAlert(payload, 'CoderPostgresBudgetOvercommitted', 'firing') !== undefined, 40_000);
    const description = findAlert(firing, 'CoderPostgresBudgetOvercommitted', 'firing')!.annotations.description ?? '';
    expect(description).toContain(`Steady-state budget ${capacity.budget!.steady} connections > ${capacity.coderAvailable} left for Coder`);
    expect(description).toContain(`budget headroom ${capacity.budgetHeadroom!.steady} connections`);
    // The figure the hand-written rule used to derive (available - live others = 49) is gone.
    expect(description).not.toContain('49');
  }, 60_000);
});
