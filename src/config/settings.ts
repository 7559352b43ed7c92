// Every setting, declared once: flag, environment variables, default, help text and
// validation side by side. `--help`, the docs and the Config type are all derived from
// this table, and nothing else in the program reads process.env or argv.

import { z } from 'zod';
import { logLevels } from '../log.js';
import { postgresAuthModes } from '../sources/postgres-iam.js';
import { sslModes } from '../sources/postgres-tls.js';
import { booleanFlag, cronSchedule, duration, listenAddress, nonNegativeInt, otherBudgets, pgbouncerUrls, podCount, postgresUrl } from './setting-schemas.js';

/** What a setting declares besides its flag, which is its key in the table. */
interface SettingDeclaration {
  /** Environment variables, first present wins. */
  env?: readonly string[];
  /** The default as --help shows it: a value, or what applies when the setting is unset. */
  defaultText: string;
  /** The raw value used when neither flag nor environment gives one; none = unset. */
  default?: string;
  help: string;
  /** A flag that takes no value. */
  boolean?: boolean;
  /** Whether a secret could be in the value: --help and errors never echo it. */
  secret?: boolean;
  schema: z.ZodType;
}

/** Keyed by flag (without its dashes), in --help's order: unlike an array's rows, keys carry each flag's own value type. */
export const settingsByFlag = {
  'postgres.url': {
    env: ['CODER_PG_CONNECTION_URL'],
    defaultText: "libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE",
    help: "PostgreSQL connection URL. Coder's own variable, so a sidecar can share Coder's secret.",
    secret: true,
    schema: postgresUrl.optional(),
  },
  'postgres.password-file': {
    env: ['DB_PASSWORD_PATH'],
    defaultText: 'none',
    help: "File holding the password (the Helm chart's noPasswordEnv mode). Read at each connect, so a rotated Secret applies without restart.",
    schema: z.string().min(1).optional(),
  },
  'postgres.provider-reserved': {
    defaultText: 'auto',
    default: 'auto',
    help: 'Slots the provider keeps for itself (Azure Flexible Server: 15). auto = rds.rds_superuser_reserved_connections when PostgreSQL has it, else 0.',
    schema: z.union([z.literal('auto'), nonNegativeInt]),
  },
  'postgres.sslmode': {
    env: ['PGSSLMODE'],
    defaultText: "prefer (the URL's sslmode= wins over PGSSLMODE)",
    help: "libpq's sslmode: disable, allow, prefer (TLS if offered), require (TLS, unverified unless --postgres.sslrootcert is given), verify-ca (chain), verify-full (chain and host name).",
    schema: z.enum(sslModes, { message: `expected one of ${sslModes.join(', ')}` }).optional(),
  },
  'postgres.sslrootcert': {
    env: ['PGSSLROOTCERT'],
    defaultText: 'none',
    help: 'CA file to verify the server with (RDS: global-bundle.pem), or "system" for public CAs. Read at each connect.',
    schema: z.string().min(1).optional(),
  },
  'postgres.sslcert': {
    env: ['PGSSLCERT'],
    defaultText: 'none',
    help: 'Client certificate file (mTLS; pg_hba.conf "cert"). Read at each connect.',
    schema: z.string().min(1).optional(),
  },
  'postgres.sslkey': {
    env: ['PGSSLKEY'],
    defaultText: 'none',
    help: 'Key file of the client certificate (unencrypted PEM). Read at each connect.',
    schema: z.string().min(1).optional(),
  },
  'postgres.auth': {
    env: ['CODER_PG_AUTH'],
    defaultText: 'password',
    default: 'password',
    help: "password, or awsiamrds: a fresh AWS IAM token per connect (region and credentials from the AWS chain, e.g. AWS_REGION and IRSA), TLS required. Coder's own variable.",
    schema: z.enum(postgresAuthModes, { message: `expected one of ${postgresAuthModes.join(', ')}` }),
  },
  'coder.targets': {
    env: ['CAPACITY_CODER_TARGETS'],
    defaultText: 'none',
    help: "Comma-separated Coder Prometheus endpoints (CODER_PROMETHEUS_ADDRESS, port 2112). dns+http://host:port/path resolves the name's A/AAAA records each poll, one target per address (a headless Service).",
    schema: z.string().optional(),
  },
  'coder.pool-max': {
    env: ['CODER_PG_CONN_MAX_OPEN', 'CODER_MAX_DB_CONNECTIONS'],
    defaultText: '10',
    default: '10',
    help: "Each replica's pool max, assumed until a replica reports go_sql_max_open_connections (and for planned replicas).",
    schema: nonNegativeInt,
  },
  'coder.extra-connections': {
    defaultText: '1',
    default: '1',
    help: "Connections each replica holds outside its pool, at least: the pubsub LISTEN (releases with the chat pubsub's batch sender hold 2). Where PostgreSQL shows a replica holding more (by its address), the budget counts the most it held over --capacity.demand-window.",
    schema: nonNegativeInt,
  },
  'coder.replicas': {
    env: ['CAPACITY_CODER_REPLICAS'],
    defaultText: 'observed',
    help: 'Planned replica count (e.g. the HPA maximum). The budget uses the larger of this and the observed count.',
    schema: nonNegativeInt.optional(),
  },
  'coder.max-surge': {
    defaultText: '25%',
    default: '25%',
    help: "Extra pods during a rolling update: a count or a percentage (Kubernetes' default is 25%, rounded up).",
    schema: podCount('maxSurge'),
  },
  'coder.max-unavailable': {
    defaultText: '25%',
    default: '25%',
    help: "Old pods a rolling update stops at once: a count or a percentage (Kubernetes' default is 25%, rounded down). They hold their pools while they stop (Coder's chart gives them 60 s), so the rollout budget counts them.",
    schema: podCount('maxUnavailable'),
  },
  'coder.role': {
    defaultText: 'the user of --postgres.url',
    help: "PostgreSQL role Coder connects as: its backends count as Coder's.",
    schema: z.string().min(1).optional(),
  },
  'coder.database': {
    defaultText: 'the database of --postgres.url',
    help: "Coder's database: backends of Coder's role in it count as Coder's.",
    schema: z.string().min(1).optional(),
  },
  'coder.application-name': {
    defaultText: 'none',
    help: "Also require this application_name for Coder's backends (Coder sets none; add one to CODER_PG_CONNECTION_URL to tell several deployments apart).",
    schema: z.string().min(1).optional(),
  },
  'coder.replicas-from-db': {
    defaultText: 'false',
    default: 'false',
    boolean: true,
    help: "Also count live replicas from Coder's replicas table (heartbeat within 15 s); the larger count wins. For sidecars, which scrape only their own replica.",
    schema: booleanFlag,
  },
  'capacity.safety-margin': {
    defaultText: '0.2',
    default: '0.2',
    help: 'Share of the available slots to keep spare (Coder recommends about 20%).',
    schema: z.coerce.number({ message: 'expected a number' }).min(0, 'must be 0 or more').max(0.95, 'must be 0.95 or less'),
  },
  'capacity.demand-window': {
    defaultText: '24h',
    default: '24h',
    help: "How far back the pool Coder needs (its replicas' peak in-use connections) and the status page's picture look. Kept in memory, flat in size.",
    schema: duration.pipe(z.number().min(60_000, 'must be 1m or longer').max(7 * 24 * 3_600_000, 'must be 168h or shorter')),
  },
  'other.budget': {
    env: ['CAPACITY_OTHER_BUDGET'],
    defaultText: 'none',
    help: "Other applications' pool sizes, SELECTOR=N comma-separated; SELECTOR is a role, role@database or app:application_name. The budget leaves room for the declared size, or for what they hold when that is more.",
    schema: otherBudgets.optional(),
  },
  'pgbouncer.url': {
    env: ['CAPACITY_PGBOUNCER_URL'],
    defaultText: 'none (Coder connects directly)',
    help: "PgBouncer between Coder and PostgreSQL: comma-separated admin-console URLs, postgres://user:password@host:6432/pgbouncer (sslmode=, sslrootcert=, sslcert=, sslkey= as in --postgres.url), or dns+postgres://service:6432/pgbouncer, resolved each poll, one instance per address. Coder's pool is found by --coder.role and --pgbouncer.database.",
    secret: true,
    schema: pgbouncerUrls.optional(),
  },
  'pgbouncer.password-file': {
    env: ['CAPACITY_PGBOUNCER_PASSWORD_FILE'],
    defaultText: 'none',
    help: "File holding the admin console's password for every --pgbouncer.url (it overrides the URL's). Read at each connect.",
    schema: z.string().min(1).optional(),
  },
  'pgbouncer.database': {
    env: ['CAPACITY_PGBOUNCER_DATABASE'],
    defaultText: 'the --coder.database',
    help: "The PgBouncer [databases] entry Coder connects to: the database name in CODER_PG_CONNECTION_URL when that points at PgBouncer. Give it when the entry is named differently from the database on PostgreSQL (its dbname=).",
    schema: z.string().min(1).optional(),
  },
  'pgbouncer.pool-size': {
    defaultText: 'as configured',
    help: "check only: judge Coder's PgBouncer pool at this pool_size on every instance (what-if), e.g. before changing pgbouncer.ini.",
    schema: nonNegativeInt.optional(),
  },
  'poll.schedule': {
    defaultText: '*/15 * * * * *',
    default: '*/15 * * * * *',
    help: 'When to poll, as a node-cron expression with a seconds field.',
    schema: cronSchedule,
  },
  'poll.timeout': {
    defaultText: '5s',
    default: '5s',
    help: 'Time limit for each source per poll (PostgreSQL statement timeout and each Coder scrape).',
    schema: duration,
  },
  'web.listen-address': {
    defaultText: ':9816',
    default: ':9816',
    help: 'Address for /metrics, /healthz, /readyz and /api/v1/capacity.',
    schema: listenAddress,
  },
  'web.config.file': {
    defaultText: 'none',
    help: "Prometheus exporter-toolkit web config (tls_server_config, basic_auth_users), as for postgres_exporter. Re-read when it changes.",
    schema: z.string().min(1).optional(),
  },
  'log.level': {
    defaultText: 'info',
    default: 'info',
    help: `Log level: ${logLevels.join(', ')}.`,
    schema: z.enum(logLevels),
  },
  'output': {
    defaultText: 'text',
    default: 'text',
    help: 'check only: the report as an aligned table (text) or as JSON (json).',
    schema: z.enum(['text', 'json'], { message: 'expected text or json' }),
  },
  'postgres.max-connections': {
    defaultText: "the server's",
    help: 'check only: judge the same fleet on a server with this max_connections (the reserved slots kept), e.g. before resizing RDS.',
    schema: z.coerce.number({ message: 'expected a whole number' }).int('expected a whole number').min(1, 'must be 1 or more').optional(),
  },
} satisfies Record<string, SettingDeclaration>;

export type SettingFlag = keyof typeof settingsByFlag;

/** Each setting's value once parsed, keyed by flag: what its schema outputs. */
export type SettingValues = { [F in SettingFlag]: z.output<(typeof settingsByFlag)[F]['schema']> };

export interface Setting extends SettingDeclaration {
  flag: SettingFlag;
}

/** Every setting, flag included, in --help's order. */
export const settings: readonly Setting[] = flagsOf(settingsByFlag).map((flag) => ({ flag, ...settingsByFlag[flag] }));

/** The keys typed as keys: in a generic function for...in yields keyof T, where Object.keys yields string. */
function flagsOf<T extends object>(table: T): Extract<keyof T, string>[] {
  const flags: Extract<keyof T, string>[] = [];
  for (const flag in table) flags.push(flag);
  return flags;
}

/** One setting as a docs table shows it: the same facts as --help. */
export interface SettingRow {
  /** Without its dashes: postgres.url. */
  flag: string;
  /** Environment variables, first present wins; empty = none. */
  env: string[];
  defaultText: string;
  help: string;
}

/** Every setting as a docs table shows it, in --help's order. */
export function settingsRows(): SettingRow[] {
  return settings.map(({ flag, env, defaultText, help }) => ({ flag, env: [...(env ?? [])], defaultText, help }));
}
