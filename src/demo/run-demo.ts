// `coder-pg-capacity demo`: the whole picture on one machine, with real parts. An
// embedded PostgreSQL (max_connections 60), three stand-in coderd replicas holding real
// connections (pool max 20, 5 open + 1 LISTEN each), another application holding 7, and
// the daemon watching them. The figures it shows are the reference scenario of the
// capacity model: Coder is overcommitted by 14 slots steady and 35 during a rollout.

import type { Config } from '../config.js';
import { startDaemon } from '../daemon.js';
import type { Logger } from '../log.js';
import { untilSignalled } from '../commands/serve.js';
import { startPostgres } from './embedded-postgres.js';
import { startStandInReplica, type StandInReplica } from './stand-in-replica.js';

const REPLICAS = 3;
const POOL_MAX = 20;
const OPEN_PER_REPLICA = 5;
const OTHER_CONNECTIONS = 7;

export async function runDemo(config: Config, logger: Logger): Promise<number> {
  process.stdout.write('Starting an embedded PostgreSQL (max_connections 60)...\n');
  const server = await startPostgres({ maxConnections: 60 });
  const cleanups: (() => Promise<unknown>)[] = [() => server.destroy()];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
  };
  try {
    const admin = await server.admin();
    await admin.query(`CREATE ROLE coder LOGIN PASSWORD 'coder-demo'`);
    await admin.query(`CREATE ROLE monitor LOGIN PASSWORD 'monitor-demo'`);
    await admin.query(`CREATE ROLE analytics LOGIN PASSWORD 'analytics-demo'`);
    await admin.query('CREATE DATABASE coder OWNER coder');
    await admin.query('GRANT pg_monitor TO monitor');
    // Another application's connections: they are not Coder's, but they take slots.
    for (let i = 0; i < OTHER_CONNECTIONS - 1; i++) {
      const client = await server.admin();
      await client.query(`SET application_name = 'analytics-etl'`);
      cleanups.push(() => client.end());
    }
    await admin.query(`SET application_name = 'analytics-etl'`);
    cleanups.push(() => admin.end());

    process.stdout.write(`Starting ${REPLICAS} stand-in Coder replicas (pool max ${POOL_MAX}, ${OPEN_PER_REPLICA} open + 1 LISTEN each)...\n`);
    const replicas: StandInReplica[] = [];
    for (let i = 0; i < REPLICAS; i++) {
      const replica = await startStandInReplica({
        connectionString: server.url('coder', 'coder', 'coder-demo'),
        poolMax: POOL_MAX,
        open: OPEN_PER_REPLICA,
        inUse: 2,
        fillerSeries: 5000,
        // Real Coder sets no application_name; its role and database identify it.
        applicationName: '',
      });
      replicas.push(replica);
      cleanups.push(() => replica.close());
    }

    const demoConfig: Config = {
      ...config,
      postgres: { ...config.postgres, url: server.url('coder', 'monitor', 'monitor-demo'), host: server.host, port: server.port, user: 'monitor', database: 'coder', password: 'monitor-demo' },
      coder: { ...config.coder, role: 'coder', database: 'coder', targets: replicas.map((r) => ({ kind: 'static' as const, url: r.url })) },
    };
    const daemon = await startDaemon(demoConfig, { logger });
    cleanups.push(() => daemon.stop());

    process.stdout.write(`
coder-pg-capacity demo is running.

  Status page:      ${daemon.url}/
  API (JSON):       ${daemon.url}/api/v1/capacity
  Prometheus:       ${daemon.url}/metrics
  Readiness:        ${daemon.url}/readyz
  PostgreSQL:       psql "${server.url('coder', 'monitor', 'monitor-demo')}"
  Coder replicas:   ${replicas.map((r) => r.url).join('\n                    ')}

Expect: available 57, coder 18, other 8 (the monitor's own included), headroom 31,
budget 63 steady / 84 rollout, budget headroom -14 / -35, recommended pool max 8,
max safe replicas 1. Try a what-if: npx coder-pg-capacity check --postgres.url '${server.url('coder', 'monitor', 'monitor-demo')}' --coder.role coder --coder.targets '${replicas.map((r) => r.url).join(',')}' --coder.pool-max 8
Press Ctrl+C to stop; everything started here is removed.

`);
    const code = await untilSignalled(daemon, logger);
    await cleanup();
    return code;
  } catch (error) {
    await cleanup();
    throw error;
  }
}
