// Where slots go without being budgeted (idle-in-transaction sessions, the NOTIFY queue,
// pool churn), the findings on them and on the pool Coder needs, and the max_connections
// that fits: pure functions over one poll (and the previous poll's counters).

import { describe, expect, it } from 'vitest';
import { judgedResult } from '../../src/commands/check.js';
import { evaluate } from '../../src/model/capacity.js';
import { observeDemand } from '../../src/model/demand.js';
import { assess, exitCodeOf } from '../../src/model/verdict.js';
import type { PollResult } from '../../src/model/poll-result.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { group, postgres, replica, snapshot } from '../support/snapshots.js';

function pollOf(snap: Snapshot): PollResult {
  return { snapshot: snap, ...evaluate(snap), postgresError: null, coderErrors: [], completedAt: 0, sources: [], roundTripSeconds: 0.001 };
}

const findingOf = (snap: Snapshot, id: string) => assess(pollOf(snap)).findings.find((finding) => finding.id === id);

/** Coder: 17 idle + 1 idle in a transaction for `age` seconds. */
const idleInTransactionFor = (age: number) =>
  snapshot({
    postgres: postgres({
      connections: [group('coder', 17), group('coder', 1, { state: 'idle in transaction' }), group('other', 7), group('monitor', 1, { state: 'active' })],
      idleInTransaction: [{ owner: 'coder', oldestSeconds: age }],
    }),
  });

describe('sessions idle in a transaction', () => {
  it('counts them per owner with the oldest one\'s age', () => {
    expect(evaluate(idleInTransactionFor(92)).capacity!.unbudgeted.idleInTransaction).toEqual([{ owner: 'coder', count: 1, oldestSeconds: 92 }]);
  });

  it('a Coder session idle in a transaction for 92 s is a warning that names its age and gives the SQL to find it', () => {
    const finding = findingOf(idleInTransactionFor(92), 'idle-in-transaction');
    expect(finding).toMatchObject({ severity: 'warning', title: '1 Coder session idle in a transaction' });
    expect(finding!.detail).toContain('the oldest for 92 s (over 60 s)');
    expect(finding!.sql).toContain("usename = 'coder' AND datname = 'coder' AND state LIKE 'idle in transaction%'");
  });

  it('60 s exactly is no finding yet, as the alert compares > 60', () => {
    expect(findingOf(idleInTransactionFor(60), 'idle-in-transaction')).toBeUndefined();
  });
});

describe('the NOTIFY queue', () => {
  const queue = (usage: number) => snapshot({ postgres: postgres({ notifyQueueUsage: usage }) });

  it('half full is quiet, 0.6 is a warning, 0.95 critical', () => {
    expect(findingOf(queue(0.5), 'notify-queue-filling')).toBeUndefined();
    expect(findingOf(queue(0.6), 'notify-queue-filling')?.severity).toBe('warning');
    expect(findingOf(queue(0.95), 'notify-queue-filling')).toMatchObject({ severity: 'critical', title: 'The NOTIFY queue is almost full' });
  });
});

describe('pool churn', () => {
  /** Replica a's max_idle closes went from 100 to `after` in 15 s. */
  const churning = (after: number) =>
    snapshot({
      replicas: [replica('a', { closed: { max_idle: after, max_idle_time: 0, max_lifetime: 4 } }), replica('b'), replica('c')],
      previousCloses: { secondsAgo: 15, replicas: [{ replica: 'http://a:2112/metrics', closed: { max_idle: 100, max_idle_time: 0, max_lifetime: 4 } }] },
    });

  it('is closes per second between two polls, by reason: 30 max_idle closes in 15 s is 2 a second', () => {
    expect(evaluate(churning(130)).capacity!.unbudgeted.poolChurn).toEqual([
      { replica: 'http://a:2112/metrics', closesPerSecond: 2, byReason: { max_idle: 2, max_idle_time: 0, max_lifetime: 0 } },
    ]);
  });

  it('needs two polls: the first has no rate', () => {
    expect(evaluate(snapshot()).capacity!.unbudgeted.poolChurn).toEqual([]);
  });

  it('counts a counter that went down (the replica restarted) from 0, as rate() does', () => {
    expect(evaluate(churning(3)).capacity!.unbudgeted.poolChurn[0]?.byReason.max_idle).toBeCloseTo(0.2);
  });

  it('120 closes a minute is a warning that names CODER_PG_CONN_MAX_IDLE and the rate; 1 close in 15 s (4 a minute) is not', () => {
    const finding = findingOf(churning(130), 'pool-churn');
    expect(finding?.severity).toBe('warning');
    expect(finding!.detail).toContain('http://a:2112/metrics closes 120 connections a minute (max_idle (the idle cap, CODER_PG_CONN_MAX_IDLE) 120)');
    expect(finding!.detail).toContain('Raise CODER_PG_CONN_MAX_IDLE');
    expect(findingOf(churning(101), 'pool-churn')).toBeUndefined();
  });
});

describe('the pool Coder needs, against what fits', () => {
  it('a replica that needed 11 when 8 fits is a warning: no pool max does both', () => {
    const demand = observeDemand(null, [{ replica: 'http://a:2112/metrics', inUse: 11, waitCount: 0 }], 0, 86_400_000);
    const finding = findingOf(snapshot({ demand }), 'pool-need-unmet');
    expect(finding?.severity).toBe('warning');
    expect(finding!.detail).toContain('Coder needs pool max 11 (replica http://a:2112/metrics had 11 in use');
    expect(finding!.detail).toContain('at most 8 fits a rollout');
  });
});

describe('the max_connections that fits (check --postgres.max-connections)', () => {
  it('the reference fleet needs 95 slots for a rollout and 118 with 20% spare', () => {
    expect(evaluate(snapshot()).capacity!.fittingMaxConnections).toEqual({ rollout: 95, margin: 118 });
  });

  it('judged on 300 slots (3 reserved kept) it fits with the margin: exit 0; on 117, one short of the margin: exit 1', () => {
    const at = (maxConnections: number) => {
      const judged = judgedResult(pollOf(snapshot()), null, maxConnections);
      return { available: judged.capacity!.available, exit: exitCodeOf(assess(judged, { judgeLatency: false })) };
    };
    expect(at(300)).toEqual({ available: 297, exit: 0 });
    expect(at(118).exit).toBe(0);
    expect(at(117).exit).toBe(1);
    expect(at(60).exit).toBe(2);
  });

  it('is unknown while a pool is unbounded: no size fits', () => {
    expect(evaluate(snapshot({ replicas: [replica('a', { poolMax: 0 })] })).capacity!.fittingMaxConnections).toBeNull();
  });
});
