// Every setting, declared once: flag, environment variables, default, help text and
// validation side by side. `--help` is generated from this table, errors are collected
// and reported together, and nothing else in the program reads process.env or argv.

import { z } from 'zod';
import { logLevels, type LogLevel } from '../log.js';
import type { MaxSurge, OtherBudget } from '../model/snapshot.js';
import { parseOtherBudgets } from './other-budget.js';
import { parsePgbouncerUrls, type PgbouncerTarget } from './pgbouncer-urls.js';
import { scheduleProblems } from './poll-schedule.js';
import type { PostgresConnectionSettings } from './postgres-connection.js';
import { iamConfigProblems, postgresAuthModes, type PostgresAuth } from '../sources/postgres-iam.js';
import { resolvePostgresTls, sslModes, type PostgresTlsSettings, type TlsSettingInput } from '../sources/postgres-tls.js';
import { postgresUrlProblems } from './postgres-url.js';
import { parseTargets, type TargetSpec } from '../sources/targets.js';

export interface Config {
  postgres: PostgresConnectionSettings & {
    /** 'auto' = rds.rds_superuser_reserved_connections when present, else 0. */
    providerReserved: number | 'auto';
    /** sslmode and certificates: flag, else the URL's parameter, else PG* variable. */
    tls: PostgresTlsSettings;
    auth: PostgresAuth;
  };
  coder: {
    targets: TargetSpec[];
    poolMax: number;
    /** --coder.pool-max was given on the command line: `check` then plans every replica at it. */
    poolMaxOnCommandLine: boolean;
    extraConnections: number;
    replicas: number | null;
    maxSurge: MaxSurge;
    maxUnavailable: MaxSurge;
    role: string;
    database: string;
    applicationName: string | null;
    replicasFromDb: boolean;
  };
  capacity: { safetyMargin: number; /** --capacity.demand-window */ demandWindowMs: number };
  other: { budgets: OtherBudget[] };
  pgbouncer: {
    /** --pgbouncer.url: admin consoles in front of Coder; empty = Coder connects directly. */
    targets: PgbouncerTarget[];
    passwordFile: string | null;
    /** --pgbouncer.pool-size (check only): judge Coder's pool at this pool_size on every instance; null = as configured. */
    poolSize: number | null;
    /** --pgbouncer.database: the [databases] entry Coder connects to; by default coder.database. */
    database: string;
  };
  poll: { schedule: string; timeoutMs: number };
  web: { host: string; port: number; /** exporter-toolkit web config (TLS, basic auth). */ configFile: string | null };
  log: { level: LogLevel };
  check: { output: 'text' | 'json'; /** --postgres.max-connections: judge the fleet on a server of this size; null = the real one. */ maxConnections: number | null };
}

// ---- value parsers (each throws a message that names the expected form) ----

const nonNegativeInt = z.coerce
  .number({ message: 'expected a whole number' })
  .int('expected a whole number')
  .min(0, 'must be 0 or more');

const duration = z.string().transform((text, ctx) => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 5s, 1m or 24h' });
    return z.NEVER;
  }
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  const ms = Number(match[1]) * factor;
  if (ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be longer than 0' });
    return z.NEVER;
  }
  return ms;
});

/** A count (2) or a percentage (25%) of replicas, as a Deployment's maxSurge and maxUnavailable. */
const podCount = (field: string) =>
  z.string().transform((text, ctx): MaxSurge => {
    const match = /^(\d+)(%?)$/.exec(text.trim());
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `expected a count (2) or a percentage (25%), as Kubernetes ${field}` });
      return z.NEVER;
    }
    return match[2] === '%' ? { kind: 'percent', value: Number(match[1]) } : { kind: 'count', value: Number(match[1]) };
  });

const otherBudgets = z.string().transform((text, ctx): OtherBudget[] => {
  const { budgets, problems } = parseOtherBudgets(text);
  for (const message of problems) ctx.addIssue({ code: 'custom', message });
  return budgets;
});

const pgbouncerUrls = z.string().transform((text, ctx): PgbouncerTarget[] => {
  const { targets, problems } = parsePgbouncerUrls(text);
  for (const message of problems) ctx.addIssue({ code: 'custom', message });
  return targets;
});

const cronSchedule = z.string().superRefine((text, ctx) => {
  for (const message of scheduleProblems(text)) ctx.addIssue({ code: 'custom', message });
});

const listenAddress = z.string().transform((text, ctx) => {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    ctx.addIssue({ code: 'custom', message: 'expected [host]:port, e.g. :9816 or 127.0.0.1:9816' });
    return z.NEVER;
  }
  return { host: match[1] ?? match[2] ?? '', port };
});

const postgresUrl = z.string().superRefine((text, ctx) => {
  for (const message of postgresUrlProblems(text)) ctx.addIssue({ code: 'custom', message });
});

const booleanFlag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1');

// ---- the settings table ----

interface Setting {
  flag: string;
  /** Environment variables, first present wins. */
  env?: string[];
  /** Shown in --help; undefined = no default. */
  defaultText: string;
  default?: string;
  help: string;
  /** A flag that takes no value. */
  boolean?: boolean;
  /** Whether a secret could be in the value: --help and errors never echo it. */
  secret?: boolean;
  schema: z.ZodType;
}

export const settings = [
  {
    flag: 'postgres.url',
    env: ['CODER_PG_CONNECTION_URL'],
    defaultText: "libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE",
    help: "PostgreSQL connection URL. Coder's own variable, so a sidecar can share Coder's secret.",
    secret: true,
    schema: postgresUrl.optional(),
  },
  {
    flag: 'postgres.password-file',
    env: ['DB_PASSWORD_PATH'],
    defaultText: 'none',
    help: "File holding the password (the Helm chart's noPasswordEnv mode). Read at each connect, so a rotated Secret applies without restart.",
    schema: z.string().min(1).optional(),
  },
  {
    flag: 'postgres.provider-reserved',
    defaultText: 'auto',
    default: 'auto',
    help: 'Slots the provider keeps for itself (Azure Flexible Server: 15). auto = rds.rds_superuser_reserved_connections when PostgreSQL has it, else 0.',
    schema: z.union([z.literal('auto'), nonNegativeInt]),
  },
  {
    flag: 'postgres.sslmode',
    env: ['PGSSLMODE'],
    defaultText: "prefer (the URL's sslmode= wins over PGSSLMODE)",
    help: "libpq's sslmode: disable, allow, prefer (TLS if offered), require (TLS, unverified unless --postgres.sslrootcert is given), verify-ca (chain), verify-full (chain and host name).",
    schema: z.enum(sslModes, { message: `expected one of ${sslModes.join(', ')}` }).optional(),
  },
  {
    flag: 'postgres.sslrootcert',
    env: ['PGSSLROOTCERT'],
    defaultText: 'none',
    help: 'CA file to verify the server with (RDS: global-bundle.pem), or "system" for public CAs. Read at each connect.',
    schema: z.string().min(1).optional(),
  },
  {
    flag: 'postgres.sslcert',
    env: ['PGSSLCERT'],
    defaultText: 'none',
    help: 'Client certificate file (mTLS; pg_hba.conf "cert"). Read at each connect.',
    schema: z.string().min(1).optional(),
  },
  {
    flag: 'postgres.sslkey',
    env: ['PGSSLKEY'],
    defaultText: 'none',
    help: 'Key file of the client certificate (unencrypted PEM). Read at each connect.',
    schema: z.string().min(1).optional(),
  },
  {
    flag: 'postgres.auth',
    env: ['CODER_PG_AUTH'],
    defaultText: 'password',
    default: 'password',
    help: "password, or awsiamrds: a fresh AWS IAM token per connect (region and credentials from the AWS chain, e.g. AWS_REGION and IRSA), TLS required. Coder's own variable.",
    schema: z.enum(postgresAuthModes, { message: `expected one of ${postgresAuthModes.join(', ')}` }),
  },
  {
    flag: 'coder.targets',
    env: ['CAPACITY_CODER_TARGETS'],
    defaultText: 'none',
    help: "Comma-separated Coder Prometheus endpoints (CODER_PROMETHEUS_ADDRESS, port 2112). dns+http://host:port/path resolves the name's A/AAAA records each poll, one target per address (a headless Service).",
    schema: z.string().optional(),
  },
  {
    flag: 'coder.pool-max',
    env: ['CODER_PG_CONN_MAX_OPEN', 'CODER_MAX_DB_CONNECTIONS'],
    defaultText: '10',
    default: '10',
    help: "Each replica's pool max, assumed until a replica reports go_sql_max_open_connections (and for planned replicas).",
    schema: nonNegativeInt,
  },
  {
    flag: 'coder.extra-connections',
    defaultText: '1',
    default: '1',
    help: 'Connections each replica holds outside its pool (the pubsub LISTEN connection).',
    schema: nonNegativeInt,
  },
  {
    flag: 'coder.replicas',
    env: ['CAPACITY_CODER_REPLICAS'],
    defaultText: 'observed',
    help: 'Planned replica count (e.g. the HPA maximum). The budget uses the larger of this and the observed count.',
    schema: nonNegativeInt.optional(),
  },
  {
    flag: 'coder.max-surge',
    defaultText: '25%',
    default: '25%',
    help: "Extra pods during a rolling update: a count or a percentage (Kubernetes' default is 25%, rounded up).",
    schema: podCount('maxSurge'),
  },
  {
    flag: 'coder.max-unavailable',
    defaultText: '25%',
    default: '25%',
    help: "Old pods a rolling update stops at once: a count or a percentage (Kubernetes' default is 25%, rounded down). They hold their pools while they stop (Coder's chart gives them 60 s), so the rollout budget counts them.",
    schema: podCount('maxUnavailable'),
  },
  {
    flag: 'coder.role',
    defaultText: 'the user of --postgres.url',
    help: "PostgreSQL role Coder connects as: its backends count as Coder's.",
    schema: z.string().min(1).optional(),
  },
  {
    flag: 'coder.database',
    defaultText: 'the database of --postgres.url',
    help: "Coder's database: backends of Coder's role in it count as Coder's.",
    schema: z.string().min(1).optional(),
  },
  {
    flag: 'coder.application-name',
    defaultText: 'none',
    help: "Also require this application_name for Coder's backends (Coder sets none; add one to CODER_PG_CONNECTION_URL to tell several deployments apart).",
    schema: z.string().min(1).optional(),
  },
  {
    flag: 'coder.replicas-from-db',
    defaultText: 'false',
    default: 'false',
    boolean: true,
    help: "Also count live replicas from Coder's replicas table (heartbeat within 15 s); the larger count wins. For sidecars, which scrape only their own replica.",
    schema: booleanFlag,
  },
  {
    flag: 'capacity.safety-margin',
    defaultText: '0.2',
    default: '0.2',
    help: 'Share of the available slots to keep spare (Coder recommends about 20%).',
    schema: z.coerce.number({ message: 'expected a number' }).min(0, 'must be 0 or more').max(0.95, 'must be 0.95 or less'),
  },
  {
    flag: 'capacity.demand-window',
    defaultText: '24h',
    default: '24h',
    help: "How far back the pool Coder needs (its replicas' peak in-use connections) and the status page's picture look. Kept in memory, flat in size.",
    schema: duration.pipe(z.number().min(60_000, 'must be 1m or longer').max(7 * 24 * 3_600_000, 'must be 168h or shorter')),
  },
  {
    flag: 'other.budget',
    env: ['CAPACITY_OTHER_BUDGET'],
    defaultText: 'none',
    help: "Other applications' pool sizes, SELECTOR=N comma-separated; SELECTOR is a role, role@database or app:application_name. The budget leaves room for the declared size, or for what they hold when that is more.",
    schema: otherBudgets.optional(),
  },
  {
    flag: 'pgbouncer.url',
    env: ['CAPACITY_PGBOUNCER_URL'],
    defaultText: 'none (Coder connects directly)',
    help: "PgBouncer between Coder and PostgreSQL: comma-separated admin-console URLs, postgres://user:password@host:6432/pgbouncer (sslmode=, sslrootcert=, sslcert=, sslkey= as in --postgres.url), or dns+postgres://service:6432/pgbouncer, resolved each poll, one instance per address. Coder's pool is found by --coder.role and --pgbouncer.database.",
    secret: true,
    schema: pgbouncerUrls.optional(),
  },
  {
    flag: 'pgbouncer.password-file',
    env: ['CAPACITY_PGBOUNCER_PASSWORD_FILE'],
    defaultText: 'none',
    help: "File holding the admin console's password for every --pgbouncer.url (it overrides the URL's). Read at each connect.",
    schema: z.string().min(1).optional(),
  },
  {
    flag: 'pgbouncer.database',
    env: ['CAPACITY_PGBOUNCER_DATABASE'],
    defaultText: 'the --coder.database',
    help: "The PgBouncer [databases] entry Coder connects to: the database name in CODER_PG_CONNECTION_URL when that points at PgBouncer. Give it when the entry is named differently from the database on PostgreSQL (its dbname=).",
    schema: z.string().min(1).optional(),
  },
  {
    flag: 'pgbouncer.pool-size',
    defaultText: 'as configured',
    help: "check only: judge Coder's PgBouncer pool at this pool_size on every instance (what-if), e.g. before changing pgbouncer.ini.",
    schema: nonNegativeInt.optional(),
  },
  {
    flag: 'poll.schedule',
    defaultText: '*/15 * * * * *',
    default: '*/15 * * * * *',
    help: 'When to poll, as a node-cron expression with a seconds field.',
    schema: cronSchedule,
  },
  {
    flag: 'poll.timeout',
    defaultText: '5s',
    default: '5s',
    help: 'Time limit for each source per poll (PostgreSQL statement timeout and each Coder scrape).',
    schema: duration,
  },
  {
    flag: 'web.listen-address',
    defaultText: ':9816',
    default: ':9816',
    help: 'Address for /metrics, /healthz, /readyz and /api/v1/capacity.',
    schema: listenAddress,
  },
  {
    flag: 'web.config.file',
    defaultText: 'none',
    help: "Prometheus exporter-toolkit web config (tls_server_config, basic_auth_users), as for postgres_exporter. Re-read when it changes.",
    schema: z.string().min(1).optional(),
  },
  {
    flag: 'log.level',
    defaultText: 'info',
    default: 'info',
    help: `Log level: ${logLevels.join(', ')}.`,
    schema: z.enum(logLevels),
  },
  {
    flag: 'output',
    defaultText: 'text',
    default: 'text',
    help: 'check only: the report as an aligned table (text) or as JSON (json).',
    schema: z.enum(['text', 'json'], { message: 'expected text or json' }),
  },
  {
    flag: 'postgres.max-connections',
    defaultText: "the server's",
    help: 'check only: judge the same fleet on a server with this max_connections (the reserved slots kept), e.g. before resizing RDS.',
    schema: z.coerce.number({ message: 'expected a whole number' }).int('expected a whole number').min(1, 'must be 1 or more').optional(),
  },
] as const satisfies readonly Setting[];

/** Bad configuration: every problem at once, so one fix-and-retry suffices. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\nRun with --help for every setting.`);
    this.name = 'ConfigError';
  }
}

export type Environment = Record<string, string | undefined>;

/** Splits argv into --flag values; unknown flags and missing values are problems, not crashes. */
function readFlags(args: string[], known: readonly Setting[], problems: string[]): Map<string, string | boolean> {
  const values = new Map<string, string | boolean>();
  const byFlag = new Map(known.map((setting) => [setting.flag, setting]));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const match = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!match) {
      problems.push(`unexpected argument "${arg}"`);
      continue;
    }
    const name = match[1] as string;
    const setting = byFlag.get(name);
    if (!setting) {
      problems.push(`unknown flag --${name}`);
      // Its value, if any, is part of the same mistake: one problem, not two.
      if (match[2] === undefined && i + 1 < args.length && !(args[i + 1] as string).startsWith('--')) i++;
      continue;
    }
    if (match[2] !== undefined) {
      values.set(name, match[2]);
    } else if (setting.boolean) {
      values.set(name, true);
    } else if (i + 1 < args.length && !(args[i + 1] as string).startsWith('--')) {
      values.set(name, args[++i] as string);
    } else {
      problems.push(`--${name} needs a value`);
    }
  }
  return values;
}

/** The raw value of each setting: flag, else the first environment variable set, else the default. */
function rawValues(flags: Map<string, string | boolean>, env: Environment): Map<string, { value: unknown; from: string }> {
  const raw = new Map<string, { value: unknown; from: string }>();
  for (const setting of settings as readonly Setting[]) {
    if (flags.has(setting.flag)) {
      raw.set(setting.flag, { value: flags.get(setting.flag), from: `--${setting.flag}` });
      continue;
    }
    const envName = setting.env?.find((name) => env[name] !== undefined && env[name] !== '');
    if (envName) {
      raw.set(setting.flag, { value: env[envName], from: envName });
    } else if (setting.default !== undefined) {
      raw.set(setting.flag, { value: setting.default, from: 'default' });
    }
  }
  return raw;
}

/** Parses flags and environment into a Config, or throws ConfigError listing every problem. */
export function parseConfig(args: string[], env: Environment): Config {
  const problems: string[] = [];
  const flags = readFlags(args, settings, problems);
  const raw = rawValues(flags, env);
  const parsed = new Map<string, unknown>();

  for (const setting of settings as readonly Setting[]) {
    const input = raw.get(setting.flag);
    const result = setting.schema.safeParse(input?.value);
    if (result.success) {
      parsed.set(setting.flag, result.data);
      continue;
    }
    const shown = setting.secret ? '(value hidden)' : JSON.stringify(input?.value);
    const where = input ? `${input.from}=${shown}` : `--${setting.flag}`;
    for (const issue of result.error.issues) problems.push(`${where}: ${issue.message}`);
  }

  const get = <T>(flag: (typeof settings)[number]['flag']) => parsed.get(flag) as T;

  let targets: TargetSpec[] = [];
  const targetText = get<string | undefined>('coder.targets');
  if (targetText !== undefined) {
    const result = parseTargets(targetText);
    problems.push(...result.problems.map((problem) => `--coder.targets: ${problem}`));
    targets = result.targets;
  }

  const connection = connectionSettings(get<string | undefined>('postgres.url'), env, get('postgres.password-file'), problems);
  const role = get<string | undefined>('coder.role') ?? connection.user;
  const database = get<string | undefined>('coder.database') ?? connection.database ?? role;
  // An invalid URL is already a problem; do not add its consequences as more.
  const urlValid = parsed.has('postgres.url');
  if (!role && urlValid) problems.push("--coder.role: cannot tell Coder's role; give --postgres.url with a user, PGUSER, or --coder.role");

  const auth = get<PostgresAuth>('postgres.auth');
  const tlsGiven: Partial<Record<'mode' | 'rootCert' | 'cert' | 'key', TlsSettingInput>> = {};
  for (const [field, flag] of [['mode', 'postgres.sslmode'], ['rootCert', 'postgres.sslrootcert'], ['cert', 'postgres.sslcert'], ['key', 'postgres.sslkey']] as const) {
    const value = get<string | undefined>(flag);
    if (value !== undefined) tlsGiven[field] = { value, from: raw.get(flag)?.from ?? `--${flag}` };
  }
  const tls = resolvePostgresTls(
    { url: urlValid ? connection.url : null, given: tlsGiven, requireEncryption: auth === 'awsiamrds' ? { because: '--postgres.auth=awsiamrds' } : undefined },
    problems,
  );
  problems.push(...iamConfigProblems(auth, connection));
  // Settings about Coder's PgBouncer pool mean nothing without a PgBouncer (a given but invalid URL is already a problem).
  const noPgbouncer = get<PgbouncerTarget[] | undefined>('pgbouncer.url') === undefined && raw.get('pgbouncer.url') === undefined;
  for (const [flag, what] of [
    ['pgbouncer.pool-size', 'judges a PgBouncer pool'],
    ['pgbouncer.database', "names Coder's entry in a PgBouncer"],
  ] as const) {
    if (noPgbouncer && get<unknown>(flag) !== undefined) problems.push(`--${flag} ${what}: give --pgbouncer.url too`);
  }

  if (problems.length > 0) throw new ConfigError(problems);

  const listen = get<{ host: string; port: number }>('web.listen-address');
  return {
    postgres: { ...connection, providerReserved: get('postgres.provider-reserved'), tls, auth },
    coder: {
      targets,
      poolMax: get('coder.pool-max'),
      poolMaxOnCommandLine: flags.has('coder.pool-max'),
      extraConnections: get('coder.extra-connections'),
      replicas: get<number | undefined>('coder.replicas') ?? null,
      maxSurge: get('coder.max-surge'),
      maxUnavailable: get('coder.max-unavailable'),
      role: role as string,
      database: database as string,
      applicationName: get<string | undefined>('coder.application-name') ?? null,
      replicasFromDb: get('coder.replicas-from-db'),
    },
    capacity: { safetyMargin: get('capacity.safety-margin'), demandWindowMs: get('capacity.demand-window') },
    other: { budgets: get<OtherBudget[] | undefined>('other.budget') ?? [] },
    pgbouncer: {
      targets: get<PgbouncerTarget[] | undefined>('pgbouncer.url') ?? [],
      passwordFile: get<string | undefined>('pgbouncer.password-file') ?? null,
      poolSize: get<number | undefined>('pgbouncer.pool-size') ?? null,
      database: get<string | undefined>('pgbouncer.database') ?? (database as string),
    },
    poll: { schedule: get('poll.schedule'), timeoutMs: get('poll.timeout') },
    web: { ...listen, configFile: get<string | undefined>('web.config.file') ?? null },
    log: { level: get('log.level') },
    check: { output: get('output'), maxConnections: get<number | undefined>('postgres.max-connections') ?? null },
  };
}

/** The URL's parts, or libpq's PG* variables when there is no URL; a bad PGPORT is a problem. */
function connectionSettings(url: string | undefined, env: Environment, passwordFile: string | undefined, problems: string[]): PostgresConnectionSettings {
  if (url !== undefined) return connectionFromUrl(url, passwordFile ?? null);
  return {
    url: null,
    host: env.PGHOST ?? null,
    port: env.PGPORT ? pgPort(env.PGPORT, problems) : null,
    user: env.PGUSER ?? null,
    database: env.PGDATABASE ?? null,
    password: env.PGPASSWORD ?? null,
    passwordFile: passwordFile ?? null,
  };
}

/** PGPORT as a port number; anything else (a name, 0, 70000, 5432.5) would reach pg as NaN or be refused late. */
function pgPort(text: string, problems: string[]): number | null {
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (port >= 1 && port <= 65535) return port;
  problems.push(`PGPORT=${JSON.stringify(text)}: expected a whole number from 1 to 65535 (libpq's port), or unset it for 5432`);
  return null;
}

/** A connection URL's parts (the URL itself is kept whole for pg). */
export function connectionFromUrl(url: string, passwordFile: string | null): PostgresConnectionSettings {
  const parsed = new URL(url);
  return {
    url,
    host: parsed.hostname || null,
    port: parsed.port ? Number(parsed.port) : null,
    user: parsed.username ? decodeURIComponent(parsed.username) : null,
    database: parsed.pathname.length > 1 ? decodeURIComponent(parsed.pathname.slice(1)) : null,
    password: parsed.password ? decodeURIComponent(parsed.password) : null,
    passwordFile,
  };
}

/** --help text, generated from the table above. */
export function settingsHelp(): string {
  const lines: string[] = [];
  for (const setting of settings as readonly Setting[]) {
    const flag = setting.boolean ? `--${setting.flag}` : `--${setting.flag} VALUE`;
    lines.push(`  ${flag}`);
    lines.push(`      ${setting.help}`);
    const env = setting.env ? `  env: ${setting.env.join(', then ')}` : '';
    lines.push(`      default: ${setting.defaultText}${env}`);
  }
  return lines.join('\n');
}
