// The pool Coder needs: each replica's peak of in-use connections over the demand window,
// plus one when its waits rose, beside the pool max that fits (docs/capacity-model.md).

import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/model/capacity.js';
import { DEMAND_BUCKETS, neededPool, observeDemand, poolDemand, type DemandSample, type DemandWindow } from '../../src/model/demand.js';
import { snapshot } from '../support/snapshots.js';

const DAY = 24 * 3600 * 1000;
const MINUTE = 60_000;

const sample = (replica: string, inUse: number | null, waitCount: number | null = 0): DemandSample => ({ replica, inUse, waitCount });

/** Polls at the given minutes, each with its samples. */
function windowOf(polls: [minute: number, samples: DemandSample[]][], windowMs = DAY): DemandWindow | null {
  let window: DemandWindow | null = null;
  for (const [minute, samples] of polls) window = observeDemand(window, samples, minute * MINUTE, windowMs);
  return window;
}

describe('the pool Coder needs', () => {
  it('is the largest per-replica peak of in-use connections over the window: 6 of a, not 2 + 2 + 2', () => {
    const window = windowOf([
      [0, [sample('a', 2), sample('b', 2), sample('c', 2)]],
      [1, [sample('a', 6), sample('b', 3), sample('c', 1)]],
      [2, [sample('a', 2), sample('b', 2), sample('c', 2)]],
    ]);
    expect(neededPool(window)).toMatchObject({ connections: 6, replica: 'a', peak: 6, waitsRose: false, coveredSeconds: 120 });
  });

  it('adds one for a replica whose wait count rose in the window: peak 5 + 1 = 6', () => {
    const window = windowOf([
      [0, [sample('a', 5, 10)]],
      [1, [sample('a', 3, 12)]],
    ]);
    expect(neededPool(window)).toMatchObject({ connections: 6, peak: 5, waitsRose: true });
  });

  it('counts a wait counter that went down (a restart) and rose again from 0 as waits', () => {
    const window = windowOf([
      [0, [sample('a', 4, 50)]],
      [1, [sample('a', 4, 3)]],
    ]);
    expect(neededPool(window)?.connections).toBe(5);
  });

  it('sees no rise on a replica it reads for the first time, however high its counter', () => {
    expect(neededPool(windowOf([[0, [sample('a', 4, 1000)]]]))?.connections).toBe(4);
  });

  it('forgets a peak once its bucket leaves the 24 h window', () => {
    const window = windowOf([
      [0, [sample('a', 9)]],
      [60, [sample('a', 2)]],
      [24 * 60 + 30, [sample('a', 3)]],
    ]);
    expect(neededPool(window)?.connections).toBe(3);
  });

  it('stays flat in size: a day of polls every second keeps at most 96 buckets', () => {
    let window: DemandWindow | null = null;
    for (let second = 0; second < 2 * 24 * 3600; second += 97) window = observeDemand(window, [sample('a', second % 7)], second * 1000, DAY);
    expect(window!.buckets.length).toBeLessThanOrEqual(DEMAND_BUCKETS);
  });

  it('is unknown before any replica was read, and a replica that is down adds nothing', () => {
    expect(neededPool(null)).toBeNull();
    expect(neededPool(windowOf([[0, [sample('a', null, null)]]]))).toBeNull();
  });

  it('keeps a down replica\'s last wait count, so waits while it was away still count when it is back', () => {
    const window = windowOf([
      [0, [sample('a', 2, 5)]],
      [1, [sample('a', null, null)]],
      [2, [sample('a', 2, 9)]],
    ]);
    expect(neededPool(window)).toMatchObject({ connections: 3, waitsRose: true });
  });
});

describe('needed beside recommended', () => {
  it('needs 6, fits 8: one pool max does both', () => {
    expect(poolDemand(windowOf([[0, [sample('a', 6)]]]), 8)).toMatchObject({ needed: { connections: 6 }, fits: 8, doesBoth: true });
  });

  it('needs 9, fits 8: no pool max does both', () => {
    expect(poolDemand(windowOf([[0, [sample('a', 9)]]]), 8).doesBoth).toBe(false);
  });

  it('fits 0 means none fits: nothing does both, even a need of 0', () => {
    expect(poolDemand(windowOf([[0, [sample('a', 0)]]]), 0).doesBoth).toBe(false);
  });

  it('is in the capacity figures: the reference scenario (recommended 8) with a replica peaking at 6 does both', () => {
    const demand = windowOf([[0, [sample('http://a:2112/metrics', 6), sample('http://b:2112/metrics', 2)]]]);
    const capacity = evaluate(snapshot({ demand })).capacity!;
    expect(capacity.recommendedPoolMax).toBe(8);
    expect(capacity.demand).toMatchObject({ needed: { connections: 6 }, fits: 8, doesBoth: true });
  });
});
