// The alert rules end to end on the reference scenario: a real PostgreSQL with stand-in
// replicas, the daemon polling them, and Prometheus + Alertmanager loading the generated
// rule file with every `for:` shortened. Every part started is stopped by stop(), also
// when starting failed half way.

import { fileURLToPath } from 'node:url';
import { vi, expect } from 'vitest';
import { startReferenceCluster, type ReferenceCluster, type ReferenceClusterOptions } from '../../dev/reference-scenario.js';
import { startTestDaemon, type RunningDaemon } from './daemon.js';
import { startPrometheusStack, type PrometheusStack } from './prometheus-stack.js';

export const RULE_FILE = fileURLToPath(new URL('../../alerts/coder-pg-capacity.rules.yml', import.meta.url));

export interface AlertingScenario {
  cluster: ReferenceCluster;
  daemon: RunningDaemon;
  prometheus: PrometheusStack;
}

export interface AlertingScenarioOptions {
  cluster?: ReferenceClusterOptions;
  /** Flags beyond the cluster's own (--other.budget ...). */
  daemonArgs?: string[];
  /** Runs on the cluster before the daemon starts (a session left idle in a transaction ...). */
  prepare?: (cluster: ReferenceCluster) => Promise<void>;
}

export function alertingScenario(options: AlertingScenarioOptions = {}): { start(): Promise<AlertingScenario>; stop(): Promise<void> } {
  let cluster: ReferenceCluster | undefined;
  let daemon: RunningDaemon | undefined;
  let prometheus: PrometheusStack | undefined;
  return {
    async start() {
      cluster = await startReferenceCluster(options.cluster);
      await options.prepare?.(cluster);
      daemon = await startTestDaemon([...cluster.daemonArgs, ...(options.daemonArgs ?? [])]);
      const running = daemon;
      const replicas = cluster.replicas.length;
      await vi.waitFor(async () => expect(await running.sample('coder_pg_capacity_replicas', { count: 'observed' })).toBe(replicas), { timeout: 10_000 });
      prometheus = await startPrometheusStack({ scrapeTargets: [new URL(daemon.url).host], ruleFile: RULE_FILE, forOverride: '3s' });
      return { cluster, daemon, prometheus };
    },
    async stop() {
      await prometheus?.stop();
      await daemon?.stop();
      await cluster?.stop();
    },
  };
}
