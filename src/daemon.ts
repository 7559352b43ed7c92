// Wires the daemon together: sources -> poller -> exposition and HTTP, on a schedule.
// `serve` and `demo` run it; tests start it in-process with a real PostgreSQL.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/parse-config.js';
import { createMetrics } from './exposition/metrics.js';
import { createApp, listen } from './web/server.js';
import { loadProtectedWeb } from './web/protected-web.js';
import type { Logger } from './log.js';
import type { PlanSettings } from './model/snapshot.js';
import { Poller } from './poller.js';
import { startSchedule, type Schedule } from './scheduler.js';
import { CoderSource } from './sources/coder.js';
import { pgbouncerSources } from './sources/pgbouncer.js';
import type { AddressResolver } from './sources/discovery.js';
import { PostgresSource } from './sources/postgres.js';
import type { Source } from './sources/source.js';
import { version } from './version.js';

export interface Daemon {
  /** http(s)://host:port of the web listener (https with a web config's tls_server_config). */
  url: string;
  poller: Poller;
  /** Stops polling and listening; resolves within about `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface DaemonDependencies {
  logger: Logger;
  resolver?: AddressResolver;
}

export function planFromConfig(config: Config): PlanSettings {
  return {
    plannedReplicas: config.coder.replicas,
    defaultPoolMax: config.coder.poolMax,
    extraConnections: config.coder.extraConnections,
    maxSurge: config.coder.maxSurge,
    maxUnavailable: config.coder.maxUnavailable,
    otherBudgets: config.other.budgets,
    safetyMargin: config.capacity.safetyMargin,
  };
}

export interface PollerWithSources {
  poller: Poller;
  sources: Source[];
  /** Closes every source's connections. */
  close(): Promise<void>;
}

/** The sources and the poller, without schedule or HTTP: what `check` needs for one poll. */
export function createPoller(config: Config, { logger, resolver }: DaemonDependencies): PollerWithSources {
  const postgres = new PostgresSource({
    connection: config.postgres,
    providerReserved: config.postgres.providerReserved,
    coderRole: config.coder.role,
    coderDatabase: config.coder.database,
    coderApplicationName: config.coder.applicationName,
    replicasFromDb: config.coder.replicasFromDb,
    timeoutMs: config.poll.timeoutMs,
    tls: config.postgres.tls,
    auth: config.postgres.auth,
    logger,
  });
  const coder = new CoderSource({ targets: config.coder.targets, timeoutMs: config.poll.timeoutMs, resolver });
  // Every source the poller runs, side by side: a new source is one line here.
  const sources: Source[] = [postgres, coder, ...pgbouncerSources(config, { logger, resolver })];
  const replicaSources = { coderTargetsConfigured: config.coder.targets.length > 0, replicasFromDb: config.coder.replicasFromDb };
  const attribution = { role: config.coder.role, database: config.coder.database, applicationName: config.coder.applicationName };
  const poller = new Poller({ sources, plan: planFromConfig(config), replicaSources, attribution, postgresAddress: postgres.address, logger, demandWindowMs: config.capacity.demandWindowMs });
  return {
    poller,
    sources,
    async close() {
      await Promise.all(sources.map((source) => source.close?.()));
    },
  };
}

export async function startDaemon(config: Config, dependencies: DaemonDependencies): Promise<Daemon> {
  const { logger } = dependencies;
  // A web config that cannot be used stops the start, as in the exporter-toolkit: better
  // no listener than an open one the operator meant to lock.
  const webConfig = config.web.configFile ? await loadProtectedWeb(config.web.configFile, logger) : null;
  const { poller, sources, close: closeSources } = createPoller(config, dependencies);
  const metrics = createMetrics(() => poller.latest, version, sources.flatMap((source) => source.reportNames));
  poller.onPoll((result) => metrics.record(result));

  const app = createApp({ poller, metrics, logger, version, guard: webConfig?.guard });
  let server: Server;
  try {
    server = await listen(app, config.web.host, config.web.port, webConfig?.secure);
  } catch (error) {
    webConfig?.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const scheme = webConfig?.scheme ?? 'http';
  const url = `${scheme}://${host === '[::]' || host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;

  if (config.coder.targets.length === 0 && (config.coder.replicas !== null || config.coder.replicasFromDb)) {
    logger.warn('no --coder.targets: the budget counts only --coder.replicas (or the replicas table); per-replica figures stay empty');
  }
  logger.info(
    { listen: `${config.web.host || '*'}:${address.port}`, postgres: `${config.postgres.host ?? 'localhost'}:${config.postgres.port ?? 5432}`, role: config.coder.role, database: config.coder.database, targets: config.coder.targets.length, schedule: config.poll.schedule },
    'coder-pg-capacity started',
  );
  let stopping: Promise<void> | undefined;
  const schedule: Schedule = startSchedule(config.poll.schedule, () => poller.pollOnce(), logger);

  return {
    url,
    poller,
    stop(graceMs = 1500) {
      // Idempotent: a signal and a clean-up path may both ask.
      stopping ??= (async () => {
        webConfig?.close();
        const closing = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await schedule.stop(graceMs);
        await closeSources();
        await closing;
      })();
      return stopping;
    },
  };
}
