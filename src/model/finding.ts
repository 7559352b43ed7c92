// What a finding is: one thing worth acting on, with how much it matters. Every group of
// findings (blind-, capacity-, replica-, footprint-, postgres-, unbudgeted-, pooler-findings.ts) builds
// this one shape, and the verdict, the status page and `check` read it.

import type { BlindReason } from './blind.js';

/**
 * critical: Coder does not fit, or nothing can be known (exit 2);
 * warning: it fits, but not comfortably or not surely (exit 1);
 * notice: worth fixing, no bearing on the fit (exit 0).
 */
export type Severity = 'critical' | 'warning' | 'notice';

/** Every finding's id, in one list so that no two groups take the same; the status page and the JSON document carry them. */
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
  // footprint-findings.ts
  | 'extra-connections-unbudgeted'
  | 'replica-footprints-unknown'
  | 'pubsub-disconnected'
  | 'replica-latency-high'
  // unbudgeted-findings.ts
  | 'idle-in-transaction'
  | 'notify-queue-filling'
  | 'pool-churn'
  | 'pool-need-unmet'
  // pooler-findings.ts
  | 'pgbouncer-not-session-mode'
  | 'pgbouncer-clients-overcommitted'
  | 'pgbouncer-queueing'
  | 'pgbouncer-clients-waiting';

export interface Finding {
  id: FindingId;
  severity: Severity;
  title: string;
  detail: string;
  /** SQL that fixes it, when there is one. */
  sql?: string;
}
