// What a person should take from one poll: a verdict (does Coder fit?), what to change
// when it does not, and the findings worth acting on. The status page and `check` both
// show this, so they never disagree. Pure: no clock, no I/O.

import type { BlindReason } from './blind.js';
import type { Capacity } from './capacity.js';
import { replicaPoolMax } from './capacity.js';
import type { PostgresFailure } from './postgres-failure.js';
import type { PostgresFacts, Snapshot } from './snapshot.js';
import { thresholds } from './thresholds.js';
import { unbudgetedFindings, type UnbudgetedFindingId } from './unbudgeted-findings.js';
import { poolerBlindDetail, poolerFindings, poolerVerdict, type PoolerFindingId, type PoolerVerdictKind } from './pooler-findings.js';
import type { PollResult } from './poll-result.js';
import { formatPercent, plural } from './wording.js';

export type VerdictKind = 'fits' | 'rollout-overcommitted' | 'overcommitted' | 'postgres-full' | 'cannot-judge' | 'postgres-down' | 'waiting' | PoolerVerdictKind;

/**
 * critical: Coder does not fit, or nothing can be known (exit 2);
 * warning: it fits, but not comfortably or not surely (exit 1);
 * notice: worth fixing, no bearing on the fit (exit 0).
 */
export type Severity = 'critical' | 'warning' | 'notice';

export type FindingId =
  | 'postgres-down'
  | 'postgres-full'
  | `blind-${BlindReason}`
  | 'unbounded-pools'
  | 'margin-not-kept'
  | 'utilization-high'
  | 'replicas-down'
  | 'discovery-failed'
  | 'unaccounted-connections'
  | 'other-budget-stale'
  | 'privileges-missing'
  | 'superuser-role'
  | 'latency-high'
  | UnbudgetedFindingId
  | PoolerFindingId;

export interface Finding {
  id: FindingId;
  severity: Severity;
  title: string;
  detail: string;
  /** SQL that fixes it, when there is one. */
  sql?: string;
}

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

/** A SQL identifier, quoted: role names may hold anything. */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
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
  if (capacity === null || snapshot.postgres === null) {
    const failure = snapshot.postgresFailure ?? { kind: 'unreachable', code: null, message: result.postgresError ?? 'PostgreSQL could not be polled' };
    const down = postgresDownVerdict(failure);
    findings.unshift({ id: failure.kind === 'full' ? 'postgres-full' : 'postgres-down', severity: 'critical', title: down.verdict, detail: failure.message });
    return { ...down, severity: 'critical', fix: null, findings: sortFindings(findings) };
  }
  findings.push(...capacityFindings(snapshot, capacity, result.postgresFull));
  findings.push(...postgresFindings(snapshot.postgres, capacity, options.judgeLatency === false ? null : result.roundTripSeconds));
  findings.push(...unbudgetedFindings(snapshot, capacity));
  findings.push(...poolerFindings(capacity));
  return { ...verdictOf(result, capacity), findings: sortFindings(findings) };
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => severityRank[b.severity] - severityRank[a.severity]);
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

/** Short names of the blind reasons, for the headline "Cannot judge: ...". */
function blindHeadline(reason: BlindReason, snapshot: Snapshot): string {
  const { attribution } = snapshot;
  switch (reason) {
    case 'no_replicas_configured':
      return 'no Coder replica configured';
    case 'no_replicas_found':
      return 'no Coder replica found';
    case 'replicas_table_unreadable':
      return "Coder's replicas table cannot be read";
    case 'coder_role_missing':
      return `Coder's role "${attribution.role}" does not exist`;
    case 'coder_database_missing':
      return `Coder's database "${attribution.database}" does not exist`;
    case 'coder_connections_mismatch':
      return "the replicas hold more connections than PostgreSQL shows for Coder";
    case 'pgbouncer_unreadable':
      return 'a PgBouncer instance cannot be read';
  }
}

/** One finding per blind reason of the poll: what the page, check and the daemon's log say. */
export function blindFindings(result: PollResult): Finding[] {
  const { snapshot } = result;
  const { attribution } = snapshot;
  const discovery = result.coderErrors.filter((error) => error.source === 'discovery').map((error) => error.message);
  const detail: Record<BlindReason, string> = {
    no_replicas_configured:
      'Without --coder.targets (coderd metrics endpoints), --coder.replicas or --coder.replicas-from-db the monitor does not know how many replicas share the slots, so it shows no budget. Give one of them.',
    no_replicas_found: `Replicas were configured, but none was found this poll${discovery.length > 0 ? ` (${discovery.join('; ')})` : ''}. A budget of 0 would read as a fit, so none is shown: fix discovery, or set --coder.replicas to the planned count.`,
    replicas_table_unreadable: `${snapshot.postgres?.replicasTableError ?? "Coder's replicas table cannot be read"}. The rest of the poll stands; the replicas table's count is left out.`,
    coder_role_missing: `No PostgreSQL role is named "${attribution.role}", so no connection counts as Coder's and Coder's connections, other applications' and every budget headroom are unknown: check --coder.role (SELECT rolname FROM pg_roles).`,
    coder_database_missing: `No PostgreSQL database is named "${attribution.database}", so no connection counts as Coder's and Coder's connections, other applications' and every budget headroom are unknown: check --coder.database (SELECT datname FROM pg_database).`,
    pgbouncer_unreadable: poolerBlindDetail(snapshot),
    coder_connections_mismatch: `The scraped replicas report ${-(result.capacity?.unaccounted ?? 0)} more connections than PostgreSQL shows for role "${attribution.role}" in database "${attribution.database}"${attribution.applicationName ? ` with application_name "${attribution.applicationName}"` : ''}, two polls in a row: Coder's connections are counted as other applications', so the verdict would be wrong. Check --coder.role, --coder.database and --coder.application-name.`,
  };
  return result.blind.map((reason) => ({ id: `blind-${reason}` as const, severity: 'critical' as const, title: `Cannot judge: ${blindHeadline(reason, snapshot)}`, detail: detail[reason] }));
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
  const [first, ...more] = result.blind;
  if (first !== undefined) {
    return {
      kind: 'cannot-judge',
      verdict: `Cannot judge: ${blindHeadline(first, snapshot)}`,
      severity: 'critical',
      summary: `The monitor cannot tell whether Coder fits${more.length > 0 ? `, for ${more.length + 1} reasons (see the findings)` : ''}: it shows no figure it cannot know, and fails closed.`,
      fix: null,
    };
  }
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

function capacityFindings(snapshot: Snapshot, capacity: Capacity, postgresFull: boolean): Finding[] {
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
  const { recommendedPoolMax, largestPoolMax, maxSafeReplicas, budgetHeadroom } = capacity;
  if (
    budgetHeadroom !== null &&
    budgetHeadroom.rollout >= 0 &&
    recommendedPoolMax !== null &&
    maxSafeReplicas !== null &&
    largestPoolMax > 0 &&
    recommendedPoolMax < largestPoolMax
  ) {
    findings.push({
      id: 'margin-not-kept',
      severity: 'warning',
      title: `The ${margin} safety margin is not kept`,
      detail: `A rollout fits, but with ${margin} of the slots kept spare the largest pool max is ${recommendedPoolMax}, not ${largestPoolMax}; at pool max ${largestPoolMax} at most ${plural(maxSafeReplicas, 'replica')} keep the margin.`,
    });
  }
  if (postgresFull) {
    findings.push({
      id: 'postgres-full',
      severity: 'critical',
      title: 'PostgreSQL is full',
      detail: `${capacity.used} of ${capacity.available} available slots are in use (headroom ${capacity.headroom}): new connections of ordinary roles are refused.`,
    });
  } else if (capacity.utilization > thresholds.utilizationWarning) {
    // The same two steps as CoderPostgresConnectionsHigh: warning above 80%, critical above 90%.
    const critical = capacity.utilization > thresholds.utilizationCritical;
    findings.push({
      id: 'utilization-high',
      severity: critical ? 'critical' : 'warning',
      title: critical ? 'PostgreSQL is almost full' : 'PostgreSQL is filling up',
      detail: `${capacity.used} of ${capacity.available} available slots are in use (${formatPercent(capacity.utilization)}, above ${formatPercent(critical ? thresholds.utilizationCritical : thresholds.utilizationWarning)}).`,
    });
  }
  for (const declaration of capacity.otherDeclarations.filter((d) => d.live > d.budget)) {
    findings.push({
      id: 'other-budget-stale',
      severity: 'warning',
      title: `--other.budget ${declaration.text} is stale`,
      detail: `${declaration.text} holds ${declaration.live} connections, more than the ${declaration.budget} declared: the budget counts the ${declaration.live} it holds, but the declaration no longer says what it may open. Raise it to its real pool size.`,
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
  if (pg.coderRole?.superuser) {
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
  if (roundTripSeconds !== null && roundTripSeconds > thresholds.roundTripSeconds) {
    findings.push({
      id: 'latency-high',
      severity: 'notice',
      title: 'Slow round trip to PostgreSQL',
      detail: `The poll statement took ${(roundTripSeconds * 1000).toFixed(1)} ms (above ${thresholds.roundTripSeconds * 1000} ms): a slow network path or a busy server also slows every Coder query.`,
    });
  }
  return findings;
}
