// The findings about PostgreSQL and the roles on it: a superuser Coder role, a monitor
// that lacks pg_read_all_stats (both with the SQL that fixes them), and a slow round trip.

import type { Capacity } from './capacity.js';
import type { Finding } from './finding.js';
import type { PostgresFacts } from './snapshot.js';
import { thresholds } from './thresholds.js';

/** A SQL identifier, quoted: role names may hold anything. */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function postgresFindings(pg: PostgresFacts, capacity: Capacity, roundTripSeconds: number | null): Finding[] {
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
