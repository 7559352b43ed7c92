// The reference scenario of the capacity model, live, for the demo, the tests and the
// bench alike: a real PostgreSQL with max_connections 60, 7 connections of another
// application, and three stand-in Coder replicas at pool max 20 holding 5 pooled (2 in use)
// + 1 LISTEN connection each. Watched by a monitor on Coder's database, it reads:
// available 57, coder 18, other 8, headroom 31, budget 63 / 84, budget headroom -14 / -35,
// recommended pool max 8, max safe replicas 1.
//
// Each replica is a pod as PostgreSQL sees it: replica i has its own loopback address
// (REFERENCE_ADDRESSES: 127.0.0.2, .3, .4), where its /metrics listens and from where its
// connections come (pg_stat_activity.client_addr). Options add what some deployments have:
// the chat pubsub's batch sender on every replica, one shared source address (SNAT, a
// proxy), the labelled coder_pubsub_connected of newer coderd.
//
// With `withPgbouncer` the replicas connect through a PgBouncer in session mode with
// pool_size=25 for Coder's database, and the monitor reads its admin console: server cap
// 25, budget on PostgreSQL 25 / 25, budget headroom 57 - 8 - 25 = 24, and 38 / 59 of
// Coder's 63 / 84 connections would queue in PgBouncer.

import { CODER_PASSWORD, OTHER_PASSWORD, coderUrl, createCoderCluster, holdConnections, monitorUrl } from './cluster.js';
import { startPostgres, type TestPostgres } from './embedded-postgres.js';
import { startPgbouncer, type TestPgbouncer } from './pgbouncer.js';
import { startStandInReplica, type StandInReplica } from './stand-in-replica.js';

export const REFERENCE = { maxConnections: 60, replicas: 3, poolMax: 20, open: 5, inUse: 2, otherConnections: 7 } as const;

/** Each replica's own address, as pods have their own IPs: /metrics and the connections' client_addr. */
export const REFERENCE_ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;

/** The PgBouncer of `withPgbouncer`: session mode, pool_size=25 for Coder's database. */
export const REFERENCE_PGBOUNCER = { poolMode: 'session', poolSize: 25, maxClientConn: 150, admin: { name: 'pgbouncer_admin', password: 'admin-Secret-42' } } as const;

export interface ReferenceCluster {
  server: TestPostgres;
  replicas: StandInReplica[];
  /** The PgBouncer in front of Coder's connections, with `withPgbouncer`. */
  pgbouncer: TestPgbouncer | null;
  /** The monitor's URL on Coder's database, as the daemon is deployed. */
  monitorUrl: string;
  /** The daemon's flags for this cluster: --postgres.url, --coder.role, --coder.targets. */
  daemonArgs: string[];
  /** Stops everything started, in reverse order. */
  stop(): Promise<void>;
}

export interface ReferenceClusterOptions {
  /** Series of other families per replica, as a real coderd carries (the demo shows a big exposition). */
  fillerSeries?: number;
  /** Put a PgBouncer (the installed binary) between the replicas and PostgreSQL. */
  withPgbouncer?: boolean;
  /**
   * Every replica holds one more connection outside its pool, the chat pubsub's batch
   * sender, that no go_sql_* figure counts: 7 backends per replica where /metrics says 5.
   */
  sender?: boolean;
  /**
   * Where every replica's PostgreSQL connections come from instead of its own address, as
   * behind SNAT or a proxy (e.g. '127.0.0.9'): PostgreSQL then cannot tell them apart.
   * Their /metrics stay on their own addresses. With `withPgbouncer` PostgreSQL sees
   * PgBouncer's address whatever this says.
   */
  connectFrom?: string;
  /** Serve `coder_pubsub_connected{backend="postgres"}` as newer coderd does (default: unlabelled, as older releases). */
  pubsubBackendLabel?: boolean;
}

export async function startReferenceCluster(options: ReferenceClusterOptions = {}): Promise<ReferenceCluster> {
  const started: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of started.reverse()) await step().catch(() => undefined);
  };
  try {
    const server = await startPostgres({ maxConnections: REFERENCE.maxConnections });
    started.push(() => server.destroy());
    await createCoderCluster(server);
    const other = await holdConnections(server.url('postgres', 'analytics', OTHER_PASSWORD), REFERENCE.otherConnections);
    started.push(() => other.close());
    let pgbouncer: TestPgbouncer | null = null;
    if (options.withPgbouncer) {
      const { poolMode, poolSize, maxClientConn, admin } = REFERENCE_PGBOUNCER;
      const bouncer = await startPgbouncer({ postgres: server, poolMode, maxClientConn, databases: [{ name: 'coder', poolSize }], adminUser: admin });
      pgbouncer = bouncer;
      started.push(() => bouncer.stop());
    }
    const coderConnection = pgbouncer ? pgbouncer.clientUrl('coder', 'coder', CODER_PASSWORD) : coderUrl(server);
    const starting = await Promise.allSettled(
      REFERENCE_ADDRESSES.map((address) =>
        startStandInReplica({
          connectionString: coderConnection,
          poolMax: REFERENCE.poolMax,
          open: REFERENCE.open,
          inUse: REFERENCE.inUse,
          // Real Coder sets no application_name: its role and database identify it.
          applicationName: '',
          fillerSeries: options.fillerSeries,
          address,
          connectFrom: options.connectFrom,
          sender: options.sender,
          pubsubBackendLabel: options.pubsubBackendLabel,
        }),
      ),
    );
    const replicas = starting.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    started.push(() => Promise.all(replicas.map((replica) => replica.close())));
    const failed = starting.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const url = monitorUrl(server);
    return {
      server,
      replicas,
      pgbouncer,
      monitorUrl: url,
      daemonArgs: [
        '--postgres.url',
        url,
        '--coder.role',
        'coder',
        '--coder.targets',
        replicas.map((replica) => replica.url).join(','),
        ...(pgbouncer ? ['--pgbouncer.url', pgbouncer.adminUrl] : []),
      ],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
