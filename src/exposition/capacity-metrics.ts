// The budget: whether the monitor can judge (blind reasons), the margin and the slot
// composition, the replicas it counts, Coder's budget and what is left, and what fits.

import type { SnapshotGauges } from './snapshot-gauges.js';

export function registerCapacityMetrics({ gauge, capacityGauge, phased }: SnapshotGauges): void {
  gauge('blind', 'Why the monitor cannot judge whether Coder fits: 1 per reason present (no_replicas_configured, no_replicas_found, replicas_table_unreadable, coder_role_missing, coder_database_missing, coder_connections_mismatch, pgbouncer_unreadable).', ['reason'], (set, r) => {
    for (const reason of r.blind) set({ reason }, 1);
  });
  capacityGauge('margin_capacity_connections', 'Slots left for Coder and other applications once the safety margin is kept: Am = floor(A x (1 - --capacity.safety-margin)).', (c) => c.marginCapacity);
  gauge('slots_connections', "Where max_connections goes, by part: superuser_reserved, reserved, provider, other, coder_active and coder_idle (PostgreSQL's state), coder_unopened (budget not yet open), free, and overcommit (the steady budget past the last slot). A part that cannot be known is absent.", ['part'], (set, r) => {
    for (const [part, slots] of Object.entries(r.capacity?.slots.parts ?? {})) set({ part }, slots);
  });
  // `count`, not `source`: on poll_errors_total and source_up, `source` names a source.
  capacityGauge('other_committed_connections', "Other applications' committed connections Uo': their --other.budget pools plus undeclared live connections (= other_connections without declarations); the budget leaves room for the larger of the two.", (c) => c.otherCommitted);
  gauge('replicas', 'Coder replicas: observed (discovered this poll, up or not, or live in the replicas table) and planned (max of observed and --coder.replicas).', ['count'], (set, r) => {
    if (!r.capacity) return;
    set({ count: 'observed' }, r.capacity.replicas.observed);
    set({ count: 'planned' }, r.capacity.replicas.planned);
  });
  phased('coder_budget_connections', 'Slots Coder may take at its pool maxima: steady, and during a rolling update (+Inf when a pool is unbounded); absent while no replica is known.', (c) => c.budget);
  phased('budget_headroom_connections', "A - max(Uo, Uo') - postgres_budget_connections per phase (Coder's budget, or behind PgBouncer what it lets through); negative = overcommitted.", (c) => c.budgetHeadroom);
  capacityGauge('recommended_pool_max_connections', 'The largest per-replica pool max that fits a rolling update with the safety margin kept (0 = none fits).', (c) => c.recommendedPoolMax);
  capacityGauge('max_safe_replicas', 'How many replicas fit at the current pool max, steady, with the safety margin kept.', (c) => c.maxSafeReplicas);
  capacityGauge('unaccounted_coder_connections', "Coder connections no scraped replica explains (a replica not scraped, or a leak).", (c) => c.unaccounted);
}
