// Where slots go without being budgeted (docs/capacity-model.md): sessions idle in a
// transaction, the NOTIFY queue Coder's pubsub rides on, and pool churn (connections a
// replica closes and reopens, each reopen a new PostgreSQL backend). Pure: ages come
// computed by PostgreSQL, rates from the previous poll's counters and its distance in time.

import { poolCloseReasons, type PoolCloseReason } from './pool-closes.js';
import type { ConnectionOwner, Snapshot } from './snapshot.js';
import { byCodeUnits } from './text-order.js';

/** The states of a session inside a transaction block that is doing nothing. */
export const IDLE_IN_TRANSACTION_STATES: readonly string[] = ['idle in transaction', 'idle in transaction (aborted)'];

/** One owner's sessions idle in a transaction. */
export interface IdleInTransaction {
  owner: ConnectionOwner;
  count: number;
  /** The oldest one's time in that state (PostgreSQL's now() - state_change); null when the monitor may not see it. */
  oldestSeconds: number | null;
}

/** One replica's closes per second between the last two polls, in total and by reason. */
export interface ReplicaChurn {
  replica: string;
  closesPerSecond: number;
  byReason: Record<PoolCloseReason, number | null>;
}

export interface UnbudgetedUse {
  /** Per owner with any; empty when none. */
  idleInTransaction: IdleInTransaction[];
  /** pg_notification_queue_usage(), 0 to 1. */
  notifyQueueUsage: number;
  /** Per up replica whose counters were read in this poll and the previous one. */
  poolChurn: ReplicaChurn[];
}

export function unbudgetedUse(snapshot: Snapshot): UnbudgetedUse {
  const pg = snapshot.postgres;
  return {
    idleInTransaction: pg === null ? [] : idleInTransaction(pg.connections, pg.idleInTransaction),
    notifyQueueUsage: pg?.notifyQueueUsage ?? 0,
    poolChurn: poolChurn(snapshot),
  };
}

/** Counts from the connection groups, ages from PostgreSQL's oldest per owner. */
export function idleInTransaction(
  connections: readonly { owner: ConnectionOwner; state: string; count: number }[],
  oldest: readonly { owner: ConnectionOwner; oldestSeconds: number }[],
): IdleInTransaction[] {
  const counts = new Map<ConnectionOwner, number>();
  for (const group of connections) {
    if (IDLE_IN_TRANSACTION_STATES.includes(group.state)) counts.set(group.owner, (counts.get(group.owner) ?? 0) + group.count);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => byCodeUnits(a, b))
    .map(([owner, count]) => ({ owner, count, oldestSeconds: oldest.find((entry) => entry.owner === owner)?.oldestSeconds ?? null }));
}

/**
 * Closes per second between the previous poll and this one. A counter that went down was
 * reset (the replica restarted): its whole value counts, as rate() does.
 */
export function poolChurn(snapshot: Snapshot): ReplicaChurn[] {
  const previous = snapshot.previousCloses;
  if (previous === null || !(previous.secondsAgo > 0)) return [];
  const before = new Map(previous.replicas.map((replica) => [replica.replica, replica.closed]));
  const churn: ReplicaChurn[] = [];
  for (const replica of snapshot.replicas) {
    const then = before.get(replica.replica);
    if (!replica.up || replica.closed === null || then === undefined) continue;
    const now = replica.closed;
    const byReason = Object.fromEntries(
      poolCloseReasons.map((reason) => {
        const a = then[reason];
        const b = now[reason];
        if (a === null || b === null) return [reason, null];
        return [reason, (b >= a ? b - a : b) / previous.secondsAgo];
      }),
    ) as Record<PoolCloseReason, number | null>;
    const closesPerSecond = Object.values(byReason).reduce<number>((sum, rate) => sum + (rate ?? 0), 0);
    churn.push({ replica: replica.replica, closesPerSecond, byReason });
  }
  return churn;
}
