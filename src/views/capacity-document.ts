// The one JSON shape of a poll: served by /api/v1/capacity and printed by
// `check --output json`, so scripts read one contract whichever they call. Every figure
// in it comes from the model (PollResult); this only arranges it.

import type { PollResult } from '../model/poll-result.js';
import { exitCodeOf, type Assessment } from '../model/verdict.js';

export interface CapacityDocument {
  version: string;
  polledAt: string;
  verdict: { kind: Assessment['kind']; headline: string; severity: Assessment['severity']; exitCode: 0 | 1 | 2; summary: string; fix: string | null };
  /** --coder.pool-max given to `check`: every replica was judged at it (null in the daemon). */
  whatIfPoolMax: number | null;
  /** --postgres.max-connections given to `check`: the fleet was judged on a server of this size (null in the daemon). */
  whatIfMaxConnections: number | null;
  /** --pgbouncer.pool-size given to `check`: Coder's PgBouncer pool was judged at it on every instance (null in the daemon). */
  whatIfPgbouncerPoolSize: number | null;
  plan: PollResult['snapshot']['plan'];
  blind: PollResult['blind'];
  postgres: { up: boolean; full: boolean; error: string | null; failure: PollResult['snapshot']['postgresFailure']; roundTripSeconds: number | null; facts: PollResult['snapshot']['postgres'] };
  capacity: PollResult['capacity'];
  /** The replicas as scraped (before a what-if pool max replaced theirs). */
  replicas: PollResult['snapshot']['replicas'];
  coderErrors: PollResult['coderErrors'];
  /** Each PgBouncer instance as read (--pgbouncer.url); null when Coder connects directly. The pooler's figures are in capacity.pooler. */
  pgbouncer: NonNullable<PollResult['snapshot']['pooler']> | null;
  findings: Assessment['findings'];
}

export function capacityDocument(
  result: PollResult,
  assessment: Assessment,
  options: { version: string; whatIfPoolMax?: number | null; whatIfMaxConnections?: number | null; whatIfPgbouncerPoolSize?: number | null; scraped?: PollResult['snapshot'] },
): CapacityDocument {
  return {
    version: options.version,
    polledAt: new Date(result.completedAt).toISOString(),
    verdict: {
      kind: assessment.kind,
      headline: assessment.verdict,
      severity: assessment.severity,
      exitCode: exitCodeOf(assessment),
      summary: assessment.summary,
      fix: assessment.fix,
    },
    whatIfPoolMax: options.whatIfPoolMax ?? null,
    whatIfMaxConnections: options.whatIfMaxConnections ?? null,
    whatIfPgbouncerPoolSize: options.whatIfPgbouncerPoolSize ?? null,
    plan: result.snapshot.plan,
    blind: result.blind,
    postgres: {
      up: result.snapshot.postgres !== null,
      full: result.postgresFull,
      error: result.postgresError,
      failure: result.snapshot.postgresFailure,
      roundTripSeconds: result.roundTripSeconds,
      facts: result.snapshot.postgres,
    },
    capacity: result.capacity,
    replicas: (options.scraped ?? result.snapshot).replicas,
    coderErrors: result.coderErrors,
    pgbouncer: result.snapshot.pooler ?? null,
    findings: assessment.findings,
  };
}
