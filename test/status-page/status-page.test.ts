// The status page as an operator sees it: headless Chromium with JavaScript off, against
// the daemon on the reference scenario (real PostgreSQL, stand-in replicas holding real
// connections). Chromium comes from Debian (scripts/ensure-debian-packages.sh chromium).

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StandInReplica } from '../../dev/stand-in-replica.js';
import type { RunningDaemon } from '../support/daemon.js';
import type { TestPostgres } from '../support/postgres.js';
import { startReferenceScenario, type ReferenceScenario } from '../support/reference-scenario.js';
import { MONITOR_PASSWORD } from '../support/scenario.js';

const ARTIFACTS = 'test-artifacts';
const CHROMIUM = '/usr/bin/chromium';

let scenario: ReferenceScenario | undefined;
let server: TestPostgres;
let replicas: StandInReplica[] = [];
let daemon: RunningDaemon | undefined;
let browser: Browser | undefined;

function ensureChromium(): void {
  try {
    execFileSync('bash', ['scripts/ensure-debian-packages.sh', 'chromium'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
    throw new Error(`the status page tests need the Debian package "chromium" (${CHROMIUM}), which could not be installed:\n${stderr}`);
  }
}

/** A page with JavaScript off that records every URL it requests. */
async function openStatusPage(): Promise<{ page: Page; requested: string[]; close(): Promise<void> }> {
  const context = await browser!.newContext({ javaScriptEnabled: false, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  const response = await page.goto(`${daemon!.url}/`);
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
  return { page, requested, close: () => context.close() };
}

const figure = (page: Page, id: string) => page.locator(`[data-figure="${id}"] td.num`).innerText();

function expectSameOrigin(requested: string[]): void {
  const origin = new URL(daemon!.url).origin;
  expect(requested.length).toBeGreaterThan(0);
  const elsewhere = requested.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin);
  expect(elsewhere).toEqual([]);
}

beforeAll(async () => {
  ensureChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  scenario = await startReferenceScenario();
  ({ server, replicas, daemon } = scenario);
  await vi.waitFor(
    () => {
      const latest = daemon!.poller.latest;
      expect(latest?.capacity?.coder).toBe(18);
      expect(latest?.snapshot.replicas.filter((replica) => replica.up)).toHaveLength(3);
    },
    { timeout: 15_000 },
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await scenario?.stop();
});

describe('the status page on the reference scenario', () => {
  it('says "Overcommitted" and shows available 57, coder 18, other 8, headroom 31, budgets 63 / 84, headroom -14 / -35, pool max 8, 1 replica', async () => {
    const { page, requested, close } = await openStatusPage();
    try {
      expect(await page.locator('#verdict h1').innerText()).toBe('Overcommitted');
      const shown = {
        available: await figure(page, 'available'),
        coder: await figure(page, 'coder'),
        other: await figure(page, 'other'),
        headroom: await figure(page, 'headroom'),
        steady: await figure(page, 'budget-steady'),
        rollout: await figure(page, 'budget-rollout'),
        headroomSteady: await figure(page, 'budget-headroom-steady'),
        headroomRollout: await figure(page, 'budget-headroom-rollout'),
        poolMax: await figure(page, 'recommended-pool-max'),
        replicas: await figure(page, 'max-safe-replicas'),
      };
      expect(shown).toEqual({
        available: '57',
        coder: '18',
        other: '8',
        headroom: '31',
        steady: '63',
        rollout: '84',
        headroomSteady: '-14',
        headroomRollout: '-35',
        poolMax: '8',
        replicas: '1',
      });
      expect(await page.locator('#verdict .fix').innerText()).toContain('lower the pool max to 8');
      // The bar: the steady budget runs 14 slots past max_connections, the rollout budget 35.
      expect(await page.locator('.slotbar .seg-over-steady').innerText()).toBe('+14');
      expect(await page.locator('ul.legend').innerText()).toMatch(/overcommit, rollout\s*35/);
      expect(await page.locator('.marker-steady').innerText()).toBe('steady budget 63');
      expect(await page.locator('.marker-rollout').innerText()).toBe('rollout budget 84');

      const rows = page.locator('#replicas tbody tr');
      expect(await rows.count()).toBe(3);
      for (const replica of replicas) {
        const cells = await page.locator(`#replicas tr[data-replica="${replica.url}"] td`).allInnerTexts();
        // Pool max, open, in use, idle, waits; then PostgreSQL's view from its own address:
        // 6 backends, 1 outside the pool (the LISTEN), 1 budgeted outside it.
        expect(cells).toEqual([replica.url, 'up', '20', '5', '2', '3', '0', '6', '1', '1']);
      }
      expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toBe('15');
      expect(await page.content()).not.toContain(MONITOR_PASSWORD);
      await page.screenshot({ path: `${ARTIFACTS}/status-page.png` });
      expectSameOrigin(requested);
    } finally {
      await close();
    }
  });
});

describe('the status page when PostgreSQL stops', () => {
  it('says "PostgreSQL unreachable" with the error and shows no figure', async () => {
    await server.stop();
    await vi.waitFor(() => expect(daemon!.poller.latest?.postgresError).toBeTruthy(), { timeout: 10_000 });
    const { page, requested, close } = await openStatusPage();
    try {
      expect(await page.locator('#verdict h1').innerText()).toBe('PostgreSQL unreachable');
      const finding = await page.locator('[data-finding="postgres-down"]').innerText();
      expect(finding).toContain(`PostgreSQL at 127.0.0.1:${server.port}`);
      expect(await page.locator('[data-figure]').count()).toBe(0);
      expect(await page.locator('#replicas tbody tr').count()).toBe(3);
      await page.screenshot({ path: `${ARTIFACTS}/status-page-postgres-down.png` });
      expectSameOrigin(requested);
    } finally {
      await close();
    }
  });
});
