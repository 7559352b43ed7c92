// Turns argv and the environment into the Config the program runs with: every setting read
// and parsed, then the checks that span several settings, with all problems reported together.

import { iamConfigProblems } from '../sources/postgres-iam.js';
import { resolvePostgresTls, type TlsSettingInput } from '../sources/postgres-tls.js';
import { parseTargets, type TargetSpec } from '../sources/targets.js';
import { connectionSettings } from './postgres-connection.js';
import { readSettings, validValue, type Environment } from './read-settings.js';
import { settings, type SettingFlag } from './settings.js';

/** Bad configuration: every problem at once, so one fix-and-retry suffices. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\nRun with --help for every setting.`);
    this.name = 'ConfigError';
  }
}

/** The settings as the program uses them, grouped by concern; each value has its schema's output type. */
export type Config = ReturnType<typeof parseConfig>;

/** Parses flags and environment into a Config, or throws ConfigError listing every problem. */
export function parseConfig(args: string[], env: Environment) {
  const problems: string[] = [];
  const { parsed, sources, onCommandLine } = readSettings(args, env, problems);
  // While problems are still being collected, an invalid setting reads as unset: its problem is listed already.
  const valueOf = <F extends SettingFlag>(flag: F) => parsed[flag]?.value;

  let targets: TargetSpec[] = [];
  const targetText = valueOf('coder.targets');
  if (targetText !== undefined) {
    const result = parseTargets(targetText);
    problems.push(...result.problems.map((problem) => `--coder.targets: ${problem}`));
    targets = result.targets;
  }

  const connection = connectionSettings(valueOf('postgres.url'), env, valueOf('postgres.password-file'), problems);
  const role = valueOf('coder.role') ?? connection.user;
  // An invalid URL is already a problem; do not add its consequences as more.
  const urlValid = parsed['postgres.url'] !== undefined;
  if (!role && urlValid) problems.push("--coder.role: cannot tell Coder's role; give --postgres.url with a user, PGUSER, or --coder.role");

  const auth = valueOf('postgres.auth');
  const tlsGiven: Partial<Record<'mode' | 'rootCert' | 'cert' | 'key', TlsSettingInput>> = {};
  for (const [field, flag] of [['mode', 'postgres.sslmode'], ['rootCert', 'postgres.sslrootcert'], ['cert', 'postgres.sslcert'], ['key', 'postgres.sslkey']] as const) {
    const value = valueOf(flag);
    if (value !== undefined) tlsGiven[field] = { value, from: sources.get(flag) ?? `--${flag}` };
  }
  const tls = resolvePostgresTls(
    { url: urlValid ? connection.url : null, given: tlsGiven, requireEncryption: auth === 'awsiamrds' ? { because: '--postgres.auth=awsiamrds' } : undefined },
    problems,
  );
  if (auth !== undefined) problems.push(...iamConfigProblems(auth, connection));
  // Settings about Coder's PgBouncer pool mean nothing without a PgBouncer (a given but invalid URL is already a problem).
  const noPgbouncer = !sources.has('pgbouncer.url');
  for (const [flag, what] of [
    ['pgbouncer.pool-size', 'judges a PgBouncer pool'],
    ['pgbouncer.database', "names Coder's entry in a PgBouncer"],
  ] as const) {
    if (noPgbouncer && valueOf(flag) !== undefined) problems.push(`--${flag} ${what}: give --pgbouncer.url too`);
  }

  // No role is always a problem already: the one above, or the invalid URL that hid it.
  if (problems.length > 0 || !role) throw new ConfigError(problems);

  const validValueOf = <F extends SettingFlag>(flag: F) => validValue(parsed, flag);
  const database = validValueOf('coder.database') ?? connection.database ?? role;
  return {
    postgres: {
      ...connection,
      /** 'auto' = rds.rds_superuser_reserved_connections when present, else 0. */
      providerReserved: validValueOf('postgres.provider-reserved'),
      /** sslmode and certificates: flag, else the URL's parameter, else PG* variable. */
      tls,
      auth: validValueOf('postgres.auth'),
    },
    coder: {
      targets,
      poolMax: validValueOf('coder.pool-max'),
      /** --coder.pool-max was given on the command line: `check` then plans every replica at it. */
      poolMaxOnCommandLine: onCommandLine.has('coder.pool-max'),
      extraConnections: validValueOf('coder.extra-connections'),
      replicas: validValueOf('coder.replicas') ?? null,
      maxSurge: validValueOf('coder.max-surge'),
      maxUnavailable: validValueOf('coder.max-unavailable'),
      role,
      database,
      applicationName: validValueOf('coder.application-name') ?? null,
      replicasFromDb: validValueOf('coder.replicas-from-db'),
    },
    capacity: { safetyMargin: validValueOf('capacity.safety-margin'), /** --capacity.demand-window */ demandWindowMs: validValueOf('capacity.demand-window') },
    other: { budgets: validValueOf('other.budget') ?? [] },
    pgbouncer: {
      /** --pgbouncer.url: admin consoles in front of Coder; empty = Coder connects directly. */
      targets: validValueOf('pgbouncer.url') ?? [],
      passwordFile: validValueOf('pgbouncer.password-file') ?? null,
      /** --pgbouncer.pool-size (check only): judge Coder's pool at this pool_size on every instance; null = as configured. */
      poolSize: validValueOf('pgbouncer.pool-size') ?? null,
      /** --pgbouncer.database: the [databases] entry Coder connects to; by default coder.database. */
      database: validValueOf('pgbouncer.database') ?? database,
    },
    poll: { schedule: validValueOf('poll.schedule'), timeoutMs: validValueOf('poll.timeout') },
    web: { ...validValueOf('web.listen-address'), /** exporter-toolkit web config (TLS, basic auth). */ configFile: validValueOf('web.config.file') ?? null },
    log: { level: validValueOf('log.level') },
    check: {
      output: validValueOf('output'),
      /** --postgres.max-connections: judge the fleet on a server of this size; null = the real one. */
      maxConnections: validValueOf('postgres.max-connections') ?? null,
    },
  };
}

/** --help text, generated from the settings table. */
export function settingsHelp(): string {
  const lines: string[] = [];
  for (const setting of settings) {
    const flag = setting.boolean ? `--${setting.flag}` : `--${setting.flag} VALUE`;
    lines.push(`  ${flag}`);
    lines.push(`      ${setting.help}`);
    const env = setting.env ? `  env: ${setting.env.join(', then ')}` : '';
    lines.push(`      default: ${setting.defaultText}${env}`);
  }
  return lines.join('\n');
}
