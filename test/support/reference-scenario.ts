// The reference scenario of the capacity model, live: a real PostgreSQL with
// max_connections 60, 7 connections of another application, three stand-in replicas at
// pool max 20 holding 5 pooled (2 in use) + 1 LISTEN connection each, and the daemon
// watching them. Expected: available 57, coder 18, other 8, budget 63 / 84.

import { startStandInReplica, type StandInReplica } from '../../src/demo/stand-in-replica.js';
import { startTestDaemon, type RunningDaemon } from './daemon.js';
import { startPostgres, type TestPostgres } from './postgres.js';
import { OTHER_PASSWORD, coderUrl, createCoderCluster, holdConnections, monitorUrl } from './scenario.js';

export interface ReferenceScenario {
  server: TestPostgres;
  replicas: StandInReplica[];
  daemon: RunningDaemon;
  /** Stops everything started, in reverse order. */
  stop(): Promise<void>;
}

/** `daemonArgs` adds flags to the daemon's, e.g. another --capacity.safety-margin. */
export async function startReferenceScenario(daemonArgs: string[] = []): Promise<ReferenceScenario> {
  const started: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of started.reverse()) await step().catch(() => undefined);
  };
  try {
    const server = await startPostgres({ maxConnections: 60 });
    started.push(() => server.destroy());
    await createCoderCluster(server);
    const other = await holdConnections(server.url('postgres', 'analytics', OTHER_PASSWORD), 7);
    started.push(() => other.close());
    const replicas = await Promise.all(
      [0, 1, 2].map(() => startStandInReplica({ connectionString: coderUrl(server), poolMax: 20, open: 5, inUse: 2, applicationName: '' })),
    );
    started.push(() => Promise.all(replicas.map((replica) => replica.close())));
    const daemon = await startTestDaemon(['--postgres.url', monitorUrl(server), '--coder.role', 'coder', '--coder.targets', replicas.map((r) => r.url).join(','), ...daemonArgs]);
    started.push(() => daemon.stop());
    return { server, replicas, daemon, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
