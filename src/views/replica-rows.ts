// Each Coder replica's pool and what PostgreSQL sees it hold, as a row of text for the
// status page and `check`; the replicas that are only planned (--coder.replicas above the
// observed count); and Coder's own replicas table.

import type { Capacity } from '../model/capacity.js';
import { replicaPoolMax } from '../model/capacity.js';
import type { Snapshot } from '../model/snapshot.js';
import { thresholds } from '../model/thresholds.js';

export interface ReplicaRow {
  replica: string;
  /** Its pod name from Coder's replicas table, when matched by address. */
  hostname: string | null;
  up: boolean;
  poolMax: string;
  open: string;
  inUse: string;
  idle: string;
  waits: string;
  /** Its backends as PostgreSQL sees them, from its address; '–' where the address does not tell. */
  backends: string;
  outsidePool: string;
  /** Ei: the connections outside its pool that the budget gives it. */
  extra: string;
}

/** One live row of Coder's replicas table as people read it. */
export interface CoderTableRow {
  hostname: string;
  version: string;
  latency: string;
  slow: boolean;
  error: string;
}

const unknown = '–';

function count(value: number | null): string {
  return value === null ? unknown : String(value);
}

export function replicaRows(snapshot: Snapshot, capacity: Capacity | null): ReplicaRow[] {
  const footprints = new Map((capacity?.replicaFootprints ?? []).map((footprint) => [footprint.replica, footprint]));
  return snapshot.replicas.map((replica) => {
    const footprint = footprints.get(replica.replica);
    const poolMax = replicaPoolMax(replica, snapshot.plan);
    const reported = replica.poolMax !== null;
    const waits =
      replica.waitCount === null
        ? unknown
        : replica.waitCount === 0
          ? '0'
          : `${replica.waitCount} (${(replica.waitDurationSeconds ?? 0).toFixed(1)} s)`;
    return {
      replica: replica.replica,
      hostname: footprint?.hostname ?? null,
      up: replica.up,
      poolMax: `${poolMax === 0 ? 'unbounded' : poolMax}${reported ? '' : ' (assumed)'}`,
      open: count(replica.open),
      inUse: count(replica.inUse),
      idle: count(replica.idle),
      waits,
      backends: count(footprint?.backends ?? null),
      outsidePool: count(footprint?.outsidePool ?? null),
      extra: footprint ? String(footprint.extra) : unknown,
    };
  });
}

/** Coder's own view of its replicas (--coder.replicas-from-db): version, its own latency to PostgreSQL, its error. */
export function coderTableRows(snapshot: Snapshot): CoderTableRow[] {
  return (snapshot.postgres?.replicaRows ?? []).map((row) => ({
    hostname: row.hostname,
    version: row.version,
    latency: `${(row.databaseLatencySeconds * 1000).toFixed(1)} ms`,
    slow: row.databaseLatencySeconds > thresholds.replicaDatabaseLatencySeconds,
    error: row.error,
  }));
}

/** Replicas counted in the budget that no target showed: planned, or seen only in Coder's replicas table. */
export function plannedOnly(snapshot: Snapshot, capacity: Capacity | null): { count: number; poolMax: number; text: string } | null {
  if (!capacity) return null;
  const extra = capacity.unseenReplicas;
  if (extra <= 0) return null;
  const poolMax = capacity.largestPoolMax === 0 ? 'unbounded' : String(capacity.largestPoolMax);
  const replicas = extra === 1 ? 'replica' : 'replicas';
  const text =
    snapshot.plan.plannedReplicas === capacity.replicas.planned
      ? `+ ${extra} planned ${replicas} (--coder.replicas), budgeted at pool max ${poolMax}`
      : `+ ${extra} ${replicas} in Coder's replicas table but not scraped, budgeted at pool max ${poolMax}`;
  return { count: extra, poolMax: capacity.largestPoolMax, text };
}
