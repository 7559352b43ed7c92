// `check`: one poll, a verdict, and an exit code a pipeline can gate on (0 fits, 1 fits
// with a warning, 2 does not fit or the monitor cannot judge: a gate fails closed). With --coder.replicas
// and --coder.pool-max on the command line it judges a planned change instead of today's
// pools: run it before a Helm upgrade; with --postgres.max-connections, a server of another
// size: run it before resizing the database. The report goes to stdout, logs to stderr.

import { destination } from 'pino';
import type { Config } from '../config/parse-config.js';
import { createPoller } from '../daemon.js';
import { toJson } from '../views/json.js';
import { createLogger, type Logger } from '../log.js';
import { evaluate } from '../model/capacity.js';
import { withPoolSize } from '../model/pooler.js';
import type { Snapshot } from '../model/snapshot.js';
import type { PollResult } from '../model/poll-result.js';
import { capacityDocument } from '../views/capacity-document.js';
import { assess, exitCodeOf } from '../model/verdict.js';
import { renderTerminalReport } from '../views/terminal-report.js';
import { version } from '../version.js';

export interface CheckIo {
  write(text: string): void;
  logger: Logger;
}

/**
 * The snapshot of a planned pool max: every replica, observed and planned, runs it. The
 * model stays pure and unaware of plans; the plan is a different input.
 */
export function withPoolMax(snapshot: Snapshot, poolMax: number): Snapshot {
  return {
    ...snapshot,
    replicas: snapshot.replicas.map((replica) => ({ ...replica, poolMax })),
    plan: { ...snapshot.plan, defaultPoolMax: poolMax },
  };
}

/**
 * The snapshot on a server of another size (--postgres.max-connections): the same fleet,
 * the same connections, and the slots reserved for superusers, roles and the provider kept.
 */
export function withMaxConnections(snapshot: Snapshot, maxConnections: number): Snapshot {
  return snapshot.postgres === null ? snapshot : { ...snapshot, postgres: { ...snapshot.postgres, maxConnections } };
}

/** The poll as `check` judges it: with the planned pool max and server size applied when given. */
export function judgedResult(result: PollResult, whatIfPoolMax: number | null, whatIfMaxConnections: number | null = null): PollResult {
  if (whatIfPoolMax === null && whatIfMaxConnections === null) return result;
  let snapshot = result.snapshot;
  if (whatIfPoolMax !== null) snapshot = withPoolMax(snapshot, whatIfPoolMax);
  if (whatIfMaxConnections !== null) snapshot = withMaxConnections(snapshot, whatIfMaxConnections);
  return { ...result, snapshot, ...evaluate(snapshot) };
}

/** The poll with Coder's PgBouncer pool at a planned pool_size on every instance (--pgbouncer.pool-size). */
export function judgedPoolSize(result: PollResult, whatIfPoolSize: number | null): PollResult {
  if (whatIfPoolSize === null || !result.snapshot.pooler) return result;
  const snapshot = { ...result.snapshot, pooler: withPoolSize(result.snapshot.pooler, whatIfPoolSize) };
  return { ...result, snapshot, ...evaluate(snapshot) };
}

function defaultIo(config: Config): CheckIo {
  return {
    write: (text) => process.stdout.write(text),
    // stdout carries the report (and may be parsed as JSON): logs go to stderr, synchronously
    // so that nothing is lost when the process exits right after.
    logger: createLogger(config.log.level, destination({ dest: 2, sync: true })),
  };
}

export async function runCheck(config: Config, io: CheckIo = defaultIo(config)): Promise<0 | 1 | 2> {
  const { poller, close } = createPoller(config, { logger: io.logger });
  let polled: PollResult;
  try {
    polled = await poller.pollOnce();
    // Unaccounted connections either way can be a pool opening or closing one between the
    // two counts: a second poll tells a race from a wrong --coder.role/--coder.database
    // (fewer in PostgreSQL), or from connections each replica really holds outside its pool
    // (more: the finding names --coder.extra-connections only when both polls agree).
    if ((polled.capacity?.unaccounted ?? 0) !== 0) polled = await poller.pollOnce();
  } finally {
    await close();
  }
  const whatIfPoolMax = config.coder.poolMaxOnCommandLine ? config.coder.poolMax : null;
  const whatIfMaxConnections = config.check.maxConnections;
  const whatIfPgbouncerPoolSize = config.pgbouncer.poolSize;
  const result = judgedPoolSize(judgedResult(polled, whatIfPoolMax, whatIfMaxConnections), whatIfPgbouncerPoolSize);
  const assessment = assess(result, { judgeLatency: false });
  const exitCode = exitCodeOf(assessment);

  if (config.check.output === 'json') {
    io.write(`${toJson(capacityDocument(result, assessment, { version, whatIfPoolMax, whatIfMaxConnections, whatIfPgbouncerPoolSize, scraped: polled.snapshot }))}\n`);
  } else {
    io.write(renderTerminalReport({ result, assessment, exitCode, scraped: polled.snapshot, whatIfPoolMax, whatIfMaxConnections, whatIfPgbouncerPoolSize, polledMaxConnections: polled.snapshot.postgres?.maxConnections ?? null }));
  }
  return exitCode;
}
