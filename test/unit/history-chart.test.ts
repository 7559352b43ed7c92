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

  it('shows no picture, only a sentence, before a poll with figures', () => {
    expect(renderHistoryChart({ points: [point(0, null)], windowMs: 600_000, safetyMargin: 0.2 }).text).toContain('No poll with figures yet');
  });
});
