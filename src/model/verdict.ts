// What a person should take from one poll: a verdict (does Coder fit?), what to change
// when it does not, and the findings worth acting on, gathered from each group's file. The
// status page and `check` both show this, so they never disagree. Pure: no clock, no I/O.

import { blindFindings, blindHeadline } from './blind-findings.js';
import type { Capacity } from './capacity.js';
import { capacityFindings } from './capacity-findings.js';
import type { Finding, Severity } from './finding.js';
import type { PollResult } from './poll-result.js';
import { footprintFindings } from './footprint-findings.js';
import { postgresFindings } from './postgres-findings.js';
import type { PostgresFailure } from './postgres-failure.js';
import { poolerFindings, poolerVerdict, type PoolerVerdictKind } from './pooler-findings.js';
import { replicaFindings } from './replica-findings.js';
import type { Snapshot } from './snapshot.js';
import { unbudgetedFindings } from './unbudgeted-findings.js';
import { plural } from './wording.js';

export type VerdictKind = 'fits' | 'rollout-overcommitted' | 'overcommitted' | 'postgres-full' | 'cannot-judge' | 'postgres-down' | 'waiting' | PoolerVerdictKind;

export interface Assessment {
  kind: VerdictKind;
  /** The headline: "Fits", "Overcommitted", "Cannot judge: no Coder replica found", ... */
  verdict: string;
  /** null = fits with nothing to warn about. */
  severity: Severity | null;
  /** One or two sentences under the verdict. */
  summary: string;
  /** What to change, when Coder does not fit. */
  fix: string | null;
  findings: Finding[];
}

const severityRank: Record<Severity, number> = { critical: 2, warning: 1, notice: 0 };

/** Exit code for pipelines: 0 fits, 1 fits with a warning, 2 does not fit or cannot tell. */
export function exitCodeOf(assessment: Assessment): 0 | 1 | 2 {
  const ranks = [assessment.severity, ...assessment.findings.map((finding) => finding.severity)]
    .filter((severity): severity is Severity => severity !== null)
    .map((severity) => severityRank[severity]);
  const worst = Math.max(0, ...ranks);
  return worst as 0 | 1 | 2;
}

export interface AssessOptions {
  /**
   * Judge the poll's round trip (default true). A one-shot `check` measures a cold first
   * statement on a new connection (parsing, catalog caches): it says little about the network.
   */
  judgeLatency?: boolean;
}

export function assess(result: PollResult | null, options: AssessOptions = {}): Assessment {
  if (result === null) {
    return { kind: 'waiting', verdict: 'Waiting for the first poll', severity: 'notice', summary: 'The monitor has not finished its first poll yet.', fix: null, findings: [] };
  }
  const { snapshot, capacity } = result;
  const findings = [...replicaFindings(result), ...blindFindings(result)];
  if (snapshot.postgres !== null && result.blind.includes('postgres_standby')) {
    return { kind: 'cannot-judge', ...cannotJudge(result), findings: sortFindings(findings) };
  }
  if (capacity === null || snapshot.postgres === null) {
    const failure = snapshot.postgresFailure ?? { kind: 'unreachable', code: null, message: result.postgresError ?? 'PostgreSQL could not be polled' };
    const down = postgresDownVerdict(failure);
    findings.unshift({ id: failure.kind === 'full' ? 'postgres-full' : 'postgres-down', severity: 'critical', title: down.verdict, detail: failure.message });
    return { ...down, severity: 'critical', fix: null, findings: sortFindings(findings) };
  }
  findings.push(...capacityFindings(snapshot, capacity, result.postgresFull));
  findings.push(...footprintFindings(snapshot, capacity));
  findings.push(...postgresFindings(snapshot.postgres, capacity, options.judgeLatency === false ? null : result.roundTripSeconds));
  findings.push(...unbudgetedFindings(snapshot, capacity));
  findings.push(...poolerFindings(capacity));
  return { ...verdictOf(result, capacity), findings: sortFindings(findings) };
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => severityRank[b.severity] - severityRank[a.severity]);
}

/** "Cannot judge: <the first reason>", failing closed. */
function cannotJudge(result: PollResult): Pick<Assessment, 'verdict' | 'severity' | 'summary' | 'fix'> {
  const [first, ...more] = result.blind;
  return {
    verdict: `Cannot judge: ${first === undefined ? 'unknown' : blindHeadline(first, result.snapshot)}`,
    severity: 'critical',
    summary: `The monitor cannot tell whether Coder fits${more.length > 0 ? `, for ${more.length + 1} reasons (see the findings)` : ''}: it shows no figure it cannot know, and fails closed.`,
    fix: null,
  };
}

/** Headlines a person tells apart at 3 a.m.: full, wrong password, wrong database, wrong port, down. */
function postgresDownVerdict(failure: PostgresFailure): Pick<Assessment, 'kind' | 'verdict' | 'summary'> {
  const none = 'Every figure is derived from PostgreSQL, so none is shown until the monitor gets in again.';
  switch (failure.kind) {
    case 'full':
      return {
        kind: 'postgres-full',
        verdict: 'PostgreSQL is full',
        summary: `PostgreSQL refused the monitor's connection for want of a free slot: Coder's new connections fail the same way. ${none}`,
      };
    case 'authentication':
      return { kind: 'postgres-down', verdict: "PostgreSQL refused the monitor's login", summary: `${failure.message}. ${none}` };
    case 'database-missing': {
      const name = /database "([^"]*)"/.exec(failure.message)?.[1];
      return { kind: 'postgres-down', verdict: name ? `Database "${name}" does not exist` : "The monitor's database does not exist", summary: `${failure.message}. ${none}` };
    }
    case 'not-postgres':
      return { kind: 'postgres-down', verdict: 'Not PostgreSQL', summary: `${failure.message}. ${none}` };
    case 'unreachable':
      return { kind: 'postgres-down', verdict: 'PostgreSQL unreachable', summary: none };
  }
}


function verdictOf(result: PollResult, capacity: Capacity): Pick<Assessment, 'kind' | 'verdict' | 'severity' | 'summary' | 'fix'> {
  const { snapshot } = result;
  if (result.postgresFull) {
    return {
      kind: 'postgres-full',
      verdict: 'PostgreSQL is full',
      severity: 'critical',
      summary: `${capacity.used} client connections hold all ${capacity.available} slots an ordinary role can use: Coder's new connections fail with "too many clients" or "remaining connection slots are reserved".`,
      fix: 'free slots now (see the findings and the runbook), then lower what Coder and other applications may open, or raise max_connections.',
    };
  }
  if (result.blind.length > 0) return { kind: 'cannot-judge', ...cannotJudge(result) };
  const onPostgres = budgetVerdict(snapshot, capacity);
  return poolerVerdict(capacity, onPostgres.kind === 'fits') ?? onPostgres;
}

function budgetVerdict(snapshot: Snapshot, capacity: Capacity): Pick<Assessment, 'kind' | 'verdict' | 'severity' | 'summary' | 'fix'> {
  // Not blind, so both sides of the budget are known.
  // Behind PgBouncer, what reaches PostgreSQL is the budget on PostgreSQL (the pooler's verdict covers the rest).
  const budget = (capacity.postgresBudget ?? capacity.budget) as NonNullable<Capacity['budget']>;
  const through = capacity.pooler ? ' on PostgreSQL through PgBouncer' : '';
  const budgetHeadroom = capacity.budgetHeadroom as NonNullable<Capacity['budgetHeadroom']>;
  const other = capacity.otherBudgeted as number;
  const forCoder = capacity.available - other;
  const others = capacity.otherDeclarations.length > 0 ? `other applications (${other}, their declared pools included)` : `other applications (${other})`;
  const left = `${forCoder} of the ${capacity.available} available slots are left for Coder after ${others}`;
  if (capacity.unboundedPools) {
    return {
      kind: 'overcommitted',
      verdict: 'Overcommitted',
      severity: 'critical',
      summary: `A Coder pool has no maximum, so Coder may open any number of connections; ${left}.`,
      fix: 'set CODER_PG_CONN_MAX_OPEN on every replica (Go treats 0 as unlimited).',
    };
  }
  if (budgetHeadroom.steady < 0) {
    return {
      kind: 'overcommitted',
      verdict: 'Overcommitted',
      severity: 'critical',
      summary: `Coder may open ${budget.steady} connections${through} (${budget.rollout} during a rollout), but ${left}: ${-budgetHeadroom.steady} short, ${-budgetHeadroom.rollout} during a rollout.`,
      fix: fixFor(snapshot, capacity, budgetHeadroom.rollout),
    };
  }
  if (budgetHeadroom.rollout < 0) {
    return {
      kind: 'rollout-overcommitted',
      verdict: 'Rollout overcommitted',
      severity: 'critical',
      summary: `Coder's steady budget of ${budget.steady} fits with ${budgetHeadroom.steady} to spare, but a rolling update may open ${budget.rollout}: ${-budgetHeadroom.rollout} short of the ${forCoder} slots left for Coder.`,
      fix: fixFor(snapshot, capacity, budgetHeadroom.rollout),
    };
  }
  return {
    kind: 'fits',
    verdict: 'Fits',
    severity: null,
    summary: `Coder may open ${budget.steady} connections${through} (${budget.rollout} during a rollout) and ${forCoder} slots are left for it: ${budgetHeadroom.steady} spare, ${budgetHeadroom.rollout} during a rollout.`,
    fix: null,
  };
}

/** Below 2 a pool is no pool: coderd serves requests and runs jobs at once. */
const SMALLEST_WORKABLE_POOL_MAX = 2;

function fixFor(snapshot: Snapshot, capacity: Capacity, rolloutHeadroom: number): string {
  const options: string[] = [];
  const { recommendedPoolMax, maxSafeReplicas, largestPoolMax } = capacity;
  const margin = `${Math.round(snapshot.plan.safetyMargin * 100)}%`;
  const replicas = plural(capacity.replicas.planned, 'replica');
  if (recommendedPoolMax !== null && recommendedPoolMax >= SMALLEST_WORKABLE_POOL_MAX) {
    options.push(`lower the pool max to ${recommendedPoolMax} (CODER_PG_CONN_MAX_OPEN) for ${replicas}`);
  } else {
    options.push(`no workable pool max fits ${replicas}: raise max_connections or run fewer replicas`);
  }
  if (maxSafeReplicas !== null && maxSafeReplicas > 0) options.push(`run at most ${plural(maxSafeReplicas, 'replica')} at pool max ${largestPoolMax}`);
  options.push(`raise max_connections by at least ${-rolloutHeadroom} (more to keep ${margin} spare)`);
  return `${options.join(', or ')}.`;
}
