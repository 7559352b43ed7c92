// The poller: runs the sources side by side, joins what they saw into one Snapshot,
// derives the Capacity, and keeps the latest result for everyone who reads it (the
// exposition, the HTTP API, `check`). Failures are data here: they become fields,
// counters and one log line per transition, never an exception.

import type { Logger } from './log.js';
import type { BlindReason } from './model/blind.js';
import { evaluate } from './model/capacity.js';
import { blindFindings } from './model/blind-findings.js';
import { observeDemand, type DemandWindow } from './model/demand.js';
import { footprintObservation } from './model/replica-footprints.js';
import { PollHistory, historyPointOf } from './model/history.js';
import type { PollResult } from './model/poll-result.js';
import type { CoderAttribution, Observations, PlanSettings, PoolCloses, ReplicaSources, Snapshot } from './model/snapshot.js';
import type { Source } from './sources/source.js';

export type { PollResult };

export interface PollerOptions {
  /** Polled side by side; their observations are merged in this order. */
  sources: Source[];
  plan: PlanSettings;
  replicaSources: ReplicaSources;
  attribution: CoderAttribution;
  /** Where PostgreSQL is, for the "reachable again" line. */
  postgresAddress: string;
  logger: Logger;
  /** --capacity.demand-window: how far back the pool Coder needs and the status page's picture look. */
  demandWindowMs?: number;
}

/** --capacity.demand-window's default: a day holds a working day's peak and the night's jobs. */
export const DEFAULT_DEMAND_WINDOW_MS = 24 * 3600 * 1000;

type Listener = (result: PollResult) => void;

/** What a poll observed when a source said nothing of it. */
const nothingObserved: Observations = { postgres: null, postgresFailure: null, roundTripSeconds: null, replicas: [], pooler: null };

export class Poller {
  private latestResult: PollResult | null = null;
  private lastSuccessAt: number | null = null;
  private readonly listeners: Listener[] = [];
  /** Poll state the next snapshot carries, as previousUnaccounted: the model itself keeps none. */
  private demand: DemandWindow | null = null;
  private lastCloses: { at: number; replicas: { replica: string; closed: PoolCloses }[] } | null = null;
  /** The polls of the demand window, for the status page's picture (bounded: see model/history.ts). */
  readonly history: PollHistory;
  /** What was last logged, so a persisting state is logged once, not every poll. */
  private readonly reported = {
    postgresDown: null as string | null,
    privilegesInsufficient: false,
    blind: new Set<BlindReason>(),
    replicaErrors: new Map<string, string>(),
  };

  constructor(private readonly options: PollerOptions) {
    this.history = new PollHistory(options.demandWindowMs ?? DEFAULT_DEMAND_WINDOW_MS);
  }

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
    const startedAt = Date.now();
    const collected = await Promise.all(this.options.sources.map((source) => source.collect()));
    const observed: Observations = Object.assign({ ...nothingObserved }, ...collected.map((collection) => collection.observations));
    const reports = collected.flatMap((collection) => collection.reports);
    // The demand window takes this poll's in-use counts and footprints before the model reads it.
    const { samples, multiple } = footprintObservation(observed.postgres, observed.replicas, Boolean(observed.pooler));
    this.demand = observeDemand(this.demand, samples, startedAt, this.history.windowMs, multiple);
    const snapshot: Snapshot = {
      postgres: observed.postgres,
      postgresFailure: observed.postgresFailure,
      replicas: observed.replicas,
      plan: this.options.plan,
      sources: this.options.replicaSources,
      attribution: this.options.attribution,
      previousUnaccounted: this.latestResult?.capacity?.unaccounted ?? null,
      pooler: observed.pooler,
      previousCloses: this.lastCloses && { secondsAgo: (startedAt - this.lastCloses.at) / 1000, replicas: this.lastCloses.replicas },
      demand: this.demand,
    };
    this.lastCloses = {
      at: startedAt,
      replicas: observed.replicas.flatMap((replica) => (replica.closed === null ? [] : [{ replica: replica.replica, closed: replica.closed }])),
    };
    const evaluation = evaluate(snapshot);
    const result: PollResult = {
      snapshot,
      ...evaluation,
      sources: reports,
      postgresError: observed.postgresFailure?.message ?? null,
      coderErrors: reports.flatMap((report) =>
        report.source === 'discovery' || report.source === 'coder' ? report.errors.map((error) => ({ source: report.source as 'discovery' | 'coder', ...error })) : [],
      ),
      roundTripSeconds: observed.roundTripSeconds,
      completedAt: Date.now(),
    };
    if (observed.postgres) this.lastSuccessAt = result.completedAt;
    this.latestResult = result;
    this.history.record(historyPointOf(result));
    this.logTransitions(result);
    for (const listener of this.listeners) listener(result);
    return result;
  }

  private logTransitions(result: PollResult): void {
    const { logger } = this.options;
    const seen = this.reported;
    const failure = result.snapshot.postgresFailure;

    if (failure && seen.postgresDown !== failure.message) {
      logger.error({ source: 'postgres', code: failure.code }, failure.message);
      seen.postgresDown = failure.message;
    } else if (!failure && seen.postgresDown !== null) {
      logger.info({ source: 'postgres', address: this.options.postgresAddress }, 'PostgreSQL is reachable again');
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
    // The same words as the status page's and check's finding for the reason.
    for (const finding of blindFindings(result)) {
      const reason = finding.id.slice('blind-'.length) as BlindReason;
      if (!seen.blind.has(reason)) logger.warn({ blind: reason }, `${finding.title}: ${finding.detail}`);
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
