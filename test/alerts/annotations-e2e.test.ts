// The figures an alert's page shows are the model's, not a re-derivation in PromQL. The
// reference scenario with the other application declaring a pool of 20 (--other.budget
// analytics=20): the model leaves 57 - (20 + the monitor's 1) = 36 slots for Coder, and a
// steady budget of 63 is 27 too many. A real daemon, Prometheus and Alertmanager load the
// generated rules; the page must say 36 and -27, as the daemon's own /api/v1/capacity does.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapacityDocument } from '../../src/views/capacity-document.js';
import { alertingScenario, type AlertingScenario } from '../support/alerting-scenario.js';
import { findAlert } from '../support/prometheus-stack.js';

const scenario = alertingScenario({ daemonArgs: ['--other.budget', 'analytics=20'] });
let running: AlertingScenario;

beforeAll(async () => {
  running = await scenario.start();
}, 120_000);
afterAll(() => scenario.stop(), 60_000);

async function modelFigures(): Promise<NonNullable<CapacityDocument['capacity']>> {
  const response = await fetch(new URL('/api/v1/capacity', running.daemon.url));
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

    const firing = await running.prometheus.webhook.waitFor((payload) => findAlert(payload, 'CoderPostgresBudgetOvercommitted', 'firing') !== undefined, 40_000);
    const description = findAlert(firing, 'CoderPostgresBudgetOvercommitted', 'firing')!.annotations.description ?? '';
    expect(description).toContain(`Steady-state budget ${capacity.budget!.steady} connections > ${capacity.coderAvailable} left for Coder`);
    expect(description).toContain(`budget headroom ${capacity.budgetHeadroom!.steady} connections`);
    // The figure the hand-written rule used to derive (available - live others = 49) is gone.
    expect(description).not.toContain('49');
  }, 60_000);
});
