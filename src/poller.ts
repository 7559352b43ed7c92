// The poller: runs the sources side by side, joins what they saw into one Snapshot,
// derives the Capacity, and keeps the latest result for everyone who reads it (the
// exposition, the HTTP API, `check`). Failures are data here: they become fields,
// counters and one log line per transition, never an exception.

import type { Logger } from './log.js';
import { computeCapacity, type Capacity } from './model/capacity.js';
import type { PlanSettings, Snapshot } from './model/snapshot.js';
import type { CoderPoll, CoderSource } from './sources/coder.js';
import type { PostgresPoll, PostgresSource } from './sources/postgres.js';

export type SourceName = 'postgres' | 'coder' | 'discovery';

export interface PollResult {
  snapshot: Snapshot;
  capacity: Capacity | null;
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
    roleMissing: false,
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
      replicas: coder.value.replicas,
      plan: this.options.plan,
    };
    const result: PollResult = {
      snapshot,
      capacity: computeCapacity(snapshot),
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

    if (facts && facts.coderRole === null && !seen.roleMissing) {
      logger.warn({ source: 'postgres' }, "Coder's role does not exist in PostgreSQL, so no connection counts as Coder's: check --coder.role");
    }
    if (facts) seen.roleMissing = facts.coderRole === null;

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
