// Which max_connections would fit the fleet: the server-size answer ("resize RDS to what?")
// beside the pool-size one. Pure arithmetic; the recommended pool max at a given size is
// passed in by capacity.ts, so this file and the formula it searches cannot drift apart.

export interface MaxConnectionsFit {
  /** The smallest max_connections whose slots hold the rollout budget: S + R + V + Uo + rollout. */
  rollout: number;
  /** The smallest that also keeps the safety margin: the recommended pool max reaches the largest pool max. */
  margin: number;
}

export interface MaxConnectionsFitInput {
  /** S + R + V: the slots no ordinary role can use, kept whatever the size. */
  reservedSlots: number;
  /** What the budget leaves for other applications. */
  other: number;
  /** The rollout budget; Infinity when a pool is unbounded. */
  rolloutBudget: number;
  /** P, the largest pool max (0 = unbounded). */
  largestPoolMax: number;
  /** The recommended pool max were A slots available (null: no replica to share them). */
  recommendedAt(available: number): number | null;
}

/** A bound on the search: no server has this many slots (PostgreSQL caps max_connections at 262143). */
const LARGEST_SEARCHED = 1 << 22;

/** null when the budget cannot fit at any size: a pool is unbounded, or no replica shares the slots. */
export function maxConnectionsToFit(input: MaxConnectionsFitInput): MaxConnectionsFit | null {
  if (!Number.isFinite(input.rolloutBudget) || input.largestPoolMax === 0) return null;
  const keepsMargin = (available: number) => (input.recommendedAt(available) ?? -1) >= input.largestPoolMax;
  if (!keepsMargin(LARGEST_SEARCHED)) return null;
  // The recommended pool max only grows with the slots: the smallest size that keeps the
  // margin is found by bisection between one that does not and one that does.
  let low = 0;
  let high = Math.max(1, input.other + input.rolloutBudget);
  while (!keepsMargin(high)) {
    low = high;
    high = Math.min(LARGEST_SEARCHED, high * 2);
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (keepsMargin(middle)) high = middle;
    else low = middle;
  }
  if (keepsMargin(low)) high = low;
  const rollout = input.reservedSlots + input.other + input.rolloutBudget;
  return { rollout, margin: Math.max(rollout, input.reservedSlots + high) };
}
