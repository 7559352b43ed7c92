import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeCapacity, surgeReplicas, unavailableReplicas, type Capacity } from '../../src/model/capacity.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { group, plan, postgres, replica, snapshot } from '../support/snapshots.js';

function capacityOf(input: Snapshot): Capacity {
  const capacity = computeCapacity(input);
  if (!capacity) throw new Error('expected a capacity');
  return capacity;
}

describe('the capacity model on the reference scenario', () => {
  // max_connections 60, three replicas at pool max 20 holding 5 + 1 each, 7 other, 1 monitor.
  const capacity = capacityOf(snapshot());

  it('counts 57 available slots: 60 less 3 for superusers', () => {
    expect(capacity.available).toBe(57);
  });

  it('attributes 18 connections to Coder and 8 to others, the monitor included', () => {
    expect(capacity.coder).toBe(18);
    expect(capacity.other).toBe(8);
    expect(capacity.used).toBe(26);
  });

  it('leaves 31 slots of live headroom at 46% utilization', () => {
    expect(capacity.headroom).toBe(31);
    expect(capacity.utilization).toBeCloseTo(26 / 57, 10);
  });

  it('budgets 63 connections steady and 84 during a rollout', () => {
    expect(capacity.budget).toEqual({ steady: 63, rollout: 84 });
  });

  it('is overcommitted by 14 steady and 35 during a rollout', () => {
    expect(capacity.budgetHeadroom).toEqual({ steady: -14, rollout: -35 });
  });

  it('recommends pool max 8 and at most 1 replica at today\'s pool max', () => {
    expect(capacity.marginCapacity).toBe(45);
    expect(capacity.recommendedPoolMax).toBe(8);
    expect(capacity.maxSafeReplicas).toBe(1);
  });

  it('explains every Coder connection by the scraped replicas', () => {
    expect(capacity.unaccounted).toBe(0);
  });
});

describe('the capacity model, case by case', () => {
  it('derives nothing while PostgreSQL is down', () => {
    expect(computeCapacity(snapshot({ postgres: null }))).toBeNull();
  });

  it('subtracts reserved_connections and the provider reservation from what is available', () => {
    const capacity = capacityOf(snapshot({ postgres: postgres({ reservedConnections: 2, providerReservedConnections: 2 }) }));
    expect(capacity.available).toBe(53);
  });

  it('a replica that stops answering keeps its budget and its connections turn unaccounted', () => {
    const hung = replica('c', { up: false, open: null, inUse: null, idle: null, pubsubConnected: null, poolMax: 20 });
    const capacity = capacityOf(snapshot({ replicas: [replica('a'), replica('b'), hung] }));
    expect(capacity.budget!.steady).toBe(63);
    expect(capacity.unaccounted).toBe(6);
  });

  it('a replica never scraped counts at --coder.pool-max', () => {
    const unknown = replica('c', { up: false, poolMax: null, open: null, pubsubConnected: null });
    const capacity = capacityOf(snapshot({ replicas: [replica('a'), replica('b'), unknown], plan: plan({ defaultPoolMax: 10 }) }));
    expect(capacity.budget!.steady).toBe(21 + 21 + 11);
  });

  it('planned replicas beyond those observed count at the largest known pool max', () => {
    const capacity = capacityOf(snapshot({ plan: plan({ plannedReplicas: 5 }) }));
    expect(capacity.replicas).toEqual({ observed: 3, planned: 5 });
    expect(capacity.budget!.steady).toBe(5 * 21);
    // ceil(5 x 25%) = 2 surge pods, floor(5 x 25%) = 1 stopping pod
    expect(capacity.budget!.rollout).toBe(8 * 21);
  });

  it('a planned count below the observed one changes nothing', () => {
    expect(capacityOf(snapshot({ plan: plan({ plannedReplicas: 1 }) })).replicas.planned).toBe(3);
  });

  it('counts live replicas from Coder\'s replicas table when that is the larger count', () => {
    const capacity = capacityOf(snapshot({ postgres: postgres({ liveReplicasFromDb: 4 }), replicas: [replica('a')] }));
    expect(capacity.replicas.observed).toBe(4);
    expect(capacity.budget!.steady).toBe(4 * 21);
  });

  it('an unbounded pool makes the budget infinite and its headroom -Inf', () => {
    const capacity = capacityOf(snapshot({ replicas: [replica('a'), replica('b', { poolMax: 0 })] }));
    expect(capacity.unboundedPools).toBe(true);
    expect(capacity.budget!.steady).toBe(Number.POSITIVE_INFINITY);
    expect(capacity.budgetHeadroom!.steady).toBe(Number.NEGATIVE_INFINITY);
    expect(capacity.budgetHeadroom!.rollout).toBe(Number.NEGATIVE_INFINITY);
    expect(capacity.maxSafeReplicas).toBe(0);
  });

  it('a max surge given as a count adds that many pods', () => {
    const capacity = capacityOf(snapshot({ plan: plan({ maxSurge: { kind: 'count', value: 2 } }) }));
    expect(capacity.budget!.rollout).toBe(63 + 2 * 21);
  });

  it('rounds a percentage max surge up, as Kubernetes does', () => {
    expect(surgeReplicas(3, { kind: 'percent', value: 25 })).toBe(1);
    expect(surgeReplicas(4, { kind: 'percent', value: 25 })).toBe(1);
    expect(surgeReplicas(5, { kind: 'percent', value: 25 })).toBe(2);
    expect(surgeReplicas(0, { kind: 'percent', value: 25 })).toBe(0);
  });

  it('8 planned replicas at pool max 10 with 25% surge and 25% unavailable budget 132 for a rollout: 8 × 11 + (2 + 2) × 11', () => {
    const capacity = capacityOf(snapshot({ replicas: [], plan: plan({ plannedReplicas: 8, defaultPoolMax: 10 }) }));
    expect(capacity.budget).toEqual({ steady: 88, rollout: 132 });
    expect([capacity.surgePods, capacity.unavailablePods]).toEqual([2, 2]);
  });

  it('rounds a percentage max unavailable down, as Kubernetes does: 3 replicas at 25% stop none at once', () => {
    expect(unavailableReplicas(3, { kind: 'percent', value: 25 })).toBe(0);
    expect(unavailableReplicas(4, { kind: 'percent', value: 25 })).toBe(1);
    expect(unavailableReplicas(7, { kind: 'percent', value: 25 })).toBe(1);
    expect(unavailableReplicas(3, { kind: 'count', value: 2 })).toBe(2);
  });

  it("--other.budget etl=30 with 4 live etl connections and the monitor commits 31 other slots, and the budget leaves room for them", () => {
    const pg = postgres({ connections: [group('coder', 18), group('other', 4, { role: 'etl', database: 'warehouse' }), group('monitor', 1, { state: 'active' })] });
    const capacity = capacityOf(snapshot({ postgres: pg, plan: plan({ otherBudgets: [{ text: 'etl', selector: { kind: 'role', role: 'etl', database: null }, budget: 30 }] }) }));
    expect(capacity.other).toBe(5);
    expect(capacity.otherCommitted).toBe(31);
    expect(capacity.otherDeclarations).toEqual([{ text: 'etl', budget: 30, live: 4 }]);
    // 57 available - 31 committed - 63 budget.
    expect(capacity.budgetHeadroom).toEqual({ steady: -37, rollout: -58 });
    expect(capacity.slots.parts).toMatchObject({ other: 5, other_unopened: 26, coder_unopened: 8, free: 0, overcommit: 37 });
  });

  it('a declaration below what it holds counts what it holds: the live count wins', () => {
    const pg = postgres({ connections: [group('coder', 18), group('other', 12, { application: 'airflow' }), group('monitor', 1)] });
    const capacity = capacityOf(snapshot({ postgres: pg, plan: plan({ otherBudgets: [{ text: 'app:airflow', selector: { kind: 'application', application: 'airflow' }, budget: 5 }] }) }));
    expect(capacity.otherCommitted).toBe(6);
    expect(capacity.otherBudgeted).toBe(13);
    expect(capacity.budgetHeadroom?.steady).toBe(57 - 13 - 63);
  });

  it('recommends 0 when no pool max fits and nothing when there is no replica', () => {
    const crowded = postgres({ connections: [group('other', 50)] });
    expect(capacityOf(snapshot({ postgres: crowded })).recommendedPoolMax).toBe(0);
    expect(capacityOf(snapshot({ replicas: [] })).recommendedPoolMax).toBeNull();
  });

  it('reports utilization as infinite when no slot is available but some are used', () => {
    const capacity = capacityOf(snapshot({ postgres: postgres({ maxConnections: 3 }) }));
    expect(capacity.available).toBe(0);
    expect(capacity.utilization).toBe(Number.POSITIVE_INFINITY);
  });

  it('leaves unaccounted unknown when no replica could be scraped', () => {
    const down = replica('a', { up: false, open: null, pubsubConnected: null });
    expect(capacityOf(snapshot({ replicas: [down] })).unaccounted).toBeNull();
  });
});

// ---- property tests: the identities hold for any input ----

const replicaArb = fc.record({
  replica: fc.string(),
  address: fc.constant(null),
  up: fc.boolean(),
  poolMax: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
  open: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
  inUse: fc.constant(null),
  idle: fc.constant(null),
  waitCount: fc.constant(null),
  waitDurationSeconds: fc.constant(null),
  pubsubConnected: fc.option(fc.integer({ min: 0, max: 1 }), { nil: null }),
  closed: fc.constant(null),
  scrapeBytes: fc.constant(null),
});

const snapshotArb = fc
  .record({
    maxConnections: fc.integer({ min: 0, max: 10_000 }),
    superuserReserved: fc.integer({ min: 0, max: 50 }),
    reserved: fc.integer({ min: 0, max: 50 }),
    provider: fc.integer({ min: 0, max: 20 }),
    coder: fc.integer({ min: 0, max: 5000 }),
    other: fc.integer({ min: 0, max: 5000 }),
    replicas: fc.array(replicaArb, { maxLength: 20 }),
    plannedReplicas: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
    defaultPoolMax: fc.integer({ min: 0, max: 200 }),
    extra: fc.integer({ min: 0, max: 3 }),
    surge: fc.oneof(
      fc.record({ kind: fc.constant('percent' as const), value: fc.integer({ min: 0, max: 100 }) }),
      fc.record({ kind: fc.constant('count' as const), value: fc.integer({ min: 0, max: 10 }) }),
    ),
    unavailable: fc.oneof(
      fc.record({ kind: fc.constant('percent' as const), value: fc.integer({ min: 0, max: 100 }) }),
      fc.record({ kind: fc.constant('count' as const), value: fc.integer({ min: 0, max: 10 }) }),
    ),
    declared: fc.option(fc.integer({ min: 0, max: 6000 }), { nil: null }),
    margin: fc.double({ min: 0, max: 0.95, noNaN: true }),
  })
  .map(
    (input): Snapshot => snapshot({
      postgres: postgres({
        maxConnections: input.maxConnections,
        superuserReservedConnections: input.superuserReserved,
        reservedConnections: input.reserved,
        providerReservedConnections: input.provider,
        connections: [group('coder', input.coder), group('other', input.other), group('monitor', 1)],
      }),
      replicas: input.replicas,
      plan: plan({
        plannedReplicas: input.plannedReplicas,
        defaultPoolMax: input.defaultPoolMax,
        extraConnections: input.extra,
        maxSurge: input.surge,
        maxUnavailable: input.unavailable,
        // The other role's pool, declared or not.
        otherBudgets: input.declared === null ? [] : [{ text: 'analytics', selector: { kind: 'role', role: 'analytics', database: null }, budget: input.declared }],
        safetyMargin: input.margin,
      }),
    }),
  );

describe('the capacity model for any snapshot', () => {
  it('keeps used = coder + other and headroom = available - used', () => {
    fc.assert(
      fc.property(snapshotArb, (input) => {
        const c = capacityOf(input);
        expect(c.used).toBe(c.coder! + c.other!);
        expect(c.headroom).toBe(c.available - c.used);
      }),
    );
  });

  it('never lets the rollout budget be smaller than the steady budget', () => {
    fc.assert(
      fc.property(snapshotArb, (input) => {
        const c = capacityOf(input);
        fc.pre(c.budget !== null);
        expect(c.budget!.rollout).toBeGreaterThanOrEqual(c.budget!.steady);
        expect(c.budgetHeadroom!.rollout).toBeLessThanOrEqual(c.budgetHeadroom!.steady);
      }),
    );
  });

  it('keeps budget headroom = left for Coder - budget - what no budget covers, in both phases', () => {
    fc.assert(
      fc.property(snapshotArb, (input) => {
        const c = capacityOf(input);
        fc.pre(c.budget !== null);
        expect(c.coderAvailable).toBe(c.available - Math.max(c.other!, c.otherCommitted!));
        if (Number.isFinite(c.budget!.steady)) expect(c.budgetHeadroom!.steady).toBe(c.coderAvailable! - c.budget!.steady - c.coderBeyondBudget);
        else expect(c.budgetHeadroom!.steady).toBe(Number.NEGATIVE_INFINITY);
      }),
    );
  });

  it('shows no budget exactly when no replica is seen or planned, never a budget of 0', () => {
    fc.assert(
      fc.property(snapshotArb, (input) => {
        const c = capacityOf(input);
        const noReplica = input.replicas.length === 0 && (input.plan.plannedReplicas ?? 0) === 0;
        expect(c.budget === null).toBe(noReplica);
        expect(c.budgetHeadroom === null).toBe(noReplica);
        expect(c.maxSafeReplicas === null).toBe(noReplica);
      }),
    );
  });

  it('plans at least as many replicas as it observes', () => {
    fc.assert(
      fc.property(snapshotArb, (input) => {
        const c = capacityOf(input);
        expect(c.replicas.planned).toBeGreaterThanOrEqual(c.replicas.observed);
        expect(c.replicas.observed).toBeGreaterThanOrEqual(input.replicas.length);
      }),
    );
  });

  it('recommends a pool max whose rollout fits within the margin whenever one is recommended', () => {
    fc.assert(
      fc.property(snapshotArb, (input) => {
        const c = capacityOf(input);
        if (c.recommendedPoolMax === null || c.recommendedPoolMax === 0) return;
        const pods = c.replicas.planned + c.surgePods + c.unavailablePods;
        const room = c.marginCapacity - c.otherBudgeted! - c.coderBeyondBudget;
        expect(pods * (c.recommendedPoolMax + c.extraConnections)).toBeLessThanOrEqual(room);
        // and one more per replica would not fit
        expect(pods * (c.recommendedPoolMax + 1 + c.extraConnections)).toBeGreaterThan(room);
      }),
    );
  });

  it('says max safe replicas fit at the largest pool max, and one more would not', () => {
    fc.assert(
      fc.property(snapshotArb, (input) => {
        const c = capacityOf(input);
        fc.pre(c.budget !== null);
        if (c.largestPoolMax === 0) {
          expect(c.maxSafeReplicas!).toBe(0);
          return;
        }
        const cost = c.largestPoolMax + c.extraConnections;
        const room = c.marginCapacity - c.otherBudgeted! - c.coderBeyondBudget;
        if (c.maxSafeReplicas! > 0) expect(c.maxSafeReplicas! * cost).toBeLessThanOrEqual(room);
        expect((c.maxSafeReplicas! + 1) * cost).toBeGreaterThan(room);
      }),
    );
  });

  it('is marked unbounded exactly when the budget is infinite', () => {
    fc.assert(
      fc.property(snapshotArb, (input) => {
        const c = capacityOf(input);
        fc.pre(c.budget !== null);
        expect(c.unboundedPools).toBe(!Number.isFinite(c.budget!.steady));
      }),
    );
  });
});
