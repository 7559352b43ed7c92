// Each replica as PostgreSQL sees it: Coder's backends from the replica's own address (a
// pod's IP, where pod IPs reach PostgreSQL), and what it holds outside its pool (the LISTEN,
// a chat batch sender, whatever its release opens), measured instead of assumed. Where an
// address is shared or unknown the figure is absent, never guessed, and the connections no
// replica explains are counted against the budget as they are.

import type { DemandSample } from './demand.js';
import type { PostgresFacts, ReplicaSample } from './snapshot.js';

/** Why a replica's backends cannot be told apart from the others'. */
export type FootprintGap =
  /** The target's address is not known (a name never reached). */
  | 'address_unknown'
  /** Two replicas appear from one address (SNAT, a proxy, two targets on one host). */
  | 'address_shared'
  /** No Coder backend comes from the replica's address: its connections come through another one. */
  | 'no_backends_at_address'
  /** PgBouncer is between Coder and PostgreSQL: every backend comes from the pooler. */
  | 'behind_pooler'
  /** The monitor's role lacks pg_read_all_stats: PostgreSQL hides other roles' client_addr. */
  | 'addresses_hidden';

export interface ReplicaFootprint {
  replica: string;
  /** Its pod name, from Coder's replicas table (--coder.replicas-from-db) where a row's relay address has its address. */
  hostname: string | null;
  /** The address its backends come from: its own, or for a target on localhost (a sidecar's coderd) the monitor's. */
  address: string | null;
  /** Fi: Coder's backends from that address; null when `gap` says why not. */
  backends: number | null;
  /** Oi = Fi - go_sql_open_connections: what it holds outside its pool; null when either is unknown. */
  outsidePool: number | null;
  gap: FootprintGap | null;
}

const LOCALHOST = new Set(['127.0.0.1', '::1']);

/**
 * The address PostgreSQL sees a replica's backends from. A target on localhost runs in the
 * monitor's own network namespace (the sidecar beside its coderd), so its backends come
 * from the address the monitor's own backend comes from.
 */
function seenFrom(replica: ReplicaSample, monitorAddress: string | null): string | null {
  if (replica.address !== null && LOCALHOST.has(replica.address)) return monitorAddress ?? replica.address;
  return replica.address;
}

export function replicaFootprints(pg: PostgresFacts, replicas: readonly ReplicaSample[], behindPooler: boolean): ReplicaFootprint[] {
  const addresses = replicas.map((replica) => seenFrom(replica, pg.monitorAddress));
  const replicasAt = new Map<string, number>();
  for (const address of addresses) if (address !== null) replicasAt.set(address, (replicasAt.get(address) ?? 0) + 1);
  const backendsAt = new Map(pg.coderAddresses.flatMap(({ address, count }) => (address === null ? [] : [[address, count] as const])));
  const hidden = !pg.privilegesSufficient && pg.session.user !== pg.coderRole?.name;

  return replicas.map((replica, i) => {
    const address = addresses[i] ?? null;
    const gap: FootprintGap | null = behindPooler
      ? 'behind_pooler'
      : hidden
        ? 'addresses_hidden'
        : address === null
          ? 'address_unknown'
          : (replicasAt.get(address) ?? 0) > 1
            ? 'address_shared'
            : (backendsAt.get(address) ?? 0) === 0
              ? 'no_backends_at_address'
              : null;
    const backends = gap === null && address !== null ? (backendsAt.get(address) ?? 0) : null;
    const outsidePool = backends !== null && replica.up && replica.open !== null ? backends - replica.open : null;
    return { replica: replica.replica, hostname: hostnameAt(pg, address ?? replica.address), address, backends, outsidePool, gap };
  });
}

/** The hostname of the replicas-table row whose relay address (http://<pod IP>:<port>) is at `address`. */
function hostnameAt(pg: PostgresFacts, address: string | null): string | null {
  if (address === null) return null;
  const row = (pg.replicaRows ?? []).find((candidate) => relayHost(candidate.relayAddress) === address);
  return row?.hostname ?? null;
}

function relayHost(relayAddress: string): string | null {
  try {
    return new URL(relayAddress).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return null;
  }
}

/**
 * What the replicas explain of Coder's connections: each replica's backends where they are
 * known, else its open connections plus its LISTEN while it is up. null when nothing
 * explains anything (no replica up and no backends attributed).
 */
export function explainedConnections(replicas: readonly ReplicaSample[], footprints: readonly ReplicaFootprint[]): number | null {
  let explained = 0;
  let known = false;
  replicas.forEach((replica, i) => {
    const backends = footprints[i]?.backends ?? null;
    if (backends !== null) {
      explained += backends;
      known = true;
    } else if (replica.up) {
      explained += (replica.open ?? 0) + (replica.pubsubConnected ?? 0);
      known = true;
    }
  });
  return known ? explained : null;
}

/**
 * k when the unexplained connections are a whole multiple k >= 1 of the replicas up: most
 * likely k connections per replica outside its pool that the budget does not count; 0 when
 * nothing is unexplained; null otherwise (not a multiple, or nothing to divide by).
 */
export function perReplicaMultiple(unexplained: number | null, replicasUp: number): number | null {
  if (unexplained === null) return null;
  if (unexplained === 0) return 0;
  if (unexplained < 0 || replicasUp === 0 || unexplained % replicasUp !== 0) return null;
  return unexplained / replicasUp;
}

/** Ei = max(E, the most it was seen holding outside its pool over the window): the extras the budget gives the replica. */
export function replicaExtra(configured: number, peakOutsidePool: number | null): number {
  return Math.max(configured, peakOutsidePool ?? 0);
}

/** Uc - what the replicas explain; null when nothing explains anything. */
export function unexplainedConnections(coder: number, replicas: readonly ReplicaSample[], footprints: readonly ReplicaFootprint[]): number | null {
  const explained = explainedConnections(replicas, footprints);
  return explained === null ? null : coder - explained;
}

/**
 * This poll's replicas as the demand window takes them (in use, waits, and what each held
 * outside its pool), and the unexplained connections per replica up: the window keeps the
 * peaks that the budget's Ei and the "k per replica" finding read.
 */
export function footprintObservation(
  pg: PostgresFacts | null,
  replicas: readonly ReplicaSample[],
  behindPooler: boolean,
): { samples: DemandSample[]; multiple: number | null } {
  const footprints = pg === null ? [] : replicaFootprints(pg, replicas, behindPooler);
  const samples = replicas.map((replica, i) => ({ replica: replica.replica, inUse: replica.inUse, waitCount: replica.waitCount, outsidePool: footprints[i]?.outsidePool ?? null }));
  if (pg === null || behindPooler) return { samples, multiple: null };
  // Coder's backends are exactly those the per-address counts add up to.
  const coder = pg.coderAddresses.reduce((sum, { count }) => sum + count, 0);
  const up = replicas.filter((replica) => replica.up).length;
  return { samples, multiple: perReplicaMultiple(unexplainedConnections(coder, replicas, footprints), up) };
}
