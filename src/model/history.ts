// The last day, for the status page's picture: a bounded ring of polls, each the figures the
// model derived for it (used by owner, available slots, the margin line and how far each
// budget reaches). No clock: every point carries the time of its poll.
//
// Size: HISTORY_POINTS points of 8 numbers of 8 bytes, allocated once: 2880 x 64 = 184,320
// bytes (180 KiB) for the whole window, whatever its length and the poll schedule. With the
// default 24 h window that is 180 KiB a day, one point per 30 s; polls closer together than
// window / HISTORY_POINTS share a point and it keeps the busier of them, so a peak is never
// smoothed away.

import type { PollResult } from './poll-result.js';

export const HISTORY_POINTS = 2880;

/** One poll as the picture draws it; null where the poll could not tell (PostgreSQL down, a blind reason). */
export interface HistoryPoint {
  /** The poll's time, ms since the epoch. */
  at: number;
  /** Coder's connections and everyone else's (the monitor included): used = coder + other. */
  coder: number | null;
  other: number | null;
  used: number | null;
  /** A, the slots an ordinary role can use. */
  available: number | null;
  /** Am, the margin line. */
  margin: number | null;
  /** Where each budget would bring used connections: what other applications keep plus Coder's budget (Infinity when unbounded). */
  steadyReach: number | null;
  rolloutReach: number | null;
}

const fields = ['coder', 'other', 'used', 'available', 'margin', 'steadyReach', 'rolloutReach'] as const;
type Field = (typeof fields)[number];

/** The point of one poll: figures of the model only, nothing recomputed. */
export function historyPointOf(result: PollResult): HistoryPoint {
  const c = result.capacity;
  // available - budget headroom = what the budget leaves for others + the budget itself.
  const reach = (headroom: number | undefined) => (c === null || headroom === undefined ? null : c.available - headroom);
  return {
    at: result.completedAt,
    coder: c?.coder ?? null,
    other: c?.other ?? null,
    used: c?.used ?? null,
    available: c?.available ?? null,
    margin: c?.marginCapacity ?? null,
    steadyReach: reach(c?.budgetHeadroom?.steady),
    rolloutReach: reach(c?.budgetHeadroom?.rollout),
  };
}

/** The ring. Unknown figures are stored as NaN: typed arrays hold numbers only. */
export class PollHistory {
  private readonly at = new Float64Array(HISTORY_POINTS);
  private readonly values: Record<Field, Float64Array>;
  /** Index of the oldest point, and how many there are. */
  private start = 0;
  private size = 0;
  private readonly spacingMs: number;

  constructor(readonly windowMs: number) {
    this.values = Object.fromEntries(fields.map((field) => [field, new Float64Array(HISTORY_POINTS)])) as Record<Field, Float64Array>;
    this.spacingMs = windowMs / HISTORY_POINTS;
  }

  get length(): number {
    return this.size;
  }

  record(point: HistoryPoint): void {
    if (this.size > 0) {
      const last = (this.start + this.size - 1) % HISTORY_POINTS;
      if (Math.floor(point.at / this.spacingMs) <= Math.floor((this.at[last] as number) / this.spacingMs)) {
        // The same slot of time: the busier poll stays (NaN, an unknown poll, loses to any count).
        const kept = this.values.used[last] as number;
        if (!((point.used ?? -1) >= (Number.isNaN(kept) ? -1 : kept))) return;
        this.write(last, point);
        return;
      }
    }
    const slot = (this.start + this.size) % HISTORY_POINTS;
    if (this.size < HISTORY_POINTS) this.size++;
    else this.start = (this.start + 1) % HISTORY_POINTS;
    this.write(slot, point);
  }

  /** The points within the window of the newest, oldest first. */
  points(): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    if (this.size === 0) return out;
    const newest = this.at[(this.start + this.size - 1) % HISTORY_POINTS] as number;
    for (let i = 0; i < this.size; i++) {
      const slot = (this.start + i) % HISTORY_POINTS;
      const at = this.at[slot] as number;
      if (at < newest - this.windowMs) continue;
      const point = { at } as HistoryPoint;
      for (const field of fields) {
        const value = this.values[field][slot] as number;
        point[field] = Number.isNaN(value) ? null : value;
      }
      out.push(point);
    }
    return out;
  }

  private write(slot: number, point: HistoryPoint): void {
    this.at[slot] = point.at;
    for (const field of fields) this.values[field][slot] = point[field] ?? Number.NaN;
  }
}
