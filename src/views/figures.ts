// The capacity figures as rows a person reads: name, value, and where it comes from.
// The status page and `check` show the same rows in the order of the capacity model.

import type { Capacity } from '../model/capacity.js';
import type { PostgresFacts, Snapshot } from '../model/snapshot.js';
import { thresholds } from '../model/thresholds.js';
import { formatCount, formatDuration, formatPercent } from '../model/wording.js';

export type FigureId =
  | 'available'
  | 'used'
  | 'coder'
  | 'other'
  | 'other-committed'
  | 'headroom'
  | 'utilization'
  | 'replicas'
  | 'largest-pool-max'
  | 'budget-steady'
  | 'budget-rollout'
  | 'budget-headroom-steady'
  | 'budget-headroom-rollout'
  | 'recommended-pool-max'
  | 'needed-pool-max'
  | 'margin-capacity'
  | 'max-safe-replicas'
  | 'unaccounted';

export interface FigureRow {
  id: FigureId;
  label: string;
  value: string;
  /** Drawn as bad (red) when true: a negative budget headroom, say. */
  bad: boolean;
  meaning: string;
}

/** Every figure of the model for one poll, as rows. */
export interface FigureOptions {
  /** The pool max is a plan (check's --coder.pool-max), not what the replicas report. */
  poolMaxPlanned?: boolean;
}

export function figureRows(snapshot: Snapshot & { postgres: PostgresFacts }, capacity: Capacity, options: FigureOptions = {}): FigureRow[] {
  const pg = snapshot.postgres;
  const { plan } = snapshot;
  const P = capacity.largestPoolMax;
  // max Ei: what the budget gives a replica outside its pool (measured, at least --coder.extra-connections).
  const E = capacity.extraConnections;
  const surge = capacity.surgePods;
  const stopping = capacity.unavailablePods;
  const surgePods = `+ ${surge} surge${stopping > 0 ? ` and ${stopping} stopping` : ''} ${surge + stopping === 1 ? 'pod' : 'pods'}`;
  const margin = formatPercent(plan.safetyMargin);
  const coderWho = `role ${snapshot.attribution.role}${pg.coderRole ? '' : ' (missing)'} in database ${snapshot.attribution.database}${pg.coderDatabase ? '' : ' (missing)'}`;
  const { budget, budgetHeadroom } = capacity;

  const row = (id: FigureId, label: string, value: string, meaning: string, bad = false): FigureRow => ({ id, label, value, bad, meaning });
  return [
    row('available', 'available', String(capacity.available), `max_connections ${pg.maxConnections} − ${pg.maxConnections - capacity.available} reserved`),
    row('used', 'used', String(capacity.used), "client backends, the monitor's own included"),
    row('coder', 'coder', formatCount(capacity.coder), `backends of ${coderWho}`, capacity.coder === null),
    row('other', 'other', formatCount(capacity.other), 'other applications and the monitor', capacity.other === null),
    ...(capacity.otherDeclarations.length > 0
      ? [row('other-committed', 'other, committed', formatCount(capacity.otherCommitted), 'declared pools (--other.budget) + undeclared live; the budget leaves room for the larger', capacity.otherCommitted === null)]
      : []),
    row('headroom', 'headroom', String(capacity.headroom), 'available − used: free right now', capacity.headroom <= 0),
    row('utilization', 'utilization', formatPercent(capacity.utilization), 'used / available', capacity.utilization > thresholds.utilizationWarning),
    row('replicas', 'replicas', `${capacity.replicas.observed} / ${capacity.replicas.planned}`, 'observed / planned (--coder.replicas)'),
    row('largest-pool-max', 'largest pool max', P === 0 ? 'unbounded' : String(P), options.poolMaxPlanned ? 'planned for every replica: --coder.pool-max' : 'per replica: go_sql_max_open_connections', P === 0),
    row('budget-steady', 'budget, steady', formatCount(budget?.steady ?? null), `what Coder may open: ${capacity.replicas.planned} × (pool max + ${E})`, budget === null),
    row('budget-rollout', 'budget, rollout', formatCount(budget?.rollout ?? null), P === 0 ? `${surgePods}, unbounded, in a rolling update` : `${surgePods} × ${P + E} in a rolling update`, budget === null),
    row('budget-headroom-steady', 'budget headroom, steady', formatCount(budgetHeadroom?.steady ?? null), `${capacity.otherDeclarations.length > 0 ? 'available − max(other, committed)' : 'available − other'} − ${capacity.pooler ? 'budget on PostgreSQL (PgBouncer)' : 'budget'}`, budgetHeadroom === null || budgetHeadroom.steady < 0),
    row('budget-headroom-rollout', 'budget headroom, rollout', formatCount(budgetHeadroom?.rollout ?? null), 'the same in a rolling update', budgetHeadroom === null || budgetHeadroom.rollout < 0),
    row(
      'recommended-pool-max',
      'recommended pool max',
      formatCount(capacity.recommendedPoolMax),
      `fits a rollout with ${margin} spare${capacity.recommendedPoolMax === 0 ? ' (none fits)' : ''}`,
      capacity.recommendedPoolMax !== null && P > 0 && capacity.recommendedPoolMax < P,
    ),
    row('needed-pool-max', 'needed pool max', formatCount(capacity.demand.needed?.connections ?? null), neededMeaning(capacity.demand), capacity.demand.doesBoth === false),
    row('margin-capacity', 'margin capacity', String(capacity.marginCapacity), `available × (1 − ${margin}): the slots to plan with`),
    row('max-safe-replicas', 'max safe replicas', formatCount(capacity.maxSafeReplicas), P === 0 ? 'none fits while a pool is unbounded' : `fit at pool max ${P}, steady, ${margin} spare`, capacity.maxSafeReplicas === null || capacity.maxSafeReplicas < capacity.replicas.planned),
    row('unaccounted', 'unaccounted', formatCount(capacity.unaccounted), capacity.pooler ? "not comparable behind PgBouncer: Coder's backends are its server connections" : 'Coder connections no replica explains', (capacity.unaccounted ?? 0) > 0),
  ];
}

/** Needed beside recommended, in one line: "needs 6, fits 8: set 8", or that no pool max does both. */
function neededMeaning({ needed, fits, doesBoth }: Capacity['demand']): string {
  if (needed === null) return "no replica's in-use connections read yet";
  // One poll (a `check`) has no window yet: what is in use now is all it knows.
  const over = needed.coveredSeconds === 0 ? 'in use at this poll' : `peak in use${needed.waitsRose ? ', +1 for waits,' : ''} over ${formatDuration(needed.coveredSeconds)}`;
  if (doesBoth === null) return `needs ${needed.connections} (${over}); what fits is unknown`;
  if (!doesBoth) return `needs ${needed.connections}, fits ${fits}: no pool max does both (${over})`;
  return `needs ${needed.connections}, fits ${fits}: set ${fits} (${over})`;
}
