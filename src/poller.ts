// The poller: runs the sources side by side, joins what they saw into one Snapshot,
// derives the Capacity, and keeps the latest result for everyone who reads it (the
// exposition, the HTTP API, `check`). Failures are data here: they become fields,
// counters and one log line per transition, never an exception.

import type { Logger } from './log.js';
import type { BlindReason } from './model/blind.js';
import { evaluate, type Capacity } from './model/capacity.js';
import { postgresFailureKind } from './model/postgres-failure.js';
import type { CoderAttribution, PlanSettings, ReplicaSources, Snapshot } from './model/snapshot.js';
import type { CoderPoll, CoderSource } from './sources/coder.js';
import type { PostgresPoll, PostgresSource } from './sources/postgres.js';

export type SourceName = 'postgres' | 'coder' | 'discovery';

export interface PollResult {
  snapshot: Snapshot;
  capacity: Capacity | null;
  /** Why the monitor cannot judge this poll (empty when it can): see model/blind.ts. */
  blind: BlindReason[];
  /** PostgreSQL refused the monitor for want of a slot, or shows headroom 0 or less. */
  postgresFull: boolean;
  /** Why PostgreSQL could not be polled, when it could not. */
  postgresError: string | null;
  /** Per-replica and discovery errors of this poll. */
  coderErrors: CoderPoll['errors'];
  /** Wall-clock end of the poll, ms since the epoch. */
  completedAt: number;
  durations: Record<'postgres' | 'coder', number>;
  roundTripSeconds: number | null;
}

export interface PollerOptions {
  postgres: Pick<PostgresSource, 'poll' | 'address'>;
  coder: Pick<CoderSource, 'poll'>;
  plan: PlanSettings;
  sources: ReplicaSources;
  attribution: CoderAttribution;
  logger: Logger;
}

type Listener = (result: PollResult) => void;

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

export class Poller {
  private latestResult: PollResult | null = null;
  private lastSuccessAt: number | null = null;
  private readonly listeners: Listener[] = [];
  /** What was last logged, so a persisting state is logged once, not every poll. */
  private readonly reported = {
    postgresDown: null as string | null,
    privilegesInsufficient: false,
    blind: new Set<BlindReason>(),
    replicaErrors: new Map<string, string>(),
  };

  constructor(private readonly options: PollerOptions) {}

  get latest(): PollResult | null {
    return this.latestResult;
  }

  /** When PostgreSQL was last polled successfully (ms since the epoch). */
  get lastPostgresSuccessAt(): number | null {
    return this.lastSuccessAt;
  }

  onPoll(listener: Listener): void {
    this.listeners.push(listener);
  }

  async pollOnce(): Promise<PollResult> {
    const [postgres, coder] = await Promise.all([
      timed(() => this.options.postgres.poll()),
      timed(() => this.options.coder.poll()),
    ]);
    const snapshot: Snapshot = {
      postgres: postgres.value.ok ? postgres.value.facts : null,
      postgresFailure: postgres.value.ok ? null : { kind: postgresFailureKind(postgres.value.code), code: postgres.value.code, message: postgres.value.error },
      replicas: coder.value.replicas,
      plan: this.options.plan,
      sources: this.options.sources,
      attribution: this.options.attribution,
      previousUnaccounted: this.latestResult?.capacity?.unaccounted ?? null,
    };
    const evaluation = evaluate(snapshot);
    const result: PollResult = {
      snapshot,
      ...evaluation,
      postgresError: postgres.value.ok ? null : postgres.value.error,
      coderErrors: coder.value.errors,
      completedAt: Date.now(),
      durations: { postgres: postgres.seconds, coder: coder.seconds },
      roundTripSeconds: postgres.value.ok ? postgres.value.roundTripSeconds : null,
    };
    if (postgres.value.ok) this.lastSuccessAt = result.completedAt;
    this.latestResult = result;
    this.logTransitions(postgres.value, result);
    for (const listener of this.listeners) listener(result);
    return result;
  }

  private logTransitions(postgres: PostgresPoll, result: PollResult): void {
    const { logger } = this.options;
    const seen = this.reported;

    if (!postgres.ok && seen.postgresDown !== postgres.error) {
      logger.error({ source: 'postgres', code: postgres.code }, postgres.error);
      seen.postgresDown = postgres.error;
    } else if (postgres.ok && seen.postgresDown !== null) {
      logger.info({ source: 'postgres', address: this.options.postgres.address }, 'PostgreSQL is reachable again');
      seen.postgresDown = null;
    }

    const facts = result.snapshot.postgres;
    if (facts && !facts.privilegesSufficient && !seen.privilegesInsufficient) {
      logger.warn(
        { source: 'postgres', role: facts.session.user },
        `the monitor's role cannot see other roles' connection states; counts stay right but states read "unknown". Fix: GRANT pg_monitor TO "${facts.session.user}";`,
      );
    }
    if (facts) seen.privilegesInsufficient = !facts.privilegesSufficient;

    // Blind reasons, once on the way in and once on the way out. While PostgreSQL is down
    // the ones it tells are unknown, not gone: keep them as they were.
    const blindNow = new Set(result.blind);
    for (const reason of blindNow) {
      if (!seen.blind.has(reason)) logger.warn({ blind: reason }, `cannot judge: ${blindMessage(reason, result)}`);
    }
    for (const reason of seen.blind) {
      if (!blindNow.has(reason) && facts) logger.info({ blind: reason }, `no longer blind: ${reason}`);
    }
    if (facts || blindNow.size > 0) seen.blind = blindNow;

    const current = new Map(result.coderErrors.map((error) => [error.target, error.message]));
    for (const [target, message] of current) {
      if (seen.replicaErrors.get(target) !== message) {
        logger.warn({ source: result.coderErrors.find((e) => e.target === target)?.source, target }, message);
      }
    }
    const upNow = new Set(result.snapshot.replicas.filter((replica) => replica.up).map((replica) => replica.replica));
    for (const target of seen.replicaErrors.keys()) {
      if (!current.has(target) && upNow.has(target)) logger.info({ source: 'coder', target }, 'Coder target answers again');
    }
    seen.replicaErrors.clear();
    for (const [target, message] of current) seen.replicaErrors.set(target, message);
  }
}

/** The log line for a blind reason: what is wrong, with which input, and what to do. */
function blindMessage(reason: BlindReason, result: PollResult): string {
  const facts = result.snapshot.postgres;
  switch (reason) {
    case 'no_replicas_configured':
      return 'no Coder replica is configured: give --coder.targets (coderd metrics endpoints), --coder.replicas or --coder.replicas-from-db; every budget figure stays absent until then';
    case 'no_replicas_found':
      return 'no Coder replica was found this poll (no target answered discovery, and the replicas table shows none): check --coder.targets resolves, or set --coder.replicas';
    case 'replicas_table_unreadable':
      return facts?.replicasTableError ?? "Coder's replicas table cannot be read";
    case 'coder_role_missing':
      return "Coder's role does not exist in PostgreSQL, so no connection can be attributed to Coder: check --coder.role";
    case 'coder_database_missing':
      return "Coder's database does not exist in PostgreSQL, so no connection can be attributed to Coder: check --coder.database";
    case 'coder_connections_mismatch':
      return "the replicas report more connections than PostgreSQL shows for Coder's role, database and application name, two polls in a row: check --coder.role, --coder.database and --coder.application-name";
  }
}
