// The status page's picture of the last day, as an operator sees it: headless Chromium with
// JavaScript off, against the daemon on the reference scenario (real PostgreSQL, stand-in
// replicas), its demand window cut to 10 minutes so that each 1 s poll is its own point.

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startReferenceScenario, type ReferenceScenario } from '../support/reference-scenario.js';

const ARTIFACTS = 'test-artifacts';
const CHROMIUM = '/usr/bin/chromium';

let scenario: ReferenceScenario | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  execFileSync('bash', ['scripts/ensure-debian-packages.sh', 'chromium'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  mkdirSync(ARTIFACTS, { recursive: true });
  scenario = await startReferenceScenario(['--capacity.demand-window', '10m']);
  const { daemon } = scenario;
  await vi.waitFor(() => expect(daemon.poller.history.points().filter((point) => point.coder === 18).length).toBeGreaterThanOrEqual(4), { timeout: 20_000 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
});

afterAll(async () => {
  await browser?.close();
  await scenario?.stop();
});

/** "x,y x,y ..." of every polyline of a series, joined. */
const pointsOf = (attributes: (string | null)[]) => attributes.flatMap((text) => (text ?? '').trim().split(/\s+/).map((pair) => pair.split(',').map(Number) as [number, number]));

describe('the picture of the last day on the status page', () => {
  it("draws one point per poll: Coder's 18 and all 26 used under the 57 available slots, margin 45, budgets reaching 71 and 92", async () => {
    const { daemon } = scenario!;
    const context = await browser!.newContext({ javaScriptEnabled: false, viewport: { width: 1200, height: 1400 } });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    try {
      const before = daemon.poller.history.length;
      await page.goto(`${daemon.url}/`);
      const after = daemon.poller.history.length;

      const svg = page.locator('#history svg.history');
      expect(await svg.isVisible()).toBe(true);
      const polls = Number(await svg.getAttribute('data-points'));
      expect(polls).toBeGreaterThanOrEqual(Math.max(4, before));
      expect(polls).toBeLessThanOrEqual(after);

      const [left, top, width, height] = (await svg.getAttribute('data-plot'))!.split(' ').map(Number) as [number, number, number, number];
      const yMax = Number(await svg.getAttribute('data-y-max'));
      const valueAt = (y: number) => Math.round(((top + height - y) / height) * yMax);
      const series = async (name: string) => pointsOf(await svg.locator(`polyline.series-${name}`).evaluateAll((lines) => lines.map((line) => line.getAttribute('points'))));

      const coder = await series('coder');
      const used = await series('used');
      // Every poll of the window is a point of the curve, left to right in time.
      expect(coder).toHaveLength(polls);
      expect(used).toHaveLength(polls);
      const xs = used.map(([x]) => x);
      expect(xs).toEqual([...xs].sort((a, b) => a - b));
      expect(xs[0]).toBeCloseTo(left, 0);
      expect(xs.at(-1)).toBeCloseTo(left + width, 0);
      expect(new Set(coder.map(([, y]) => valueAt(y)))).toEqual(new Set([18]));
      expect(new Set(used.map(([, y]) => valueAt(y)))).toEqual(new Set([26]));
      for (const [name, value] of [['available', 57], ['margin', 45], ['steadyReach', 71], ['rolloutReach', 92]] as const) {
        expect(new Set((await series(name)).map(([, y]) => valueAt(y))), name).toEqual(new Set([value]));
      }
      expect(await svg.locator('text', { hasText: 'used at the rollout budget 92' }).count()).toBe(1);
      // Every text as Chromium lays it out lies inside the picture: none is cut at its edge.
      const viewBoxWidth = Number((await svg.getAttribute('viewBox'))!.split(' ')[2]);
      const boxes = await svg.locator('text').evaluateAll((texts) =>
        texts.map((text) => {
          // getBBox() is SVG's (the project compiles without the DOM library).
          const box = (text as unknown as { getBBox(): { x: number; width: number } }).getBBox();
          return { text: text.textContent, left: box.x, right: box.x + box.width };
        }),
      );
      expect(boxes.length).toBeGreaterThanOrEqual(10);
      for (const box of boxes) {
        expect(box.left, box.text ?? '').toBeGreaterThanOrEqual(0);
        expect(box.right, box.text ?? '').toBeLessThanOrEqual(viewBoxWidth);
      }
      expect(await page.locator('#history ul.chart-legend').innerText()).toContain("Coder's connections");

      await page.locator('#history').screenshot({ path: `${ARTIFACTS}/status-page-history.png` });
      const origin = new URL(daemon.url).origin;
      expect(requested.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
