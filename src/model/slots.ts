// Where PostgreSQL's max_connections slots go, part by part: what is reserved, what
// other applications hold (and may still open, by --other.budget), what Coder holds (active or not, as PostgreSQL reports it) and
// may still open, what stays free, and how far Coder's budget reaches past the last slot.
// Exported as coder_pg_capacity_slots_connections{part}; the status page's bar and the
// dashboard's stack both draw these numbers and derive none of their own.

export const slotParts = [
  'superuser_reserved',
  'reserved',
  'provider',
  'other',
  'other_unopened',
  'coder_active',
  'coder_idle',
  'coder_unopened',
  'free',
  'overcommit',
] as const;

export type SlotPart = (typeof slotParts)[number];

export interface SlotComposition {
  /** M */
  maxConnections: number;
  /**
   * Slots per part; a part that cannot be known (Coder's when its role is missing, the
   * budget's when no replica is known) is absent. superuser_reserved to free add up to
   * max_connections unless PostgreSQL is over-full; overcommit is the steady budget's
   * reach past the last slot.
   */
  parts: Partial<Record<SlotPart, number>>;
  /** Where Coder's budget starts: after the reserved slots and the other applications; null when unknown. */
  budgetStart: number | null;
  /** Where each budget ends, in slots from 0 (Infinity for an unbounded pool); null when unknown. */
  steadyEnd: number | null;
  rolloutEnd: number | null;
  /** Slots the budget reaches past max_connections, per phase (0 when it fits); null when unknown. */
  overcommit: { steady: number; rollout: number } | null;
}

export interface SlotInputs {
  maxConnections: number;
  reserved: { superuser: number; reserved: number; provider: number };
  /** Uo, max(Uo, Uo'), Uc and Coder's active backends; null when Coder's role or database is missing. */
  other: number | null;
  otherCommitted: number | null;
  coder: number | null;
  coderActive: number | null;
  /** A - U */
  headroom: number;
  budget: { steady: number; rollout: number } | null;
}

export function slotComposition(input: SlotInputs): SlotComposition {
  const M = input.maxConnections;
  const { superuser, reserved, provider } = input.reserved;
  const parts: SlotComposition['parts'] = { superuser_reserved: superuser, reserved, provider };
  const free = Math.max(0, input.headroom);
  if (input.other === null || input.otherCommitted === null || input.coder === null || input.coderActive === null) {
    parts.free = free;
    return { maxConnections: M, parts, budgetStart: null, steadyEnd: null, rolloutEnd: null, overcommit: null };
  }
  parts.other = input.other;
  parts.coder_active = input.coderActive;
  parts.coder_idle = input.coder - input.coderActive;
  if (input.budget === null) {
    parts.free = free;
    return { maxConnections: M, parts, budgetStart: null, steadyEnd: null, rolloutEnd: null, overcommit: null };
  }
  // What other applications' declared pools and then Coder's may still open, as far as free
  // slots reach; the rest is overcommit.
  const otherUnopened = Math.min(free, input.otherCommitted - input.other);
  const unopened = Math.min(free - otherUnopened, Math.max(0, input.budget.steady - input.coder));
  const budgetStart = superuser + reserved + provider + input.otherCommitted;
  const steadyEnd = budgetStart + input.budget.steady;
  const rolloutEnd = budgetStart + input.budget.rollout;
  const overcommit = { steady: Math.max(0, steadyEnd - M), rollout: Math.max(0, rolloutEnd - M) };
  parts.other_unopened = otherUnopened;
  parts.coder_unopened = unopened;
  parts.free = free - otherUnopened - unopened;
  parts.overcommit = overcommit.steady;
  return { maxConnections: M, parts, budgetStart, steadyEnd, rolloutEnd, overcommit };
}
