// Each Coder replica's pool as a row of text, for the status page and `check`; plus the
// replicas that are only planned (--coder.replicas above the observed count).

import type { Capacity } from '../model/capacity.js';
import { replicaPoolMax } from '../model/capacity.js';
import type { Snapshot } from '../model/snapshot.js';

export interface ReplicaRow {
  replica: string;
  up: boolean;
  poolMax: string;
  open: string;
  inUse: string;
  idle: string;
  waits: string;
}

const unknown = '–';

function count(value: number | null): string {
  return value === null ? unknown : String(value);
}

export function replicaRows(snapshot: Snapshot): ReplicaRow[] {
  return snapshot.replicas.map((replica) => {
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
      up: replica.up,
      poolMax: `${poolMax === 0 ? 'unbounded' : poolMax}${reported ? '' : ' (assumed)'}`,
      open: count(replica.open),
      inUse: count(replica.inUse),
      idle: count(replica.idle),
      waits,
    };
  });
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
