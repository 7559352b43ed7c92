// What a person should take from one poll: a verdict (does Coder fit?), what to change
// when it does not, and the findings worth acting on. The status page and `check` both
// show this, so they never disagree. Pure: no clock, no I/O.

import type { Capacity } from '../model/capacity.js';
import { replicaPoolMax } from '../model/capacity.js';
import type { PostgresFacts, Snapshot } from '../model/snapshot.js';
import type { PollResult } from '../poller.js';
import { formatPercent } from './format.js';

/** Utilization above this is high: the same threshold as the CoderPostgresConnectionsHigh alert. */
export const HIGH_UTILIZATION = 0.8;
/** A poll round trip above this is slow: the same threshold as CoderPostgresLatencyHigh. */
export const HIGH_ROUND_TRIP_SECONDS = 0.01;

export type Verdict = 'Fits' | 'Rollout overcommitted' | 'Overcommitted' | 'PostgreSQL unreachable' | 'Waiting for the first poll';

/**
 * critical: Coder does not fit, or nothing can be known (exit 2);
 * warning: it fits, but not comfortably or not surely (exit 1);
 * notice: worth fixing, no bearing on the fit (exit 0).
 */
export type Severity = 'critical' | 'warning' | 'notice';

export type FindingId =
  | 'postgres-down'
  | 'unbounded-pools'
  | 'margin-not-kept'
  | 'utilization-high'
  | 'replicas-down'
  | 'discovery-failed'
  | 'coder-role-missing'
  | 'no-replicas'
  | 'unaccounted-connections'
  | 'privileges-missing'
  | 'superuser-role'
  | 'latency-high';

export interface Finding {
  id: FindingId;
  severity: Severity;
  title: string;
  detail: string;
  /** SQL that fixes it, when there is one. */
  sql?: string;
}

export interface Assessment {
  verdict: Verdict;
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

/** A SQL identifier, quoted: role names may hold anything. */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
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
    return { verdict: 'Waiting for the first poll', severity: 'notice', summary: 'The monitor has not finished its first poll yet.', fix: null, findings: [] };
  }
  const { snapshot, capacity } = result;
  const findings = [...replicaFindings(result)];
  if (capacity === null || snapshot.postgres === null) {
    const error = result.postgresError ?? 'PostgreSQL could not be polled';
    findings.unshift({ id: 'postgres-down', severity: 'critical', title: 'PostgreSQL is unreachable', detail: error });
    return {
      verdict: 'PostgreSQL unreachable',
      severity: 'critical',
      summary: 'Every figure is derived from PostgreSQL, so none is shown until the monitor reaches it again.',
      fix: null,
      findings,
    };
  }
  findings.unshift(...capacityFindings(snapshot, capacity));
  findings.push(...postgresFindings(snapshot.postgres, capacity, options.judgeLatency === false ? null : result.roundTripSeconds));
  findings.sort((a, b) => severityRank[b.severity] - severityRank[a.severity]);
  return { ...budgetVerdict(snapshot, capacity), findings };
}

function budgetVerdict(snapshot: Snapshot, capacity: Capacity): Pick<Assessment, 'verdict' | 'severity' | 'summary' | 'fix'> {
  const { budget, budgetHeadroom } = capacity;
  const forCoder = capacity.available - capacity.other;
  const left = `${forCoder} of the ${capacity.available} available slots are left for Coder after other applications (${capacity.other})`;
  if (capacity.unboundedPools) {
    return {
      verdict: 'Overcommitted',
      severity: 'critical',
      summary: `A Coder pool has no maximum, so Coder may open any number of connections; ${left}.`,
      fix: 'set CODER_PG_CONN_MAX_OPEN on every replica (Go treats 0 as unlimited).',
    };
  }
  if (budgetHeadroom.steady < 0) {
    return {
      verdict: 'Overcommitted',
      severity: 'critical',
      summary: `Coder may open ${budget.steady} connections (${budget.rollout} during a rollout), but ${left}: ${-budgetHeadroom.steady} short, ${-budgetHeadroom.rollout} during a rollout.`,
      fix: fixFor(snapshot, capacity),
    };
  }
  if (budgetHeadroom.rollout < 0) {
    return {
      verdict: 'Rollout overcommitted',
      severity: 'critical',
      summary: `Coder's steady budget of ${budget.steady} fits with ${budgetHeadroom.steady} to spare, but a rolling update may open ${budget.rollout}: ${-budgetHeadroom.rollout} short of the ${forCoder} slots left for Coder.`,
      fix: fixFor(snapshot, capacity),
    };
  }
  return {
    verdict: 'Fits',
    severity: null,
    summary: `Coder may open ${budget.steady} connections (${budget.rollout} during a rollout) and ${forCoder} slots are left for it: ${budgetHeadroom.steady} spare, ${budgetHeadroom.rollout} during a rollout.`,
    fix: null,
  };
}

function fixFor(snapshot: Snapshot, capacity: Capacity): string {
  const options: string[] = [];
  const { recommendedPoolMax, maxSafeReplicas, largestPoolMax } = capacity;
  const margin = `${Math.round(snapshot.plan.safetyMargin * 100)}%`;
  if (recommendedPoolMax !== null && recommendedPoolMax > 0) {
    options.push(`lower the pool max to ${recommendedPoolMax} (CODER_PG_CONN_MAX_OPEN) for ${plural(capacity.replicas.planned, 'replica')}`);
  }
  if (maxSafeReplicas > 0) options.push(`run at most ${plural(maxSafeReplicas, 'replica')} at pool max ${largestPoolMax}`);
  options.push(`raise max_connections by at least ${-capacity.budgetHeadroom.rollout} (more to keep ${margin} spare)`);
  return `${options.join(', or ')}.`;
}

function capacityFindings(snapshot: Snapshot, capacity: Capacity): Finding[] {
  const findings: Finding[] = [];
  const margin = `${Math.round(snapshot.plan.safetyMargin * 100)}%`;
  if (capacity.unboundedPools) {
    const unbounded = snapshot.replicas.filter((replica) => replicaPoolMax(replica, snapshot.plan) === 0).map((replica) => replica.replica);
    const where = unbounded.length > 0 ? unbounded.join(', ') : 'the planned replicas (--coder.pool-max 0)';
    findings.push({
      id: 'unbounded-pools',
      severity: 'critical',
      title: 'Unbounded connection pools',
      detail: `go_sql_max_open_connections is 0 (no limit) on ${where}: under load such a replica opens connections until PostgreSQL refuses them. Set CODER_PG_CONN_MAX_OPEN.`,
    });
  }
  const { recommendedPoolMax, largestPoolMax } = capacity;
  if (
    capacity.budgetHeadroom.rollout >= 0 &&
    recommendedPoolMax !== null &&
    largestPoolMax > 0 &&
    recommendedPoolMax < largestPoolMax
  ) {
    findings.push({
      id: 'margin-not-kept',
      severity: 'warning',
      title: `The ${margin} safety margin is not kept`,
      detail: `A rollout fits, but with ${margin} of the slots kept spare the largest pool max is ${recommendedPoolMax}, not ${largestPoolMax}; at pool max ${largestPoolMax} at most ${plural(capacity.maxSafeReplicas, 'replica')} keep the margin.`,
    });
  }
  if (capacity.utilization > HIGH_UTILIZATION) {
    findings.push({
      id: 'utilization-high',
      severity: 'warning',
      title: 'PostgreSQL is nearly full',
      detail: `${capacity.used} of ${capacity.available} available slots are in use (${formatPercent(capacity.utilization)}, above ${formatPercent(HIGH_UTILIZATION)}).`,
    });
  }
  if (capacity.replicas.planned === 0) {
    findings.push({
      id: 'no-replicas',
      severity: 'notice',
      title: 'No Coder replica seen or planned',
      detail: 'The budget counts no replica, so it is 0. Give --coder.targets (Coder metrics endpoints) or --coder.replicas.',
    });
  }
  if (capacity.unaccounted !== null && capacity.unaccounted > 0) {
    findings.push({
      id: 'unaccounted-connections',
      severity: 'notice',
      title: 'Unaccounted Coder connections',
      detail: `${plural(capacity.unaccounted, 'Coder connection')} that no scraped replica explains: a replica that cannot be scraped, one missing from --coder.targets, or another program using Coder's role.`,
    });
  }
  return findings;
}

function replicaFindings(result: PollResult): Finding[] {
  const findings: Finding[] = [];
  const down = result.snapshot.replicas.filter((replica) => !replica.up);
  if (down.length > 0) {
    const reasons = new Map(result.coderErrors.filter((error) => error.source === 'coder').map((error) => [error.target, error.message]));
    const detail = down.map((replica) => reasons.get(replica.replica) ?? `${replica.replica} cannot be scraped`).join('; ');
    findings.push({
      id: 'replicas-down',
      severity: 'warning',
      title: `${plural(down.length, 'replica')} cannot be scraped`,
      detail: `${detail}. ${down.length === 1 ? 'Its pool stays' : 'Their pools stay'} in the budget at the last known pool max; the connections show as unaccounted.`,
    });
  }
  const discovery = result.coderErrors.filter((error) => error.source === 'discovery');
  if (discovery.length > 0) {
    findings.push({
      id: 'discovery-failed',
      severity: 'warning',
      title: 'Coder targets could not be discovered',
      detail: discovery.map((error) => error.message).join('; '),
    });
  }
  return findings;
}

function postgresFindings(pg: PostgresFacts, capacity: Capacity, roundTripSeconds: number | null): Finding[] {
  const findings: Finding[] = [];
  if (pg.coderRole === null) {
    findings.push({
      id: 'coder-role-missing',
      severity: 'warning',
      title: "Coder's role does not exist",
      detail: "No PostgreSQL role has the name given for Coder, so no connection counts as Coder's and the figures are wrong: check --coder.role.",
    });
  } else if (pg.coderRole.superuser) {
    findings.push({
      id: 'superuser-role',
      severity: 'notice',
      title: "Coder's role is a superuser",
      detail: `Role ${pg.coderRole.name} can also take the ${capacity.reserved.superuser} slots reserved for superusers, so when the slots run out, administrators are locked out too. Give Coder a role without SUPERUSER.`,
      sql: `ALTER ROLE ${quoteIdent(pg.coderRole.name)} NOSUPERUSER;`,
    });
  }
  if (!pg.privilegesSufficient) {
    findings.push({
      id: 'privileges-missing',
      severity: 'notice',
      title: "The monitor cannot see other roles' connection states",
      detail: `Role ${pg.session.user} lacks pg_read_all_stats: counts stay right, but other roles' states read "unknown".`,
      sql: `GRANT pg_monitor TO ${quoteIdent(pg.session.user)};`,
    });
  }
  if (roundTripSeconds !== null && roundTripSeconds > HIGH_ROUND_TRIP_SECONDS) {
    findings.push({
      id: 'latency-high',
      severity: 'notice',
      title: 'Slow round trip to PostgreSQL',
      detail: `The poll statement took ${(roundTripSeconds * 1000).toFixed(1)} ms (above ${HIGH_ROUND_TRIP_SECONDS * 1000} ms): a slow network path or a busy server also slows every Coder query.`,
    });
  }
  return findings;
}
