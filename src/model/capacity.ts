// The capacity model: pure arithmetic over one Snapshot, in the order of
// docs/capacity-model.md ("The figures") so note and code read side by side.
// No clock, no network, no logging: every figure here is a function of its input.

import { blindReasonsOf, hidesAttribution, hidesBudget, type BlindReason } from './blind.js';
import { outsidePoolPeaks, poolDemand, steadyPerReplicaMultiple, type PoolDemand } from './demand.js';
import { maxConnectionsToFit, type MaxConnectionsFit } from './max-connections-fit.js';
import { otherCommitment, type OtherDeclaration } from './other-budget.js';
import { poolerCapacity, postgresBudget, type Phased, type PoolerCapacity } from './pooler.js';
import { postgresFailureKind } from './postgres-failure.js';
import { replicaExtra, replicaFootprints, unexplainedConnections, type ReplicaFootprint } from './replica-footprints.js';
import { slotComposition, type SlotComposition } from './slots.js';
import type { MaxSurge, PlanSettings, PostgresFacts, ReplicaSample, Snapshot } from './snapshot.js';
import { unbudgetedUse, type UnbudgetedUse } from './unbudgeted.js';

/** Figures past the budget: where slots go unbudgeted, the pool Coder needs, the server size that fits. */
export interface BeyondTheBudget {
  /** Idle-in-transaction sessions, the NOTIFY queue, pool churn (unbudgeted.ts). */
  unbudgeted: UnbudgetedUse;
  /** The pool max Coder needed over the demand window, beside the recommended one (demand.ts). */
  demand: PoolDemand;
  /** The smallest max_connections that fits a rollout, and that keeps the margin; null while the budget is unknown or unbounded. */
  fittingMaxConnections: MaxConnectionsFit | null;
}

/**
 * Derived figures for one snapshot whose PostgreSQL poll succeeded. A figure that a blind
 * reason breaks (see blind.ts) is null: absent on /metrics, "unknown" in every view.
 */
export interface Capacity extends BeyondTheBudget {
  /** A = M - S - R - V */
  available: number;
  reserved: { superuser: number; reserved: number; provider: number };
  /** U: client backends, the monitor's own included. */
  used: number;
  /** Uc; null when Coder's role or database does not exist (nothing can be attributed). */
  coder: number | null;
  /** Uo = U - Uc; null with Uc. */
  other: number | null;
  /** Uo': other applications' declared pools plus their undeclared live connections; = Uo without --other.budget. */
  otherCommitted: number | null;
  /** Each --other.budget declaration and the live connections it covers now. */
  otherDeclarations: OtherDeclaration[];
  /** max(Uo, Uo'): what the budget leaves for other applications. */
  otherBudgeted: number | null;
  /** A - max(Uo, Uo'): the slots left for Coder; null with Uo. */
  coderAvailable: number | null;
  /** A - U */
  headroom: number;
  /** U / A */
  utilization: number;
  replicas: { observed: number; planned: number };
  /** Replicas in the budget that no target showed: planned, or seen only in the replicas table. */
  unseenReplicas: number;
  /** ceil(Np x surge): the pods a rolling update adds. */
  surgePods: number;
  /** floor(Np x unavailable): the old pods it stops at once, still holding their pools. */
  unavailablePods: number;
  /** P: the largest known per-replica pool max (0 = unbounded). */
  largestPoolMax: number;
  /** Each replica as PostgreSQL sees it, and Ei, the extras its budget gives it (replica-footprints.ts). */
  replicaFootprints: (ReplicaFootprint & { extra: number })[];
  /** max Ei (E without replicas): what an unseen or a surge pod is budgeted outside its pool. */
  extraConnections: number;
  unboundedPools: boolean;
  /** null when no replica is configured or found: a budget of 0 would read as a fit. */
  budget: { steady: number; rollout: number } | null;
  /** Bpg: the budget, or with PgBouncer in front min(budget, its server cap for Coder); null while either is unknown. */
  postgresBudget: Phased | null;
  /** The PgBouncer layer (pooler.ts); null without --pgbouncer.url. */
  pooler: PoolerCapacity | null;
  /** A - Uo - Bpg per phase; null when either side is unknown. */
  budgetHeadroom: { steady: number; rollout: number } | null;
  /** Am = floor(A x (1 - m)) */
  marginCapacity: number;
  /** null when there is no replica to divide by, or Uo is unknown. */
  recommendedPoolMax: number | null;
  /** null when the pool max or Uo is unknown. */
  maxSafeReplicas: number | null;
  /** Uc - what the replicas explain (their backends where known, else open + LISTEN); null when nothing explains anything, or Uc is unknown. */
  unaccounted: number | null;
  /**
   * The unaccounted connections no budget covers (beyond the budget of the replicas whose
   * share is unknown): the budget headroom subtracts them as they are now.
   */
  coderBeyondBudget: number;
  /** k when through the demand window the unaccounted stayed k >= 1 per replica up: most likely k more outside each pool. */
  unaccountedPerReplica: number | null;
  /** Where the max_connections slots go, part by part. */
  slots: SlotComposition;
}

/** Everything the model derives from one snapshot: what every view shows. */
export interface Evaluation {
  /** null when PostgreSQL could not be polled: no guessing. */
  capacity: Capacity | null;
  /** Why the monitor cannot judge; empty when it can. */
  blind: BlindReason[];
  /**
   * PostgreSQL has no slot left for an ordinary role: the monitor was refused for that
   * (SQLSTATE 53300), or, with its slot kept, sees headroom 0 or less.
   */
  postgresFull: boolean;
}

/** A = M - S - R - V: the slots an ordinary role can use. */
export function available(pg: PostgresFacts): number {
  return (
    pg.maxConnections - pg.superuserReservedConnections - pg.reservedConnections - pg.providerReservedConnections
  );
}

/** U: every client backend, all databases, the monitor's own connection included. */
export function used(pg: PostgresFacts): number {
  return pg.connections.reduce((sum, group) => sum + group.count, 0);
}

/** Coder's client backends whose pg_stat_activity.state is 'active' (running a statement now). */
export function coderActiveConnections(pg: PostgresFacts): number {
  return pg.connections.reduce((sum, group) => sum + (group.owner === 'coder' && group.state === 'active' ? group.count : 0), 0);
}

/** Uc: client backends attributed to Coder (role, database, optional application_name). */
export function coderConnections(pg: PostgresFacts): number {
  return pg.connections.reduce((sum, group) => sum + (group.owner === 'coder' ? group.count : 0), 0);
}

/**
 * U / A. With no slot available at all, any use is infinite utilization: the alert on
 * it must fire, not divide by zero into silence.
 */
export function utilization(usedConnections: number, availableConnections: number): number {
  if (availableConnections > 0) return usedConnections / availableConnections;
  return usedConnections > 0 ? Number.POSITIVE_INFINITY : 0;
}

/**
 * N: Coder targets discovered this poll, up or not (a replica that cannot be scraped may
 * still hold connections), or the live count in Coder's `replicas` table when that is larger.
 */
export function observedReplicas(snapshot: Snapshot): number {
  const fromDb = snapshot.postgres?.liveReplicasFromDb ?? 0;
  return Math.max(snapshot.replicas.length, fromDb);
}

/** Np = max(N, --coder.replicas). */
export function plannedReplicas(observed: number, plan: PlanSettings): number {
  return Math.max(observed, plan.plannedReplicas ?? 0);
}

/** Pi: the replica's last known pool max, else --coder.pool-max. 0 = unbounded. */
export function replicaPoolMax(replica: ReplicaSample, plan: PlanSettings): number {
  return replica.poolMax ?? plan.defaultPoolMax;
}

/** P: the largest known Pi; unbounded (0) dominates, since it has no largest. */
export function largestPoolMax(replicas: ReplicaSample[], plan: PlanSettings): number {
  if (replicas.length === 0) return plan.defaultPoolMax;
  const maxima = replicas.map((replica) => replicaPoolMax(replica, plan));
  return maxima.includes(0) ? 0 : Math.max(...maxima);
}

/** ceil(Np x surge) for a percentage; the count itself otherwise (Kubernetes rounds maxSurge up). */
export function surgeReplicas(planned: number, surge: MaxSurge): number {
  return surge.kind === 'count' ? surge.value : Math.ceil((planned * surge.value) / 100);
}

/** Per-replica cost in slots: pool max plus the connections outside the pool. Infinite when unbounded. */
function replicaCost(poolMax: number, extra: number): number {
  return poolMax === 0 ? Number.POSITIVE_INFINITY : poolMax + extra;
}

/**
 * B = sum over observed replicas of (Pi + Ei) + (Np - N) x (P + max Ei). `extras` holds
 * each replica's Ei in the order of snapshot.replicas; without it every Ei is E.
 */
export function steadyBudget(snapshot: Snapshot, planned: number, extras: readonly number[] = [], largestExtra = snapshot.plan.extraConnections): number {
  const { plan, replicas } = snapshot;
  const scraped = replicas.reduce(
    (sum, replica, i) => sum + replicaCost(replicaPoolMax(replica, plan), extras[i] ?? plan.extraConnections),
    0,
  );
  const unseen = planned - replicas.length;
  if (unseen <= 0) return scraped;
  return scraped + unseen * replicaCost(largestPoolMax(replicas, plan), largestExtra);
}

/**
 * floor(Np x unavailable) for a percentage; the count itself otherwise (Kubernetes rounds
 * maxUnavailable down). Stopping pods are not counted against maxSurge but hold their pools
 * until they exit, so they are in the rollout budget too.
 */
export function unavailableReplicas(planned: number, unavailable: MaxSurge): number {
  return unavailable.kind === 'count' ? unavailable.value : Math.floor((planned * unavailable.value) / 100);
}

/** The pods a rolling update may run beside the planned ones in one wave: ceil(Np x surge) + floor(Np x unavailable). */
export function rolloutExtraPods(planned: number, plan: PlanSettings): number {
  return surgeReplicas(planned, plan.maxSurge) + unavailableReplicas(planned, plan.maxUnavailable);
}

/** B + (ceil(Np x surge) + floor(Np x unavailable)) x (P + max Ei): the pods a rolling update adds on top. */
export function rolloutBudget(snapshot: Snapshot, steady: number, planned: number, largestExtra = snapshot.plan.extraConnections): number {
  const extraPods = rolloutExtraPods(planned, snapshot.plan);
  if (extraPods === 0) return steady;
  return steady + extraPods * replicaCost(largestPoolMax(snapshot.replicas, snapshot.plan), largestExtra);
}

/** A - max(Uo, Uo') - budget: negative = overcommitted. */
export function budgetHeadroom(availableConnections: number, otherConnections: number, budget: number): number {
  return coderAvailable(availableConnections, otherConnections) - budget;
}

/** A - max(Uo, Uo'): the slots left for Coder once other applications have what they hold or committed. */
export function coderAvailable(availableConnections: number, otherConnections: number): number {
  return availableConnections - otherConnections;
}

/** Am = floor(A x (1 - m)). */
export function marginCapacity(availableConnections: number, safetyMargin: number): number {
  return Math.floor(availableConnections * (1 - safetyMargin));
}

/**
 * floor((Am - max(Uo, Uo')) / (Np + ceil(Np x surge) + floor(Np x unavailable))) - max Ei:
 * the largest per-replica max that fits a rollout with the margin kept. Never below 0: 0
 * says "no pool max fits", since a real pool max of 0 would mean unbounded. null without
 * replicas to share the slots.
 */
export function recommendedPoolMax(
  margin: number,
  otherConnections: number,
  planned: number,
  plan: PlanSettings,
  extra = plan.extraConnections,
): number | null {
  const pods = planned + rolloutExtraPods(planned, plan);
  if (pods === 0) return null;
  return Math.max(0, Math.floor((margin - otherConnections) / pods) - extra);
}

/** floor((Am - max(Uo, Uo')) / (P + E)) at today's pool max, steady. An unbounded pool makes it 0. */
export function maxSafeReplicas(margin: number, otherConnections: number, poolMax: number, extra: number): number {
  const cost = replicaCost(poolMax, extra);
  if (!Number.isFinite(cost)) return 0;
  return Math.max(0, Math.floor((margin - otherConnections) / cost));
}

/** Every figure of the model, or null when PostgreSQL was not polled: no guessing. */
export function computeCapacity(snapshot: Snapshot): Capacity | null {
  return evaluate(snapshot).capacity;
}

/** The capacity figures, the blind reasons and whether PostgreSQL is full, for one snapshot. */
export function evaluate(snapshot: Snapshot): Evaluation {
  const pg = snapshot.postgres;
  if (pg === null) {
    return {
      capacity: null,
      blind: blindReasonsOf(snapshot, null),
      postgresFull: snapshot.postgresFailure !== null && postgresFailureKind(snapshot.postgresFailure.code) === 'full',
    };
  }
  const { plan } = snapshot;
  // A standby: only its own settings stand; no figure of Coder's is derived from it.
  if (pg.inRecovery) return { capacity: null, blind: blindReasonsOf(snapshot, null), postgresFull: false };

  const A = available(pg);
  const U = used(pg);
  const N = observedReplicas(snapshot);
  const Np = plannedReplicas(N, plan);
  const P = largestPoolMax(snapshot.replicas, plan);
  const Am = marginCapacity(A, plan.safetyMargin);

  // Each replica as PostgreSQL sees it, and Ei: the most it held outside its pool over the
  // demand window, never less than --coder.extra-connections.
  const footprints = replicaFootprints(pg, snapshot.replicas, Boolean(snapshot.pooler));
  const peaks = outsidePoolPeaks(snapshot.demand);
  const extras = footprints.map((footprint) => replicaExtra(plan.extraConnections, peaks.get(footprint.replica) ?? footprint.outsidePool));
  const E = Math.max(plan.extraConnections, ...extras);

  // Blindness first: it decides which figures exist. Unaccounted needs only Uc and the replicas.
  const UcSeen = coderConnections(pg);
  const attributable = pg.coderRole !== null && pg.coderDatabase !== null;
  // Behind PgBouncer, Coder's backends are the pooler's server connections, not the replicas'
  // open connections: the two do not compare, so unaccounted (and its mismatch) is absent.
  const unaccounted = attributable && !snapshot.pooler ? unexplainedConnections(UcSeen, snapshot.replicas, footprints) : null;
  const blind = blindReasonsOf(snapshot, unaccounted);

  const Uc = hidesAttribution(blind) ? null : UcSeen;
  const UoLive = Uc === null ? null : U - Uc;
  const commitment = Uc === null ? null : otherCommitment(pg, plan.otherBudgets);
  // What the budget leaves room for: the declared pools, or what they hold when that is more.
  const Uo = UoLive === null || commitment === null ? null : Math.max(UoLive, commitment.committed);
  const steady = hidesBudget(blind) ? null : steadyBudget(snapshot, Np, extras, E);
  const budget = steady === null ? null : { steady, rollout: rolloutBudget(snapshot, steady, Np, E) };
  // Unaccounted connections could be the down replicas' whose backends are unknown: their
  // budget covers that much. What is beyond it holds slots no budget counts.
  const uncoveredShare = snapshot.replicas.reduce(
    (sum, replica, i) => sum + (replica.up || footprints[i]?.backends != null ? 0 : replicaCost(replicaPoolMax(replica, plan), extras[i] ?? E)),
    0,
  );
  const beyondBudget = Uc === null || unaccounted === null ? 0 : Math.max(0, unaccounted - uncoveredShare);
  const forCoder = Uo === null ? null : coderAvailable(A, Uo);
  const pooler = snapshot.pooler ? poolerCapacity(snapshot.pooler, budget, forCoder) : null;
  // What reaches PostgreSQL: the pooler caps, but does not multiply, Coder's connections.
  const Bpg = budget === null || pooler === null ? budget : pooler.serverCap === null ? null : postgresBudget(budget, pooler.serverCap);
  const headroom = A - U;

  const figures: Omit<Capacity, keyof BeyondTheBudget> = {
    available: A,
    reserved: {
      superuser: pg.superuserReservedConnections,
      reserved: pg.reservedConnections,
      provider: pg.providerReservedConnections,
    },
    used: U,
    coder: Uc,
    other: UoLive,
    otherCommitted: commitment?.committed ?? null,
    otherDeclarations: commitment?.declarations ?? [],
    otherBudgeted: Uo,
    coderAvailable: forCoder,
    headroom,
    utilization: utilization(U, A),
    replicas: { observed: N, planned: Np },
    unseenReplicas: Math.max(0, Np - snapshot.replicas.length),
    surgePods: surgeReplicas(Np, plan.maxSurge),
    unavailablePods: unavailableReplicas(Np, plan.maxUnavailable),
    largestPoolMax: P,
    replicaFootprints: footprints.map((footprint, i) => ({ ...footprint, extra: extras[i] ?? E })),
    extraConnections: E,
    unboundedPools: budget !== null && !Number.isFinite(budget.steady),
    budget,
    postgresBudget: Bpg,
    pooler,
    budgetHeadroom:
      Bpg === null || Uo === null
        ? null
        : { steady: budgetHeadroom(A, Uo, Bpg.steady) - beyondBudget, rollout: budgetHeadroom(A, Uo, Bpg.rollout) - beyondBudget },
    marginCapacity: Am,
    recommendedPoolMax: Uo === null || hidesBudget(blind) ? null : recommendedPoolMax(Am, Uo + beyondBudget, Np, plan, E),
    maxSafeReplicas: Uo === null || hidesBudget(blind) ? null : maxSafeReplicas(Am, Uo + beyondBudget, P, E),
    unaccounted: Uc === null ? null : unaccounted,
    coderBeyondBudget: beyondBudget,
    unaccountedPerReplica: Uc === null || unaccounted === null ? null : steadyPerReplicaMultiple(snapshot.demand),
    slots: slotComposition({
      maxConnections: pg.maxConnections,
      reserved: { superuser: pg.superuserReservedConnections, reserved: pg.reservedConnections, provider: pg.providerReservedConnections },
      other: UoLive,
      otherCommitted: Uo,
      coderActive: Uc === null ? null : coderActiveConnections(pg),
      coder: Uc,
      headroom,
      budget: Bpg,
    }),
  };
  const capacity: Capacity = { ...figures, ...beyondTheBudget(snapshot, figures) };
  return { capacity, blind, postgresFull: headroom <= 0 };
}

/** The figures of BeyondTheBudget, from the snapshot and the budget's figures. */
function beyondTheBudget(snapshot: Snapshot, figures: Omit<Capacity, keyof BeyondTheBudget>): BeyondTheBudget {
  const { plan } = snapshot;
  const { budget, otherBudgeted, recommendedPoolMax: recommended, reserved } = figures;
  const { planned } = figures.replicas;
  const fit =
    budget === null || otherBudgeted === null || recommended === null
      ? null
      : maxConnectionsToFit({
          reservedSlots: reserved.superuser + reserved.reserved + reserved.provider,
          other: otherBudgeted + figures.coderBeyondBudget,
          rolloutBudget: budget.rollout,
          largestPoolMax: figures.largestPoolMax,
          recommendedAt: (slots) => recommendedPoolMax(marginCapacity(slots, plan.safetyMargin), otherBudgeted + figures.coderBeyondBudget, planned, plan, figures.extraConnections),
        });
  return { unbudgeted: unbudgetedUse(snapshot), demand: poolDemand(snapshot.demand, recommended), fittingMaxConnections: fit };
}
