// The picture of the last day as markup: gaps where a poll could not tell, a bounded number
// of drawn points that keeps the peaks, and no picture before the first figures.

import { describe, expect, it } from 'vitest';
import type { HistoryPoint } from '../../src/model/history.js';
import { renderHistoryChart } from '../../src/views/history-chart.js';

const point = (at: number, used: number | null): HistoryPoint => ({
  at,
  coder: used === null ? null : used - 8,
  other: used === null ? null : 8,
  used,
  available: used === null ? null : 57,
  margin: used === null ? null : 45,
  steadyReach: used === null ? null : 71,
  rolloutReach: used === null ? null : Number.POSITIVE_INFINITY,
});

const polylines = (markup: string, series: string) => [...markup.matchAll(new RegExp(`class="series-${series}"[^>]*points="([^"]*)"`, 'g'))].map((match) => (match[1] as string).split(' '));

describe('the history chart', () => {
  it('breaks the curve where PostgreSQL could not be polled, rather than drawing through the gap', () => {
    const markup = renderHistoryChart({ points: [point(0, 26), point(1000, 27), point(2000, null), point(3000, 26)], windowMs: 600_000, safetyMargin: 0.2 }).text;
    expect(polylines(markup, 'used').map((run) => run.length)).toEqual([2, 1]);
  });

  it('draws at most 600 points of a day of polls, and the busiest poll is one of them', () => {
    const points = Array.from({ length: 2880 }, (_, i) => point(i * 30_000, i === 1234 ? 50 : 26));
    const markup = renderHistoryChart({ points, windowMs: 86_400_000, safetyMargin: 0.2 }).text;
    const [used] = polylines(markup, 'used');
    expect(used!.length).toBeLessThanOrEqual(600);
    expect(markup).toContain('data-points="2880"');
    const yMax = Number(/data-y-max="(\d+)"/.exec(markup)![1]);
    const [, top, , height] = /data-plot="([^"]+)"/.exec(markup)![1]!.split(' ').map(Number) as number[];
    const peak = Math.min(...used!.map((pair) => Number(pair.split(',')[1])));
    expect(Math.round(((top! + height! - peak) / height!) * yMax)).toBe(50);
  });

  it('says "unbounded" for a budget with no end, and draws it along the top', () => {
    const markup = renderHistoryChart({ points: [point(0, 26), point(1000, 26)], windowMs: 600_000, safetyMargin: 0.2 }).text;
    expect(markup).toContain('used at the rollout budget unbounded');
  });

  it('keeps every text inside the picture, the longest line label included, and leaves the plot at least 700 of its 1100 units', () => {
    // The SVG cannot measure its text: 0.7 em a character is more than the labels take in
    // DejaVu Sans Bold (0.6), among the widest faces system-ui falls back on.
    const CHAR_EM = 0.7;
    const big = (at: number): HistoryPoint => ({ at, coder: 8900, other: 100, used: 9000, available: 9997, margin: 7497, steadyReach: 15000, rolloutReach: 18000 });
    const charts = [
      renderHistoryChart({ points: [point(0, 26), point(1000, 26)], windowMs: 600_000, safetyMargin: 0.2 }).text,
      renderHistoryChart({ points: [big(0), big(86_400_000)], windowMs: 86_400_000, safetyMargin: 0.25 }).text,
    ];
    for (const markup of charts) {
      const [, , width, height] = /viewBox="([^"]+)"/.exec(markup)![1]!.split(' ').map(Number) as number[];
      expect(width).toBe(1100);
      const [left, , plotWidth] = /data-plot="([^"]+)"/.exec(markup)![1]!.split(' ').map(Number) as number[];
      expect(plotWidth).toBeGreaterThanOrEqual(700);
      const texts = [...markup.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)].map(([, attributes, text]) => {
        const attribute = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(attributes as string)?.[1];
        const extent = (text as string).length * CHAR_EM * Number(attribute('font-size'));
        const anchor = attribute('text-anchor') ?? 'start';
        const x = Number(attribute('x'));
        const start = anchor === 'end' ? x - extent : anchor === 'middle' ? x - extent / 2 : x;
        return { text: text as string, start, end: start + extent, y: Number(attribute('y')), lineLabel: attribute('font-weight') === '600' };
      });
      expect(texts.filter((text) => text.lineLabel).length).toBe(4);
      for (const text of texts) {
        expect(text.start, text.text).toBeGreaterThanOrEqual(0);
        expect(text.end, text.text).toBeLessThanOrEqual(width!);
        expect(text.y, text.text).toBeLessThanOrEqual(height!);
        // Beside the plot, not over the curves.
        if (text.lineLabel) expect(text.start, text.text).toBeGreaterThan(left! + plotWidth!);
      }
    }
    expect(charts[0]).toContain('used at the rollout budget unbounded</text>');
    expect(charts[1]).toContain('used at the rollout budget 18000</text>');
  });

  it('shows no picture, only a sentence, before a poll with figures', () => {
    expect(renderHistoryChart({ points: [point(0, null)], windowMs: 600_000, safetyMargin: 0.2 }).text).toContain('No poll with figures yet');
  });
});
