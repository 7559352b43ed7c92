// The findings about each replica as PostgreSQL and Coder itself see it: connections
// outside the pools that the budget does not count yet, replicas whose backends cannot be
// told apart (and why), a replica that lost its pubsub LISTEN, and a replica whose own
// round trip to PostgreSQL (Coder's replicas table) is slow.

import type { Capacity } from './capacity.js';
import type { Finding } from './finding.js';
import type { FootprintGap } from './replica-footprints.js';
import type { Snapshot } from './snapshot.js';
import { thresholds } from './thresholds.js';
import { plural } from './wording.js';

/** Why a replica's backends cannot be told apart, in the operator's words. */
const gapWording: Record<FootprintGap, string> = {
  address_unknown: 'its address is not known yet (a target name that never answered)',
  address_shared: 'another replica appears from the same address (SNAT, a proxy, two targets on one host)',
  no_backends_at_address:
    "no Coder backend comes from its address: its connections reach PostgreSQL from another one (SNAT on the way out of the cluster, a Cloud SQL Auth Proxy)",
  behind_pooler: "PgBouncer is between Coder and PostgreSQL: every backend is the pooler's",
  addresses_hidden: "the monitor's role lacks pg_read_all_stats (GRANT pg_monitor), so PostgreSQL hides other roles' client_addr",
};

function formatMs(seconds: number): string {
  return `${(seconds * 1000).toFixed(1)} ms`;
}

export function footprintFindings(snapshot: Snapshot, capacity: Capacity): Finding[] {
  const findings: Finding[] = [];
  const E = snapshot.plan.extraConnections;
  const k = capacity.unaccountedPerReplica;
  if (k !== null && capacity.unaccounted !== null) {
    const up = snapshot.replicas.filter((replica) => replica.up).length;
    findings.push({
      id: 'extra-connections-unbudgeted',
      severity: 'warning',
      title: `Each replica holds ${plural(k, 'more connection')} outside its pool than the budget counts`,
      detail: `PostgreSQL shows ${capacity.unaccounted} Coder connections that no replica explains, ${k} for each of the ${up} replicas up, at every poll of the window: most likely a connection each release opens outside its pool (the chat pubsub's batch sender holds one). Set --coder.extra-connections ${E + k} (CAPACITY_CODER_EXTRA_CONNECTIONS) so that the budget and the recommended pool max count them; meanwhile the budget headroom subtracts them as they are.`,
    });
  }

  // An unknown address is a target that never answered: the replicas-down finding says so.
  const unknown = capacity.replicaFootprints.filter((footprint) => footprint.gap !== null && footprint.gap !== 'address_unknown');
  if (unknown.length > 0 && !snapshot.pooler) {
    const byGap = new Map<FootprintGap, string[]>();
    for (const { gap, replica } of unknown) if (gap !== null) byGap.set(gap, [...(byGap.get(gap) ?? []), replica]);
    const reasons = [...byGap].map(([gap, replicas]) => `${replicas.join(', ')}: ${gapWording[gap]}`).join('; ');
    findings.push({
      id: 'replica-footprints-unknown',
      severity: 'notice',
      title: `PostgreSQL cannot tell ${plural(unknown.length, "replica's", "replicas'")} connections apart`,
      detail: `${reasons}. Their backends and what they hold outside the pool are not shown, and the budget gives each --coder.extra-connections (${E}) outside its pool; connections no replica explains count against the budget headroom.`,
    });
  }

  const listenLost = snapshot.replicas.filter((replica) => replica.up && replica.pubsubConnected === 0);
  if (listenLost.length > 0) {
    findings.push({
      id: 'pubsub-disconnected',
      severity: 'warning',
      title: `${plural(listenLost.length, 'replica')} lost ${listenLost.length === 1 ? 'its' : 'their'} pubsub LISTEN connection`,
      detail: `${listenLost.map((replica) => replica.replica).join(', ')} ${listenLost.length === 1 ? 'reports' : 'report'} coder_pubsub_connected 0: workspace and build events stop reaching ${listenLost.length === 1 ? 'it' : 'them'}, and coderd exits after 5 minutes without a pubsub heartbeat. ${listenLost.length === 1 ? 'It stays' : 'They stay'} budgeted (it reconnects); check PostgreSQL's log for terminated connections and the replica's log for pubsub errors.`,
    });
  }

  const slow = (snapshot.postgres?.replicaRows ?? []).filter((row) => row.databaseLatencySeconds > thresholds.replicaDatabaseLatencySeconds);
  if (slow.length > 0) {
    findings.push({
      id: 'replica-latency-high',
      severity: 'warning',
      title: `${plural(slow.length, "replica's own round trip", "replicas' own round trips")} to PostgreSQL ${slow.length === 1 ? 'is' : 'are'} above ${formatMs(thresholds.replicaDatabaseLatencySeconds)}`,
      detail: `${slow.map((row) => `${row.hostname} ${formatMs(row.databaseLatencySeconds)}`).join(', ')} (Coder's replicas table, database_latency). Coder runs many queries one after another per request, so each pays it many times over: Coder's validated architectures ask for under 10 ms between coderd and PostgreSQL (same zone), and its health check warns at 15 ms.`,
    });
  }
  return findings;
}
