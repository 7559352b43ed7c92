// PostgreSQL's max_connections slots, split the way the Grafana dashboard stacks them:
// what is reserved, what other applications hold, what Coder holds and may still open,
// and what stays free; plus where the steady and rollout budgets end, which may be past
// the last slot (the overcommit).

import type { Capacity } from '../model/capacity.js';
import type { Snapshot } from '../model/snapshot.js';

export type SlotPart =
  | 'superuser-reserved'
  | 'reserved'
  | 'provider'
  | 'other'
  | 'coder-in-use'
  | 'coder-idle'
  | 'coder-budget-unopened'
  | 'free';

export interface SlotSegment {
  part: SlotPart;
  label: string;
  slots: number;
}

export interface SlotComposition {
  /** M */
  maxConnections: number;
  /** The segments, in order; they add up to max_connections unless PostgreSQL is over-full. */
  segments: SlotSegment[];
  /** Where Coder's budget starts: after the reserved slots and the other applications. */
  budgetStart: number;
  /** Where each budget ends, in slots from 0; Infinity for an unbounded pool. */
  steadyEnd: number;
  rolloutEnd: number;
  /** Slots the budget reaches past max_connections, per phase (0 when it fits). */
  overcommit: { steady: number; rollout: number };
}

export const slotPartLabels: Record<SlotPart, string> = {
  'superuser-reserved': 'superuser reserved',
  reserved: 'reserved',
  provider: 'provider',
  other: 'other apps',
  'coder-in-use': 'Coder in use',
  'coder-idle': 'Coder idle',
  'coder-budget-unopened': 'Coder budget not yet open',
  free: 'free',
};

export function slotComposition(snapshot: Snapshot, capacity: Capacity): SlotComposition {
  const M = snapshot.postgres?.maxConnections ?? capacity.available + capacity.reserved.superuser + capacity.reserved.reserved + capacity.reserved.provider;
  const { superuser, reserved, provider } = capacity.reserved;
  // "In use" as Coder's pools see it (go_sql_in_use_connections): PostgreSQL's own state
  // says idle for a connection that a pool holds between queries of one request.
  const scrapedInUse = snapshot.replicas.reduce((sum, replica) => sum + (replica.up ? (replica.inUse ?? 0) : 0), 0);
  const coderInUse = Math.min(scrapedInUse, capacity.coder);
  const coderIdle = capacity.coder - coderInUse;
  const unopened = clamp(capacity.budget.steady - capacity.coder, 0, Math.max(0, capacity.headroom));
  const free = Math.max(0, capacity.headroom - unopened);
  const budgetStart = superuser + reserved + provider + capacity.other;
  const steadyEnd = budgetStart + capacity.budget.steady;
  const rolloutEnd = budgetStart + capacity.budget.rollout;

  const counts: [SlotPart, number][] = [
    ['superuser-reserved', superuser],
    ['reserved', reserved],
    ['provider', provider],
    ['other', capacity.other],
    ['coder-in-use', coderInUse],
    ['coder-idle', coderIdle],
    ['coder-budget-unopened', unopened],
    ['free', free],
  ];
  return {
    maxConnections: M,
    segments: counts.map(([part, slots]) => ({ part, label: slotPartLabels[part], slots })),
    budgetStart,
    steadyEnd,
    rolloutEnd,
    overcommit: { steady: Math.max(0, steadyEnd - M), rollout: Math.max(0, rolloutEnd - M) },
  };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
