// The verdict, the findings and the exit codes `check` gates on, and the status page's
// escaping: pure functions over one poll, so every case is a snapshot away.

import { describe, expect, it } from 'vitest';
import { withPoolMax } from '../../src/commands/check.js';
import { renderStatusPage } from '../../src/views/status-page.js';
import { computeCapacity, evaluate } from '../../src/model/capacity.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import type { PollResult } from '../../src/model/poll-result.js';
import { assess, exitCodeOf } from '../../src/model/verdict.js';
import { group, plan, postgres, replica, snapshot } from '../support/snapshots.js';

function pollOf(snap: Snapshot, extra: Partial<PollResult> = {}): PollResult {
  return {
    snapshot: snap,
    ...evaluate(snap),
    postgresError: snap.postgres ? null : 'cannot reach PostgreSQL at db:5432 (ECONNREFUSED)',
    coderErrors: [],
    completedAt: 0,
    sources: [],
    roundTripSeconds: 0.001,
    ...extra,
  };
}

/** Three replicas at a given pool max, 8 other connections: the reference scenario at pool max 20. */
const atPoolMax = (poolMax: number) => snapshot({ replicas: ['a', 'b', 'c'].map((name) => replica(name, { poolMax })) });

describe('the verdict and the exit code', () => {
  it('the reference scenario is overcommitted (exit 2) and the fix names pool max 8 or 1 replica', () => {
    const assessment = assess(pollOf(atPoolMax(20)));
    expect(assessment.verdict).toBe('Overcommitted');
    expect(assessment.fix).toBe('lower the pool max to 8 (CODER_PG_CONN_MAX_OPEN) for 3 replicas, or run at most 1 replica at pool max 20, or raise max_connections by at least 35 (more to keep 20% spare).');
    expect(exitCodeOf(assessment)).toBe(2);
  });

  it('pool max 12 fits steady (budget 39) but not a rollout (52 > 49): exit 2', () => {
    const assessment = assess(pollOf(atPoolMax(12)));
    expect(assessment.verdict).toBe('Rollout overcommitted');
    expect(exitCodeOf(assessment)).toBe(2);
  });

  it('pool max 10 fits a rollout (44 of 49) but not the 20% margin (largest 8): exit 1', () => {
    const assessment = assess(pollOf(atPoolMax(10)));
    expect(assessment.verdict).toBe('Fits');
    expect(assessment.findings.map((f) => f.id)).toEqual(['margin-not-kept']);
    expect(exitCodeOf(assessment)).toBe(1);
  });

  it('pool max 8 fits with the margin kept: exit 0, nothing to report', () => {
    const assessment = assess(pollOf(atPoolMax(8)));
    expect(assessment).toMatchObject({ verdict: 'Fits', severity: null, findings: [] });
    expect(exitCodeOf(assessment)).toBe(0);
  });

  it('a replica that cannot be scraped is a warning (exit 1) that quotes the scrape error', () => {
    const snap = snapshot({ replicas: [replica('a', { poolMax: 8 }), replica('b', { poolMax: 8 }), replica('c', { poolMax: 8, up: false, open: null, inUse: null, idle: null })] });
    const assessment = assess(pollOf(snap, { coderErrors: [{ source: 'coder', target: 'http://c:2112/metrics', message: 'cannot scrape http://c:2112/metrics: ECONNREFUSED' }] }));
    const down = assessment.findings.find((f) => f.id === 'replicas-down');
    expect(down?.detail).toContain('cannot scrape http://c:2112/metrics: ECONNREFUSED');
    expect(exitCodeOf(assessment)).toBe(1);
  });

  it('utilization above 0.8 (46 of 57) is a warning, as CoderPostgresConnectionsHigh', () => {
    const snap = snapshot({ postgres: postgres({ connections: [group('coder', 18), group('other', 27), group('monitor', 1)] }), replicas: [], plan: plan({ plannedReplicas: 1, defaultPoolMax: 2 }) });
    const assessment = assess(pollOf(snap));
    expect(assessment.findings.find((f) => f.id === 'utilization-high')).toMatchObject({ severity: 'warning' });
    expect(exitCodeOf(assessment)).toBe(1);
  });

  it('utilization above 0.9 (53 of 57) is critical, as the alert on it', () => {
    const snap = snapshot({ postgres: postgres({ connections: [group('coder', 18), group('other', 34), group('monitor', 1)] }), replicas: [], plan: plan({ plannedReplicas: 1, defaultPoolMax: 2 }) });
    const assessment = assess(pollOf(snap));
    expect(assessment.findings.find((f) => f.id === 'utilization-high')).toMatchObject({ severity: 'critical', title: 'PostgreSQL is almost full' });
    expect(exitCodeOf(assessment)).toBe(2);
  });

  it('100% utilization (57 of 57) is "PostgreSQL is full", critical, not "nearly full"', () => {
    const snap = snapshot({ postgres: postgres({ connections: [group('coder', 18), group('other', 38), group('monitor', 1)] }) });
    const assessment = assess(pollOf(snap));
    expect(assessment).toMatchObject({ kind: 'postgres-full', verdict: 'PostgreSQL is full', severity: 'critical' });
    expect(assessment.findings.map((f) => f.id)).not.toContain('utilization-high');
    expect(exitCodeOf(assessment)).toBe(2);
  });

  it('a connect refused with 53300 is "PostgreSQL is full", not an outage', () => {
    const message = 'PostgreSQL at db:5432 has no free slot for the monitor (53300 too_many_connections)';
    const snap = snapshot({ postgres: null, postgresFailure: { kind: 'full', code: '53300', message } });
    const result = pollOf(snap, { postgresError: message });
    expect(result.postgresFull).toBe(true);
    const assessment = assess(result);
    expect(assessment).toMatchObject({ kind: 'postgres-full', verdict: 'PostgreSQL is full', severity: 'critical' });
    expect(assessment.findings[0]).toMatchObject({ id: 'postgres-full', detail: message });
    expect(exitCodeOf(assessment)).toBe(2);
  });

  it.each([
    ['authentication', '28P01', "PostgreSQL refused the monitor's login"],
    ['database-missing', '3D000', 'Database "codr" does not exist'],
    ['not-postgres', 'not_postgres', 'Not PostgreSQL'],
    ['unreachable', 'ECONNREFUSED', 'PostgreSQL unreachable'],
  ] as const)('a %s failure (%s) reads "%s"', (kind, code, headline) => {
    const message = `PostgreSQL at db:5432: database "codr" does not exist (${code})`;
    const assessment = assess(pollOf(snapshot({ postgres: null, postgresFailure: { kind, code, message } })));
    expect(assessment.verdict).toBe(headline);
    expect(exitCodeOf(assessment)).toBe(2);
  });

  it('PostgreSQL unreachable is exit 2 and the finding carries the error', () => {
    const assessment = assess(pollOf(snapshot({ postgres: null })));
    expect(assessment.verdict).toBe('PostgreSQL unreachable');
    expect(assessment.findings[0]).toMatchObject({ id: 'postgres-down', detail: 'cannot reach PostgreSQL at db:5432 (ECONNREFUSED)' });
    expect(exitCodeOf(assessment)).toBe(2);
  });

  it('an unbounded pool is overcommitted and named; a superuser role and missing privileges are notices with their SQL', () => {
    const snap = snapshot({
      postgres: postgres({ privilegesSufficient: false, coderRole: { name: 'coder', superuser: true, connectionLimit: -1, canUseReservedConnections: true } }),
      replicas: [replica('a', { poolMax: 0 })],
    });
    const assessment = assess(pollOf(snap));
    expect(assessment.verdict).toBe('Overcommitted');
    const byId = new Map(assessment.findings.map((f) => [f.id, f]));
    expect(byId.get('unbounded-pools')?.detail).toContain('http://a:2112/metrics');
    expect(byId.get('superuser-role')).toMatchObject({ severity: 'notice', sql: 'ALTER ROLE "coder" NOSUPERUSER;' });
    expect(byId.get('privileges-missing')).toMatchObject({ severity: 'notice', sql: 'GRANT pg_monitor TO "monitor";' });
  });

  it('a round trip over 10 ms is a notice, unless latency is not judged (a one-shot check)', () => {
    const slow = pollOf(atPoolMax(8), { roundTripSeconds: 0.025 });
    expect(assess(slow).findings.map((f) => f.id)).toEqual(['latency-high']);
    expect(exitCodeOf(assess(slow))).toBe(0);
    expect(assess(slow, { judgeLatency: false }).findings).toEqual([]);
  });
});

describe('cannot judge: the monitor never reports a fit it cannot know', () => {
  it('no targets, no planned count and no replicas table: no budget and "Cannot judge", exit 2', () => {
    const snap = snapshot({ replicas: [], sources: { coderTargetsConfigured: false, replicasFromDb: false } });
    const result = pollOf(snap);
    expect(result.blind).toEqual(['no_replicas_configured']);
    expect(result.capacity).toMatchObject({ budget: null, budgetHeadroom: null, recommendedPoolMax: null, maxSafeReplicas: null, coder: 18, other: 8 });
    const assessment = assess(result);
    expect(assessment).toMatchObject({ kind: 'cannot-judge', verdict: 'Cannot judge: no Coder replica configured', severity: 'critical' });
    expect(exitCodeOf(assessment)).toBe(2);
  });

  it('targets that find no replica are blind; a planned --coder.replicas still gives a budget', () => {
    const found = pollOf(snapshot({ replicas: [] }));
    expect(found.blind).toEqual(['no_replicas_found']);
    expect(found.capacity?.budget).toBeNull();
    const planned = pollOf(snapshot({ replicas: [], plan: plan({ plannedReplicas: 3, defaultPoolMax: 20 }) }));
    expect(planned.blind).toEqual([]);
    expect(planned.capacity?.budget).toEqual({ steady: 63, rollout: 84 });
  });

  it("a mistyped --coder.database leaves Coder's, the others' and every headroom figure absent", () => {
    const snap = snapshot({ postgres: postgres({ coderDatabase: null, connections: [group('other', 25), group('monitor', 1)] }), attribution: { role: 'coder', database: 'codr', applicationName: null } });
    const result = pollOf(snap);
    expect(result.blind).toEqual(['coder_database_missing']);
    expect(result.capacity).toMatchObject({ coder: null, other: null, budgetHeadroom: null, unaccounted: null, recommendedPoolMax: null, used: 26, headroom: 31 });
    expect(result.capacity?.budget).toEqual({ steady: 63, rollout: 84 });
    expect(assess(result).verdict).toBe('Cannot judge: Coder\'s database "codr" does not exist');
  });

  it('unaccounted below 0 once is a race; twice in a row it is a mismatch', () => {
    // The replicas say 18 open + 3 LISTEN, PostgreSQL shows 10 for Coder: -11.
    const snap = snapshot({ postgres: postgres({ connections: [group('coder', 10), group('other', 15), group('monitor', 1)] }), replicas: ['a', 'b', 'c'].map((n) => replica(n, { open: 6 })) });
    const once = pollOf(snap);
    expect(once.capacity?.unaccounted).toBe(-11);
    expect(once.blind).toEqual([]);
    const twice = pollOf({ ...snap, previousUnaccounted: -11 });
    expect(twice.blind).toEqual(['coder_connections_mismatch']);
    expect(assess(twice).findings.find((f) => f.id === 'blind-coder_connections_mismatch')?.detail).toContain('--coder.application-name');
  });

  it('an unreadable replicas table is its own reason, and the scraped replicas still give the budget', () => {
    const snap = snapshot({ sources: { coderTargetsConfigured: true, replicasFromDb: true }, postgres: postgres({ replicasTableError: 'the monitor may not read Coder\'s replicas table (42501)' }) });
    const result = pollOf(snap);
    expect(result.blind).toEqual(['replicas_table_unreadable']);
    expect(result.capacity?.budget).toEqual({ steady: 63, rollout: 84 });
    expect(exitCodeOf(assess(result))).toBe(2);
  });

  it('below a pool max of 2 the fix says no workable pool max, not "lower it to 1"', () => {
    const snap = snapshot({ postgres: postgres({ connections: [group('coder', 18), group('other', 33), group('monitor', 1)] }) });
    const assessment = assess(pollOf(snap));
    expect(assessment.fix).toContain('no workable pool max fits 3 replicas: raise max_connections or run fewer replicas');
    expect(assessment.fix).not.toContain('lower the pool max');
  });
});

describe("check's what-if pool max", () => {
  it('6 planned replicas at pool max 15 on the reference server: budget 96 / 144, largest pool max 3, 2 replicas fit', () => {
    const planned = withPoolMax(snapshot({ plan: plan({ plannedReplicas: 6 }) }), 15);
    const capacity = computeCapacity(planned)!;
    expect(capacity.budget).toEqual({ steady: 96, rollout: 144 });
    expect(capacity.recommendedPoolMax).toBe(3);
    expect(capacity.maxSafeReplicas).toBe(2);
  });
});

describe('the slot composition', () => {
  it("splits the 60 slots as 3 reserved, 8 other, 3 active and 15 idle (PostgreSQL's state), 31 budget not yet open, 0 free, 14 over", () => {
    const snap = snapshot({ postgres: postgres({ connections: [group('coder', 3, { state: 'active' }), group('coder', 15), group('other', 7), group('monitor', 1, { state: 'active' })] }) });
    const slots = computeCapacity(snap)!.slots;
    expect(slots.parts).toEqual({
      superuser_reserved: 3,
      reserved: 0,
      provider: 0,
      other: 8,
      other_unopened: 0,
      coder_active: 3,
      coder_idle: 15,
      coder_unopened: 31,
      free: 0,
      overcommit: 14,
    });
    expect(slots.overcommit).toEqual({ steady: 14, rollout: 35 });
  });
});

describe('the status page', () => {
  it('escapes text from remote systems and loads nothing from anywhere', () => {
    const hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>';
    const page = renderStatusPage(pollOf(snapshot({ postgres: null }), { postgresError: hostile }), { version: '1.0.0', now: 0 });
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    // No element loads anything: no src attribute, no stylesheet link, no CSS import or url().
    expect(page).not.toMatch(/<[a-z][^>]*\ssrc=|<link[^>]+stylesheet|@import|url\(/i);
    expect(page).toContain('<meta http-equiv="refresh" content="15">');
  });

  it('says it is waiting before the first poll', () => {
    expect(renderStatusPage(null, { version: '1.0.0' })).toContain('<h1>Waiting for the first poll</h1>');
  });
});
