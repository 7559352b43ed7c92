// The pooler layer of the model, pure: PgBouncer's client capacity and server cap for
// Coder, the budget on PostgreSQL, what would queue, the pool_size that would fit, and the
// verdict. The worked example: PostgreSQL max_connections 100, three replicas at
// pool max 20 through one PgBouncer in session mode with pool_size=25 for Coder's
// database, 10 other connections (and the monitor's own).

import { describe, expect, it } from 'vitest';
import { evaluate, type Capacity } from '../../src/model/capacity.js';
import { assess, exitCodeOf } from '../../src/model/verdict.js';
import { poolSizeFit, withPoolSize, type PoolerCoderPool, type PoolerInstance, type PoolerObservation } from '../../src/model/pooler.js';
import type { PollResult } from '../../src/model/poll-result.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { group, postgres, replica, snapshot } from '../support/snapshots.js';

function coderPool(overrides: Partial<PoolerCoderPool> = {}): PoolerCoderPool {
  return {
    database: 'coder',
    user: 'coder',
    poolSize: 25,
    poolSizeSource: 'database',
    reservePool: 0,
    maxDbConnections: 0,
    maxUserConnections: 0,
    poolMode: 'session',
    poolModeSource: 'default',
    clients: 18,
    waiting: 0,
    maxWaitSeconds: 0,
    serverConnections: 18,
    ...overrides,
  };
}

function instance(name: string, overrides: Partial<PoolerInstance> = {}, pool: Partial<PoolerCoderPool> = {}): PoolerInstance {
  return { instance: name, up: true, error: null, version: '1.18.0', maxClientConn: 150, clientConnections: 19, coderPool: coderPool(pool), ...overrides };
}

function pooler(...instances: PoolerInstance[]): PoolerObservation {
  return { coderEntry: 'coder', discoveryErrors: [], instances };
}

/** The worked example, with a pooler of one's choosing. */
function workedExample(observation: PoolerObservation | null = pooler(instance('10.0.0.5:6432'))): Snapshot {
  return snapshot({
    postgres: postgres({ maxConnections: 100, connections: [group('coder', 18), group('other', 10), group('monitor', 1, { state: 'active' })] }),
    pooler: observation,
  });
}

function capacityOf(input: Snapshot): Capacity {
  const capacity = evaluate(input).capacity;
  if (!capacity) throw new Error('expected a capacity');
  return capacity;
}

function resultOf(input: Snapshot): PollResult {
  return { snapshot: input, ...evaluate(input), sources: [], postgresError: null, coderErrors: [], roundTripSeconds: null, completedAt: 0 };
}

describe('the worked example: session mode, pool_size=25 for Coder\'s database', () => {
  const capacity = capacityOf(workedExample());

  it("budgets 63 steady and 84 in a rollout for Coder, as without a pooler", () => {
    expect(capacity.budget).toEqual({ steady: 63, rollout: 84 });
  });

  it('caps what reaches PostgreSQL at the server cap: 25, so the budget on PostgreSQL is 25 / 25', () => {
    expect(capacity.pooler?.serverCap).toBe(25);
    expect(capacity.postgresBudget).toEqual({ steady: 25, rollout: 25 });
  });

  it('leaves a budget headroom of 97 - 11 - 25 = 61 on PostgreSQL in both phases', () => {
    expect(capacity.available).toBe(97);
    expect(capacity.otherBudgeted).toBe(11);
    expect(capacity.budgetHeadroom).toEqual({ steady: 61, rollout: 61 });
  });

  it('would queue 38 of 63 steady and 59 of 84 rollout connections in PgBouncer', () => {
    expect(capacity.pooler?.queued).toEqual({ steady: 38, rollout: 59 });
  });

  it('counts 150 client slots, 1 other client (the admin console) and a client headroom of 86 / 65', () => {
    expect(capacity.pooler).toMatchObject({ clientCapacity: 150, otherClients: 1, coderClients: 18, clientHeadroom: { steady: 86, rollout: 65 }, sessionMode: true });
  });

  it('names pool_size 84 as the one that queues nothing and fits PostgreSQL (its 86 slots for Coder fit the whole budget)', () => {
    expect(capacity.pooler?.poolSizeFit).toEqual({ noQueue: 84, fitting: { kind: 'any' }, both: 84 });
  });

  it('gives a critical verdict because 59 of the 84 rollout connections would queue, exit 2', () => {
    const assessment = assess(resultOf(workedExample()));
    expect(assessment.kind).toBe('pgbouncer-queueing');
    expect(assessment.severity).toBe('critical');
    expect(assessment.summary).toContain("59 of Coder's 84 rollout connections would queue in PgBouncer");
    expect(assessment.fix).toContain('pool_size 84');
    expect(exitCodeOf(assessment)).toBe(2);
  });

  it('does not compare the replicas\' open connections with the pooler\'s server connections: unaccounted is absent', () => {
    // 3 replicas report 5 + 1 each; PostgreSQL shows only what PgBouncer opened, fewer.
    const input = workedExample();
    const fewer = { ...input, postgres: postgres({ maxConnections: 100, connections: [group('coder', 6), group('other', 10), group('monitor', 1)] }), previousUnaccounted: -12 };
    const evaluation = evaluate(fewer);
    expect(evaluation.capacity?.unaccounted).toBeNull();
    expect(evaluation.blind).not.toContain('coder_connections_mismatch');
  });
});

describe('the worked example in transaction mode', () => {
  it('says "Coder\'s LISTEN needs session mode", critical, whatever the figures', () => {
    const input = workedExample(pooler(instance('10.0.0.5:6432', {}, { poolMode: 'transaction', poolModeSource: 'database' })));
    const assessment = assess(resultOf(input));
    expect(assessment.verdict).toBe("Coder's LISTEN needs session mode");
    expect(assessment.summary).toContain("10.0.0.5:6432 (transaction mode, from its [databases] entry's pool_mode)");
    expect(assessment.findings.map((finding) => finding.id)).toContain('pgbouncer-not-session-mode');
    expect(exitCodeOf(assessment)).toBe(2);
    expect(capacityOf(input).pooler?.sessionMode).toBe(false);
  });
});

describe('the pooler layer, case by case', () => {
  it('without a pooler the budget on PostgreSQL is the budget, and the pooler figures are absent', () => {
    const capacity = capacityOf(workedExample(null));
    expect(capacity.postgresBudget).toEqual(capacity.budget);
    expect(capacity.pooler).toBeNull();
    expect(capacity.budgetHeadroom).toEqual({ steady: 97 - 11 - 63, rollout: 97 - 11 - 84 });
  });

  it('bounds each instance by min(pool_size + reserve_pool, max_db_connections, max_user_connections), and sums the instances', () => {
    const capacity = capacityOf(
      workedExample(
        pooler(
          instance('a:6432', {}, { poolSize: 20, reservePool: 5 }),
          instance('b:6432', {}, { poolSize: 20, reservePool: 5, maxDbConnections: 12 }),
          instance('c:6432', {}, { poolSize: 20, reservePool: 5, maxDbConnections: 30, maxUserConnections: 8 }),
        ),
      ),
    );
    expect(capacity.pooler?.serverCap).toBe(25 + 12 + 8);
    expect(capacity.pooler?.clientCapacity).toBe(450);
  });

  it('refuses Coder when max_client_conn is below its budget: client headroom 50 - 1 - 63 = -14, critical', () => {
    const input = workedExample(pooler(instance('a:6432', { maxClientConn: 50 }, { poolSize: 90 })));
    const capacity = capacityOf(input);
    expect(capacity.pooler?.clientHeadroom).toEqual({ steady: -14, rollout: -35 });
    const assessment = assess(resultOf(input));
    expect(assessment.kind).toBe('pgbouncer-overcommitted');
    expect(assessment.fix).toContain('raise max_client_conn to at least 85');
    expect(exitCodeOf(assessment)).toBe(2);
  });

  it('an instance that cannot be read hides every pooler sum and the budget headroom, and the monitor says it cannot judge', () => {
    const input = workedExample(pooler(instance('a:6432'), instance('b:6432', { up: false, error: 'cannot reach PgBouncer b:6432 (ECONNREFUSED)', maxClientConn: null, clientConnections: null, coderPool: null })));
    const evaluation = evaluate(input);
    expect(evaluation.blind).toEqual(['pgbouncer_unreadable']);
    expect(evaluation.capacity?.pooler).toMatchObject({ instances: 2, instancesUp: 1, complete: false, clientCapacity: null, serverCap: null, queued: null, clientsWaiting: null, sessionMode: null });
    expect(evaluation.capacity?.postgresBudget).toBeNull();
    expect(evaluation.capacity?.budgetHeadroom).toBeNull();
    expect(evaluation.capacity?.budget).toEqual({ steady: 63, rollout: 84 });
    const assessment = assess(resultOf(input));
    expect(assessment.verdict).toBe('Cannot judge: a PgBouncer instance cannot be read');
    expect(assessment.findings.find((finding) => finding.id === 'blind-pgbouncer_unreadable')?.detail).toContain('cannot reach PgBouncer b:6432 (ECONNREFUSED)');
  });

  it('an instance without an entry for Coder\'s database is as unreadable, and says which entry is missing', () => {
    const input = workedExample(pooler(instance('a:6432', { coderPool: null })));
    expect(evaluate(input).blind).toEqual(['pgbouncer_unreadable']);
    expect(assess(resultOf(input)).findings[0]?.detail).toContain('PgBouncer a:6432 has no [databases] entry named "coder"');
  });

  it('a non-session pool on a readable instance is reported even while another is down', () => {
    const capacity = capacityOf(workedExample(pooler(instance('a:6432', {}, { poolMode: 'statement' }), instance('b:6432', { up: false, coderPool: null }))));
    expect(capacity.pooler?.sessionMode).toBe(false);
    expect(capacity.pooler?.notSession).toEqual([{ instance: 'a:6432', poolMode: 'statement', source: 'default' }]);
  });

  it('clients waiting now are a warning with the count and the longest wait', () => {
    const input = workedExample(pooler(instance('a:6432', {}, { poolSize: 90, waiting: 3, maxWaitSeconds: 2.5 })));
    const capacity = capacityOf(input);
    expect(capacity.pooler).toMatchObject({ clientsWaiting: 3, maxWaitSeconds: 2.5 });
    const waiting = assess(resultOf(input)).findings.find((finding) => finding.id === 'pgbouncer-clients-waiting');
    expect(waiting).toMatchObject({ severity: 'warning', title: '3 Coder clients waiting in PgBouncer' });
  });

  it('fits when the server cap covers the rollout budget and PostgreSQL has room for it', () => {
    const input = workedExample(pooler(instance('a:6432', {}, { poolSize: 84 })));
    expect(capacityOf(input).pooler?.queued).toEqual({ steady: 0, rollout: 0 });
    expect(assess(resultOf(input)).kind).toBe('fits');
  });

  it('judges a planned pool_size on every instance (check --pgbouncer.pool-size)', () => {
    const planned = workedExample(withPoolSize(pooler(instance('a:6432'), instance('b:6432', {}, { poolSize: 10, poolSizeSource: 'user' })), 42));
    const capacity = capacityOf(planned);
    expect(capacity.pooler?.serverCap).toBe(84);
    expect(planned.pooler?.instances.map((i) => i.coderPool?.poolSizeSource)).toEqual(['what-if', 'what-if']);
    expect(capacity.pooler?.queued).toEqual({ steady: 0, rollout: 0 });
  });

  it('PostgreSQL overcommitted behind the pooler keeps PostgreSQL\'s verdict, measured with the budget on PostgreSQL', () => {
    // pool_size 95 lets 84 through, and 86 are left for Coder: fits; at 100 other connections nothing is left.
    const input = workedExample(pooler(instance('a:6432', {}, { poolSize: 95 })));
    const crowded = { ...input, postgres: postgres({ maxConnections: 100, connections: [group('coder', 18), group('other', 60), group('monitor', 1)] }) };
    const assessment = assess(resultOf(crowded));
    expect(capacityOf(crowded).budgetHeadroom).toEqual({ steady: 97 - 61 - 63, rollout: 97 - 61 - 84 });
    expect(assessment.kind).toBe('overcommitted');
    expect(assessment.summary).toContain('Coder may open 63 connections on PostgreSQL through PgBouncer');
  });
});

describe('what pool_size would fit', () => {
  const pools = (...caps: Partial<PoolerCoderPool>[]) => caps.map((overrides) => coderPool(overrides));

  it('splits the rollout budget over the instances: 84 over two instances with reserve 2 needs pool_size 40', () => {
    expect(poolSizeFit(pools({ reservePool: 2 }, { reservePool: 2 }), 84, 100)).toEqual({ noQueue: 40, fitting: { kind: 'any' }, both: 40 });
  });

  it('says none does both when the budget itself does not fit PostgreSQL, and names the largest that fits', () => {
    expect(poolSizeFit(pools({}, {}), 84, 60)).toEqual({ noQueue: 42, fitting: { kind: 'up-to', poolSize: 30 }, both: null });
  });

  it('says no pool_size avoids the queue when max_db_connections caps the pool below the budget', () => {
    expect(poolSizeFit(pools({ maxDbConnections: 30 }), 84, 100)).toEqual({ noQueue: null, fitting: { kind: 'any' }, both: null });
  });

  it('says no pool_size fits PostgreSQL when the reserve alone exceeds the room', () => {
    expect(poolSizeFit(pools({ reservePool: 10 }), 84, 5).fitting).toEqual({ kind: 'none' });
  });

  it('finds no pool_size that avoids the queue for an unbounded budget', () => {
    expect(poolSizeFit(pools({}), Number.POSITIVE_INFINITY, 50)).toEqual({ noQueue: null, fitting: { kind: 'up-to', poolSize: 50 }, both: null });
  });

  it('an unbounded Coder pool behind PgBouncer still reaches PostgreSQL only up to the cap', () => {
    const capacity = capacityOf({ ...workedExample(), replicas: [replica('a', { poolMax: 0 })] });
    expect(capacity.budget?.steady).toBe(Number.POSITIVE_INFINITY);
    expect(capacity.postgresBudget).toEqual({ steady: 25, rollout: 25 });
  });
});
