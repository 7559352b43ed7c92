// When the monitor cannot see: each way it can be blind is a reason, shown as
// coder_pg_capacity_blind{reason}, a finding and a "Cannot judge" verdict. The figures a
// reason breaks are left out of the Capacity (absent), never guessed as 0.

import { poolerReadable } from './pooler.js';
import type { Snapshot } from './snapshot.js';

export const blindReasons = [
  'no_replicas_configured',
  'no_replicas_found',
  'replicas_table_unreadable',
  'coder_role_missing',
  'coder_database_missing',
  'coder_connections_mismatch',
  'pgbouncer_unreadable',
  'postgres_standby',
] as const;

export type BlindReason = (typeof blindReasons)[number];

/** The reasons that hide how many replicas there are: every budget figure goes. */
export function hidesBudget(reasons: readonly BlindReason[]): boolean {
  return reasons.includes('no_replicas_configured') || reasons.includes('no_replicas_found');
}

/** The reasons that hide which connections are Coder's: Uc, Uo and every headroom on them go. */
export function hidesAttribution(reasons: readonly BlindReason[]): boolean {
  return reasons.includes('coder_role_missing') || reasons.includes('coder_database_missing');
}

/**
 * The blind reasons of one snapshot. `unaccounted` is this poll's figure: a mismatch needs
 * it below 0 in this poll and the previous one (one poll can catch a pool opening a
 * connection between PostgreSQL's count and the scrape).
 */
export function blindReasonsOf(snapshot: Snapshot, unaccounted: number | null): BlindReason[] {
  const { sources, plan, postgres: pg } = snapshot;
  const reasons: BlindReason[] = [];
  // A standby (a reader endpoint) is not the server Coder uses: nothing it shows is Coder's.
  if (pg !== null && pg.inRecovery) return ['postgres_standby'];
  const planned = plan.plannedReplicas !== null && plan.plannedReplicas > 0;

  if (!sources.coderTargetsConfigured && !sources.replicasFromDb && !planned) {
    reasons.push('no_replicas_configured');
  }
  const tableUnreadable = sources.replicasFromDb && pg !== null && pg.replicasTableError !== null;
  if (tableUnreadable) reasons.push('replicas_table_unreadable');
  // Without PostgreSQL the replicas table cannot be read at all; its count is then unknown, not 0.
  const tableKnown = !sources.replicasFromDb || pg !== null;
  const fromTable = pg?.liveReplicasFromDb ?? 0;
  if ((sources.coderTargetsConfigured || sources.replicasFromDb) && !planned && tableKnown && snapshot.replicas.length === 0 && fromTable === 0) {
    reasons.push('no_replicas_found');
  }
  if (pg !== null) {
    if (pg.coderRole === null) reasons.push('coder_role_missing');
    if (pg.coderDatabase === null) reasons.push('coder_database_missing');
  }
  if (unaccounted !== null && unaccounted < 0 && snapshot.previousUnaccounted !== null && snapshot.previousUnaccounted < 0) {
    reasons.push('coder_connections_mismatch');
  }
  // A PgBouncer instance that cannot be read (or has no entry for Coder's database): the
  // pooler's sums, the budget on PostgreSQL and the budget headroom on it are absent.
  if (snapshot.pooler && !poolerReadable(snapshot.pooler)) reasons.push('pgbouncer_unreadable');
  return reasons;
}
