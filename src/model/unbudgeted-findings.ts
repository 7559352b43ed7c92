// The findings about where slots go without being budgeted, and about the pool Coder needs:
// sessions idle in a transaction, a filling NOTIFY queue, pool churn, and a need no pool max
// can meet. verdict.ts adds them to the others; the thresholds are the alerts' (thresholds.ts).

import type { Capacity } from './capacity.js';
import type { Finding } from './finding.js';
import type { PoolCloseReason } from './pool-closes.js';
import type { Snapshot } from './snapshot.js';
import { thresholds } from './thresholds.js';
import { formatDuration, formatPercent, plural } from './wording.js';

/** A SQL string literal: role and database names may hold anything. */
function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

const perMinute = (perSecond: number) => Math.round(perSecond * 60);

const reasonWords: Record<PoolCloseReason, string> = {
  max_idle: 'max_idle (the idle cap, CODER_PG_CONN_MAX_IDLE)',
  max_idle_time: 'max_idle_time',
  max_lifetime: 'max_lifetime',
};

export function unbudgetedFindings(snapshot: Snapshot, capacity: Capacity): Finding[] {
  const findings: Finding[] = [];
  const { unbudgeted, demand } = capacity;
  const { attribution } = snapshot;

  const coder = unbudgeted.idleInTransaction.find((entry) => entry.owner === 'coder');
  if (coder?.oldestSeconds != null && coder.oldestSeconds > thresholds.idleInTransactionSeconds) {
    findings.push({
      id: 'idle-in-transaction',
      severity: 'warning',
      title: `${plural(coder.count, "Coder session")} idle in a transaction`,
      detail: `${plural(coder.count, 'connection')} of Coder's ${coder.count === 1 ? 'is' : 'are'} idle in a transaction, the oldest for ${formatDuration(coder.oldestSeconds)} (over ${thresholds.idleInTransactionSeconds} s): each holds a slot, a pool connection and its locks while doing nothing (coder/coder#21339 saw 3 of 10 per replica). Find them with the query below; idle_in_transaction_session_timeout ends such sessions (see the runbook).`,
      sql: `SELECT pid, client_addr, now() - state_change AS idle_for, left(query, 80) AS last_query FROM pg_stat_activity WHERE usename = ${quoteLiteral(attribution.role)} AND datname = ${quoteLiteral(attribution.database)} AND state LIKE 'idle in transaction%' ORDER BY state_change;`,
    });
  }

  if (unbudgeted.notifyQueueUsage > thresholds.notifyQueueWarning) {
    const critical = unbudgeted.notifyQueueUsage > thresholds.notifyQueueCritical;
    findings.push({
      id: 'notify-queue-filling',
      severity: critical ? 'critical' : 'warning',
      title: critical ? 'The NOTIFY queue is almost full' : 'The NOTIFY queue is filling',
      detail: `pg_notification_queue_usage() is ${formatPercent(unbudgeted.notifyQueueUsage)} (above ${formatPercent(critical ? thresholds.notifyQueueCritical : thresholds.notifyQueueWarning)}): a listening session is not taking its notifications, often one stuck in a long transaction. Once the queue is full NOTIFY fails, and Coder's pubsub (workspace and build updates) with it. The oldest transactions:`,
      sql: 'SELECT pid, usename, application_name, state, now() - xact_start AS in_transaction_for FROM pg_stat_activity WHERE xact_start IS NOT NULL ORDER BY xact_start LIMIT 5;',
    });
  }

  const churning = unbudgeted.poolChurn.filter((replica) => replica.closesPerSecond > thresholds.poolChurnClosesPerSecond);
  if (churning.length > 0) {
    const each = churning.map((replica) => {
      const reasons = (Object.entries(replica.byReason) as [PoolCloseReason, number | null][])
        .filter(([, rate]) => rate !== null && rate > 0)
        .map(([reason, rate]) => `${reasonWords[reason]} ${perMinute(rate as number)}`);
      return `${replica.replica} closes ${perMinute(replica.closesPerSecond)} connections a minute (${reasons.join(', ')})`;
    });
    findings.push({
      id: 'pool-churn',
      severity: 'warning',
      title: `${plural(churning.length, 'replica')} ${churning.length === 1 ? 'churns its' : 'churn their'} database connections`,
      detail: `${each.join('; ')}, above ${perMinute(thresholds.poolChurnClosesPerSecond)} a minute: each close is reopened later as a new PostgreSQL backend (a process start, authentication, TLS). Raise CODER_PG_CONN_MAX_IDLE (default auto, a third of CODER_PG_CONN_MAX_OPEN) towards the pool max: idle connections within the pool max cost no slot the budget does not already count.`,
    });
  }

  if (demand.doesBoth === false && demand.needed !== null) {
    const { needed } = demand;
    const why = `replica ${needed.replica} had ${needed.peak} in use${needed.waitsRose ? ' and its requests waited for a connection' : ''} over the last ${formatDuration(needed.coveredSeconds)}`;
    const fits = demand.fits === 0 ? 'no pool max fits a rollout' : `at most ${demand.fits} fits a rollout`;
    findings.push({
      id: 'pool-need-unmet',
      severity: 'warning',
      title: 'No pool max both serves Coder and fits',
      detail: `Coder needs pool max ${needed.connections} (${why}), but ${fits} with ${formatPercent(snapshot.plan.safetyMargin)} of the slots spare. Raise max_connections (check's plan says to what), or free slots other applications hold.`,
    });
  }
  return findings;
}
