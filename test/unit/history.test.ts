// The ring of polls behind the status page's picture: bounded, one point per poll unless
// polls come closer together than the window allows, and the figures of the model as they were.

import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/model/capacity.js';
import { HISTORY_POINTS, PollHistory, historyPointOf, type HistoryPoint } from '../../src/model/history.js';
import type { PollResult } from '../../src/model/poll-result.js';
import { snapshot } from '../support/snapshots.js';

const DAY = 24 * 3600 * 1000;

function point(at: number, used: number | null): HistoryPoint {
  return { at, coder: used, other: used === null ? null : 0, used, available: 57, margin: 45, steadyReach: 71, rolloutReach: 92 };
}

describe('the history of polls', () => {
  it('keeps one point per poll, in order, each with its figures', () => {
    const history = new PollHistory(DAY);
    for (let i = 0; i < 5; i++) history.record(point(i * 30_000, 20 + i));
    expect(history.points().map((p) => [p.at, p.used])).toEqual([[0, 20], [30_000, 21], [60_000, 22], [90_000, 23], [120_000, 24]]);
  });

  it('keeps the busier of two polls closer together than window / 2880 (30 s of a day)', () => {
    const history = new PollHistory(DAY);
    history.record(point(0, 20));
    history.record(point(15_000, 26));
    history.record(point(20_000, 22));
    expect(history.points().map((p) => p.used)).toEqual([26]);
  });

  it(`never holds more than ${HISTORY_POINTS} points, and shows only the last window`, () => {
    const history = new PollHistory(DAY);
    for (let i = 0; i < 2 * HISTORY_POINTS; i++) history.record(point(i * 30_000, i % 50));
    expect(history.length).toBe(HISTORY_POINTS);
    const points = history.points();
    expect((points.at(-1) as HistoryPoint).at - (points[0] as HistoryPoint).at).toBeLessThanOrEqual(DAY);
  });

  it('keeps an unknown figure unknown, not 0: a poll of PostgreSQL that failed is a gap', () => {
    const history = new PollHistory(DAY);
    history.record(point(0, null));
    expect(history.points()[0]).toMatchObject({ used: null, coder: null });
  });

  it("draws the reference scenario's figures: coder 18, other 8, available 57, margin 45, budgets reaching 71 and 92", () => {
    const evaluated = evaluate(snapshot());
    const result = { snapshot: snapshot(), ...evaluated, sources: [], postgresError: null, coderErrors: [], roundTripSeconds: null, completedAt: 1000 } as PollResult;
    expect(historyPointOf(result)).toEqual({ at: 1000, coder: 18, other: 8, used: 26, available: 57, margin: 45, steadyReach: 71, rolloutReach: 92 });
  });
});
