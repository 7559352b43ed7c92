// The reference scenario (dev/reference-scenario.ts) with the daemon watching it, in-process.

import type { StandInReplica } from '../../dev/stand-in-replica.js';
import { startReferenceCluster } from '../../dev/reference-scenario.js';
import { startTestDaemon, type RunningDaemon } from './daemon.js';
import type { TestPostgres } from './postgres.js';

export interface ReferenceScenario {
  server: TestPostgres;
  replicas: StandInReplica[];
  daemon: RunningDaemon;
  /** Stops everything started, in reverse order. */
  stop(): Promise<void>;
}

/** `daemonArgs` adds flags to the daemon's, e.g. another --capacity.safety-margin. */
export async function startReferenceScenario(daemonArgs: string[] = []): Promise<ReferenceScenario> {
  const cluster = await startReferenceCluster();
  try {
    const daemon = await startTestDaemon([...cluster.daemonArgs, ...daemonArgs]);
    return {
      server: cluster.server,
      replicas: cluster.replicas,
      daemon,
      async stop() {
        await daemon.stop();
        await cluster.stop();
      },
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
