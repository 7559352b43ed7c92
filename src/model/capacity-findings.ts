// The findings about the slots themselves: pools without a maximum, a safety margin not
// kept, PostgreSQL filling up or full, stale --other.budget declarations and Coder
// connections no replica explains. The utilization steps are the alerts' (thresholds.ts).

import { replicaPoolMax, type Capacity } from './capacity.js';
import type { Finding } from './finding.js';
import type { Snapshot } from './snapshot.js';
import { thresholds } from './thresholds.js';
import { formatPercent, plural } from './wording.js';

export function capacityFindings(snapshot: Snapshot, capacity: Capacity, postgresFull: boolean): Finding[] {
  const findings: Finding[] = [];
  const margin = `${Math.round(snapshot.plan.safetyMargin * 100)}%`;
  if (capacity.unboundedPools) {
    const unbounded = snapshot.replicas.filter((replica) => replicaPoolMax(replica, snapshot.plan) === 0).map((replica) => replica.replica);
    const where = unbounded.length > 0 ? unbounded.join(', ') : 'the planned replicas (--coder.pool-max 0)';
    findings.push({
      id: 'unbounded-pools',
      severity: 'critical',
      title: 'Unbounded connection pools',
      detail: `go_sql_max_open_connections is 0 (no limit) on ${where}: under load such a replica opens connections until PostgreSQL refuses them. Set CODER_PG_CONN_MAX_OPEN.`,
    });
  }
  const { recommendedPoolMax, largestPoolMax, maxSafeReplicas, budgetHeadroom } = capacity;
  if (
    budgetHeadroom !== null &&
    budgetHeadroom.rollout >= 0 &&
    recommendedPoolMax !== null &&
    maxSafeReplicas !== null &&
    largestPoolMax > 0 &&
    recommendedPoolMax < largestPoolMax
  ) {
    findings.push({
      id: 'margin-not-kept',
      severity: 'warning',
      title: `The ${margin} safety margin is not kept`,
      detail: `A rollout fits, but with ${margin} of the slots kept spare the largest pool max is ${recommendedPoolMax}, not ${largestPoolMax}; at pool max ${largestPoolMax} at most ${plural(maxSafeReplicas, 'replica')} keep the margin.`,
    });
  }
  if (postgresFull) {
    findings.push({
      id: 'postgres-full',
      severity: 'critical',
      title: 'PostgreSQL is full',
      detail: `${capacity.used} of ${capacity.available} available slots are in use (headroom ${capacity.headroom}): new connections of ordinary roles are refused.`,
    });
  } else if (capacity.utilization > thresholds.utilizationWarning) {
    // The same two steps as CoderPostgresConnectionsHigh: warning above 80%, critical above 90%.
    const critical = capacity.utilization > thresholds.utilizationCritical;
    findings.push({
      id: 'utilization-high',
      severity: critical ? 'critical' : 'warning',
      title: critical ? 'PostgreSQL is almost full' : 'PostgreSQL is filling up',
      detail: `${capacity.used} of ${capacity.available} available slots are in use (${formatPercent(capacity.utilization)}, above ${formatPercent(critical ? thresholds.utilizationCritical : thresholds.utilizationWarning)}).`,
    });
  }
  for (const declaration of capacity.otherDeclarations.filter((d) => d.live > d.budget)) {
    findings.push({
      id: 'other-budget-stale',
      severity: 'warning',
      title: `--other.budget ${declaration.text} is stale`,
      detail: `${declaration.text} holds ${declaration.live} connections, more than the ${declaration.budget} declared: the budget counts the ${declaration.live} it holds, but the declaration no longer says what it may open. Raise it to its real pool size.`,
    });
  }
  // A steady k per replica has its own finding (footprint-findings.ts), with the flag to set.
  if (capacity.unaccounted !== null && capacity.unaccounted > 0 && capacity.unaccountedPerReplica === null) {
    findings.push({
      id: 'unaccounted-connections',
      severity: 'notice',
      title: 'Unaccounted Coder connections',
      detail: `${plural(capacity.unaccounted, 'Coder connection')} that no replica explains: a replica that cannot be scraped, one missing from --coder.targets, a replica starting up, or another program using Coder's role. ${capacity.coderBeyondBudget > 0 ? `The budget headroom counts the ${capacity.coderBeyondBudget} that no replica's budget covers.` : "They fit within the budget of the replicas that cannot be scraped."}`,
    });
  }
  return findings;
}
