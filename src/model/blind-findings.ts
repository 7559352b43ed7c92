// The findings of a poll in which the monitor is blind: one per reason, each saying what
// cannot be known and what to check. The verdict's "Cannot judge: ..." headline is theirs too.

import type { BlindReason } from './blind.js';
import type { Finding } from './finding.js';
import { poolerBlindDetail } from './pooler-findings.js';
import type { PollResult } from './poll-result.js';
import type { Snapshot } from './snapshot.js';

/** Short names of the blind reasons, for the headline "Cannot judge: ...". */
export function blindHeadline(reason: BlindReason, snapshot: Snapshot): string {
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
    case 'postgres_standby':
      return `${postgresName(snapshot)} is a standby`;
  }
}

/** The server polled, as the operator configured it: its host and port from the session, else "PostgreSQL". */
function postgresName(snapshot: Snapshot): string {
  const session = snapshot.postgres?.session;
  return session?.port ? `PostgreSQL (port ${session.port}, database ${session.database})` : 'PostgreSQL';
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
    postgres_standby:
      "The server the monitor polls is in recovery (pg_is_in_recovery()): a hot standby, such as an RDS or Aurora reader endpoint or a CloudNativePG -ro Service. Coder writes to the primary and holds no connection here, so every figure would read as a fit. Point --postgres.url at the primary (the writer endpoint).",
    coder_connections_mismatch: `The scraped replicas report ${-(result.capacity?.unaccounted ?? 0)} more connections than PostgreSQL shows for role "${attribution.role}" in database "${attribution.database}"${attribution.applicationName ? ` with application_name "${attribution.applicationName}"` : ''}, two polls in a row: Coder's connections are counted as other applications', so the verdict would be wrong. Check --coder.role, --coder.database and --coder.application-name.`,
  };
  return result.blind.map((reason) => ({ id: `blind-${reason}` as const, severity: 'critical' as const, title: `Cannot judge: ${blindHeadline(reason, snapshot)}`, detail: detail[reason] }));
}
