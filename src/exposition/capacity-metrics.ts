// The budget: whether the monitor can judge (blind reasons), the margin and the slot
// composition, the replicas it counts, Coder's budget and what is left, and what fits.

import type { SnapshotGauges } from './snapshot-gauges.js';

export function registerCapacityMetrics({ gauge, capacityGauge, phased }: SnapshotGauges): void {
  gauge('blind', (set, r) => {
    for (const reason of r.blind) set({ reason }, 1);
  });
  capacityGauge('margin_capacity_connections', (c) => c.marginCapacity);
  gauge('slots_connections', (set, r) => {
    for (const [part, slots] of Object.entries(r.capacity?.slots.parts ?? {})) set({ part }, slots);
  });
  capacityGauge('other_committed_connections', (c) => c.otherCommitted);
  capacityGauge('coder_available_connections', (c) => c.coderAvailable);
  gauge('replicas', (set, r) => {
    if (!r.capacity) return;
    set({ count: 'observed' }, r.capacity.replicas.observed);
    set({ count: 'planned' }, r.capacity.replicas.planned);
  });
  phased('coder_budget_connections', (c) => c.budget);
  phased('budget_headroom_connections', (c) => c.budgetHeadroom);
  capacityGauge('recommended_pool_max_connections', (c) => c.recommendedPoolMax);
  capacityGauge('max_safe_replicas', (c) => c.maxSafeReplicas);
  capacityGauge('unaccounted_coder_connections', (c) => c.unaccounted);
  capacityGauge('unaccounted_per_replica_connections', (c) => c.unaccountedPerReplica);
}
