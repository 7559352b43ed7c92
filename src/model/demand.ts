// The pool Coder needs (demand), beside the pool that fits (supply, the recommended pool
// max): over a sliding window, each replica's peak of in-use connections, plus one when
// its wait count rose in the window (requests queued for a connection). The window is kept
// as per-replica peaks in a fixed number of time buckets, so its size stays flat however
// long the daemon runs and however often it polls. Pure: the poller passes each poll's time.

/** What one replica's scrape says about demand; null figures (a replica down) add nothing. */
export interface DemandSample {
  replica: string;
  inUse: number | null;
  waitCount: number | null;
  /** Oi: what PostgreSQL saw it hold outside its pool (replica-footprints.ts); null when unknown. */
  outsidePool?: number | null;
}

/**
 * The window is cut into this many buckets and slides by one bucket at a time: with the
 * default 24 h window, 15 minutes. The oldest bucket is dropped whole, so the window spans
 * between 95/96 of its length and all of it.
 */
export const DEMAND_BUCKETS = 96;

interface ReplicaPeak {
  peak: number;
  waitsRose: boolean;
  /** The most it held outside its pool in the bucket; null when never known. */
  outsidePeak: number | null;
}

interface DemandBucket {
  /** floor(time / bucket width): the slice of time the bucket holds. */
  index: number;
  /** When its first poll landed (ms since the epoch). */
  firstAt: number;
  replicas: ReadonlyMap<string, ReplicaPeak>;
  /**
   * Each poll's unexplained connections per replica up (perReplicaMultiple): k >= 1, 0, or
   * -1 for "not a whole multiple". One value through the window is a steady k.
   */
  multiples: ReadonlySet<number>;
}

/** The demand window through the last poll: what `observeDemand` returns and takes back. */
export interface DemandWindow {
  windowMs: number;
  /** Oldest first, at most DEMAND_BUCKETS. */
  buckets: readonly DemandBucket[];
  /** Each replica's wait count when it was last read: a rise needs two readings. */
  lastWaitCount: ReadonlyMap<string, number>;
  /** The time of the last poll observed (ms since the epoch). */
  lastAt: number;
}

/** The pool max the busiest replica needed over the window. */
export interface NeededPool {
  /** max over replicas of (peak in use + 1 when its waits rose). */
  connections: number;
  /** The replica that needed it: its peak and whether its waits rose. */
  replica: string;
  peak: number;
  waitsRose: boolean;
  /** The time the window covers so far: shorter than the window after a start. */
  coveredSeconds: number;
}

/** Needed (demand) beside recommended (supply), and what to set. */
export interface PoolDemand {
  /** null until a replica's in-use connections have been read. */
  needed: NeededPool | null;
  /** The recommended pool max: the largest that fits a rollout with the margin kept. */
  fits: number | null;
  /**
   * true: one pool max serves Coder and fits (set it to `fits`, which leaves room);
   * false: none does; null: either side is unknown.
   */
  doesBoth: boolean | null;
}

/** The window with one more poll in it; `previous` is not changed. */
export function observeDemand(
  previous: DemandWindow | null,
  samples: readonly DemandSample[],
  atMs: number,
  windowMs: number,
  multiple: number | null = null,
): DemandWindow {
  const width = windowMs / DEMAND_BUCKETS;
  const index = Math.floor(atMs / width);
  const same = previous !== null && previous.windowMs === windowMs;
  const kept = same ? previous.buckets.filter((bucket) => bucket.index > index - DEMAND_BUCKETS) : [];
  const last = kept.at(-1);
  // A clock stepped back lands in the newest bucket rather than before it.
  const current: DemandBucket =
    last !== undefined && last.index >= index ? last : { index, firstAt: atMs, replicas: new Map<string, ReplicaPeak>(), multiples: new Set<number>() };
  const replicas = new Map(current.replicas);
  const lastWaitCount = new Map<string, number>();
  for (const sample of samples) {
    const before = same ? previous.lastWaitCount.get(sample.replica) : undefined;
    // A replica that is down keeps its last reading, to compare with when it is back.
    const reading = sample.waitCount ?? before;
    if (reading !== undefined) lastWaitCount.set(sample.replica, reading);
    const seen = replicas.get(sample.replica);
    const outside = sample.outsidePool ?? null;
    const outsidePeak = outside === null ? (seen?.outsidePeak ?? null) : Math.max(seen?.outsidePeak ?? outside, outside);
    if (sample.inUse === null) {
      if (outside !== null) replicas.set(sample.replica, { peak: seen?.peak ?? 0, waitsRose: seen?.waitsRose ?? false, outsidePeak });
      continue;
    }
    // A counter that went down was reset (the replica restarted): every wait since counts, as in rate().
    const rose = sample.waitCount !== null && before !== undefined && (sample.waitCount < before ? sample.waitCount > 0 : sample.waitCount > before);
    replicas.set(sample.replica, { peak: Math.max(seen?.peak ?? 0, sample.inUse), waitsRose: (seen?.waitsRose ?? false) || rose, outsidePeak });
  }
  const bucket: DemandBucket = { ...current, replicas, multiples: new Set([...current.multiples, multiple ?? -1]) };
  const buckets = current === last ? [...kept.slice(0, -1), bucket] : [...kept, bucket];
  return { windowMs, buckets, lastWaitCount, lastAt: Math.max(atMs, same ? previous.lastAt : atMs) };
}

/** Each replica's most held outside its pool over the window, for the replicas it was known for. */
export function outsidePoolPeaks(window: DemandWindow | null): Map<string, number> {
  const peaks = new Map<string, number>();
  for (const bucket of window?.buckets ?? []) {
    for (const [replica, { outsidePeak }] of bucket.replicas) {
      if (outsidePeak !== null) peaks.set(replica, Math.max(peaks.get(replica) ?? outsidePeak, outsidePeak));
    }
  }
  return peaks;
}

/** k when every poll of the window saw k >= 1 unexplained connections per replica up; null otherwise. */
export function steadyPerReplicaMultiple(window: DemandWindow | null): number | null {
  const seen = new Set((window?.buckets ?? []).flatMap((bucket) => [...bucket.multiples]));
  const [only] = [...seen];
  return seen.size === 1 && only !== undefined && only >= 1 ? only : null;
}

/** The busiest replica's need over the window; null before any replica's in-use was read. */
export function neededPool(window: DemandWindow | null): NeededPool | null {
  if (window === null || window.buckets.length === 0) return null;
  const merged = new Map<string, ReplicaPeak>();
  for (const bucket of window.buckets) {
    for (const [replica, { peak, waitsRose }] of bucket.replicas) {
      const seen = merged.get(replica);
      merged.set(replica, { peak: Math.max(seen?.peak ?? 0, peak), waitsRose: (seen?.waitsRose ?? false) || waitsRose, outsidePeak: null });
    }
  }
  let best: NeededPool | null = null;
  for (const replica of [...merged.keys()].sort()) {
    const { peak, waitsRose } = merged.get(replica) as ReplicaPeak;
    const connections = peak + (waitsRose ? 1 : 0);
    if (best === null || connections > best.connections) best = { connections, replica, peak, waitsRose, coveredSeconds: 0 };
  }
  if (best === null) return null;
  return { ...best, coveredSeconds: Math.max(0, (window.lastAt - (window.buckets[0] as DemandBucket).firstAt) / 1000) };
}

/**
 * Needed beside recommended. A recommended pool max of 0 means none fits, so nothing does
 * both; otherwise the recommended one does both when it reaches the need.
 */
export function poolDemand(window: DemandWindow | null, recommended: number | null): PoolDemand {
  const needed = neededPool(window);
  const doesBoth = needed === null || recommended === null ? null : recommended > 0 && needed.connections <= recommended;
  return { needed, fits: recommended, doesBoth };
}
