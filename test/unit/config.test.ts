import { describe, expect, it } from 'vitest';
import { parseConfig, settingsHelp } from '../../src/config/parse-config.js';
import { settingsRows } from '../../src/config/settings.js';
import { problemsOf } from '../support/config-problems.js';

const url = 'postgres://coder:s3cret@db.internal:5432/coder?sslmode=disable';

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig(['--postgres.url', url], {});
    expect(config.coder.poolMax).toBe(10);
    expect(config.coder.extraConnections).toBe(1);
    expect(config.coder.replicas).toBeNull();
    expect(config.coder.maxSurge).toEqual({ kind: 'percent', value: 25 });
    expect(config.coder.maxUnavailable).toEqual({ kind: 'percent', value: 25 });
    expect(config.other.budgets).toEqual([]);
    expect(config.coder.replicasFromDb).toBe(false);
    expect(config.capacity.safetyMargin).toBe(0.2);
    expect(config.poll).toEqual({ schedule: '*/15 * * * * *', timeoutMs: 5000 });
    expect(config.web).toEqual({ host: '', port: 9816, configFile: null });
    expect(config.log.level).toBe('info');
    expect(config.postgres.providerReserved).toBe('auto');
  });

  it('reads --other.budget as role, role@database and app: declarations', () => {
    const config = parseConfig(['--postgres.url', url], { CAPACITY_OTHER_BUDGET: 'etl=30, grafana@metrics=5,app:airflow-scheduler=12' });
    expect(config.other.budgets).toEqual([
      { text: 'etl', selector: { kind: 'role', role: 'etl', database: null }, budget: 30 },
      { text: 'grafana@metrics', selector: { kind: 'role', role: 'grafana', database: 'metrics' }, budget: 5 },
      { text: 'app:airflow-scheduler', selector: { kind: 'application', application: 'airflow-scheduler' }, budget: 12 },
    ]);
  });

  it('lists every malformed --other.budget declaration, naming the expected form', () => {
    const problems = problemsOf(['--postgres.url', url, '--other.budget', 'etl=lots,app:=3,a@b@c=1,etl=2,etl=4']);
    expect(problems).toEqual([
      expect.stringContaining('"etl=lots" is not SELECTOR=N; expected e.g. etl=30, etl@warehouse=30 or app:airflow=12'),
      expect.stringContaining('"app:=3": app: needs an application_name'),
      expect.stringContaining('"a@b@c=1": expected role=N or role@database=N'),
      expect.stringContaining('"etl" is declared twice'),
    ]);
  });

  it('takes --coder.max-unavailable as a count or a percentage, as Kubernetes does', () => {
    expect(parseConfig(['--postgres.url', url, '--coder.max-unavailable', '1'], {}).coder.maxUnavailable).toEqual({ kind: 'count', value: 1 });
    expect(problemsOf(['--postgres.url', url, '--coder.max-unavailable', 'half'])).toEqual([expect.stringContaining('expected a count (2) or a percentage (25%), as Kubernetes maxUnavailable')]);
  });

  it("takes Coder's role and database from the connection URL", () => {
    const config = parseConfig(['--postgres.url', url], {});
    expect(config.coder.role).toBe('coder');
    expect(config.coder.database).toBe('coder');
    expect(config.postgres.host).toBe('db.internal');
    expect(config.postgres.port).toBe(5432);
  });

  it("reads Coder's own environment variables, so a sidecar shares Coder's settings", () => {
    const config = parseConfig([], {
      CODER_PG_CONNECTION_URL: url,
      CODER_PG_CONN_MAX_OPEN: '15',
      CAPACITY_CODER_TARGETS: 'http://10.0.0.7:2112/metrics,dns+http://coder-metrics.coder.svc:2112/metrics',
      CAPACITY_CODER_REPLICAS: '6',
      DB_PASSWORD_PATH: '/run/secrets/db-password',
    });
    expect(config.coder.poolMax).toBe(15);
    expect(config.coder.replicas).toBe(6);
    expect(config.postgres.passwordFile).toBe('/run/secrets/db-password');
    expect(config.coder.targets).toEqual([
      { kind: 'static', url: 'http://10.0.0.7:2112/metrics' },
      { kind: 'dns', protocol: 'http:', hostname: 'coder-metrics.coder.svc', port: 2112, path: '/metrics', text: 'dns+http://coder-metrics.coder.svc:2112/metrics' },
    ]);
  });

  it('falls back to CODER_MAX_DB_CONNECTIONS (Coder v1) for the pool max', () => {
    expect(parseConfig([], { CODER_PG_CONNECTION_URL: url, CODER_MAX_DB_CONNECTIONS: '30' }).coder.poolMax).toBe(30);
    expect(parseConfig([], { CODER_PG_CONNECTION_URL: url, CODER_PG_CONN_MAX_OPEN: '12', CODER_MAX_DB_CONNECTIONS: '30' }).coder.poolMax).toBe(12);
  });

  it('lets a flag win over its environment variable', () => {
    expect(parseConfig(['--coder.pool-max=20'], { CODER_PG_CONNECTION_URL: url, CODER_PG_CONN_MAX_OPEN: '15' }).coder.poolMax).toBe(20);
  });

  it("uses libpq's PG* variables when there is no URL", () => {
    const config = parseConfig([], { PGHOST: 'db', PGPORT: '6432', PGUSER: 'coder', PGDATABASE: 'coderdb', PGPASSWORD: 'pw' });
    expect(config.postgres).toMatchObject({ url: null, host: 'db', port: 6432, user: 'coder', database: 'coderdb', password: 'pw' });
    expect(config.coder).toMatchObject({ role: 'coder', database: 'coderdb' });
  });

  it.each(['postgres', '5432x', '0', '70000', '5432.5', '-1'])('refuses PGPORT=%s by name, beside the other problems', (port) => {
    expect(problemsOf(['--coder.pool-max', 'ten'], { PGHOST: 'db', PGPORT: port, PGUSER: 'coder' })).toEqual([
      '--coder.pool-max="ten": expected a whole number',
      `PGPORT="${port}": expected a whole number from 1 to 65535 (libpq's port), or unset it for 5432`,
    ]);
  });

  it('accepts PGPORT 1 and 65535', () => {
    expect(parseConfig([], { PGHOST: 'db', PGPORT: '1', PGUSER: 'coder' }).postgres.port).toBe(1);
    expect(parseConfig([], { PGHOST: 'db', PGPORT: '65535', PGUSER: 'coder' }).postgres.port).toBe(65535);
  });

  it('accepts a max surge as a count and a boolean flag without a value', () => {
    const config = parseConfig(['--postgres.url', url, '--coder.max-surge', '2', '--coder.replicas-from-db'], {});
    expect(config.coder.maxSurge).toEqual({ kind: 'count', value: 2 });
    expect(config.coder.replicasFromDb).toBe(true);
  });

  it('parses the listen address with and without a host', () => {
    expect(parseConfig(['--postgres.url', url, '--web.listen-address', '127.0.0.1:9000'], {}).web).toEqual({ host: '127.0.0.1', port: 9000, configFile: null });
    expect(parseConfig(['--postgres.url', url, '--web.listen-address', '[::1]:9000'], {}).web).toEqual({ host: '::1', port: 9000, configFile: null });
  });

  it('lists every problem at once', () => {
    const problems = problemsOf([
      '--postgres.url',
      'mysql://x@y/z',
      '--coder.pool-max',
      'ten',
      '--coder.max-surge',
      '25 percent',
      '--capacity.safety-margin',
      '2',
      '--poll.schedule',
      'every minute',
      '--poll.timeout',
      '5',
      '--web.listen-address',
      'localhost',
      '--coder.targets',
      'ftp://x,dns+http://svc/metrics',
      '--log.level',
      'loud',
      '--no.such-flag',
      '1',
    ]);
    expect(problems).toHaveLength(11);
    expect(problems.join('\n')).toMatch(/--coder.pool-max="ten": expected a whole number/);
    expect(problems.join('\n')).toMatch(/needs an explicit port/);
    expect(problems.join('\n')).toMatch(/unknown flag --no.such-flag/);
  });

  it('never echoes the connection URL, which may hold a password', () => {
    const problems = problemsOf(['--postgres.url', 'http://coder:topsecret@db/coder']);
    expect(problems.join('\n')).not.toContain('topsecret');
    expect(problems.join('\n')).toContain('(value hidden)');
  });

  it('rejects a password with an unencoded # up front, saying to percent-encode it and quoting none of the URL', () => {
    const problems = problemsOf([], { CODER_PG_CONNECTION_URL: 'postgres://svc_mon:47#Xy@db.internal/coder' });
    expect(problems).toEqual([expect.stringMatching(/^CODER_PG_CONNECTION_URL=\(value hidden\): holds an unencoded #/)]);
    expect(problems[0]).toContain('percent-encode special characters in the password: # as %23');
    for (const fragment of ['svc_mon', '47', '7#', '#X', 'Xy', 'db.internal']) expect(problems[0]).not.toContain(fragment);
  });

  it('rejects a password whose unencoded ? or / makes the user name read as the host', () => {
    for (const url of ['postgres://svc_mon:12?Qz@db.internal/coder', 'postgres://svc_mon:12/Qz@db.internal/coder']) {
      const [problem] = problemsOf(['--postgres.url', url]);
      expect(problem).toMatch(/^--postgres.url=\(value hidden\): has an @ after the host/);
      expect(problem).toContain('? as %3F, / as %2F');
      for (const fragment of ['svc_mon', '12', 'Qz', 'db.internal']) expect(problem).not.toContain(fragment);
    }
  });

  it('says a password that breaks the URL apart may need percent-encoding', () => {
    const [problem] = problemsOf(['--postgres.url', 'postgres://svc_mon:ab/Qz@db.internal/coder']);
    expect(problem).toBe(
      '--postgres.url=(value hidden): not a URL; expected postgres://user:password@host:5432/database; if the password holds special characters, percent-encode special characters in the password: # as %23, ? as %3F, / as %2F, @ as %40, % as %25 (encodeURIComponent does it)',
    );
  });

  it('rejects a % in the password that starts no percent-encoding, instead of crashing', () => {
    const [problem] = problemsOf(['--postgres.url', 'postgres://svc_mon:50%zz9@db.internal/coder']);
    expect(problem).toContain('holds a % that does not start a percent-encoding (%XX)');
    expect(problem).toContain('% as %25');
    for (const fragment of ['50%', 'zz9']) expect(problem).not.toContain(fragment);
  });

  it('accepts a percent-encoded password and decodes it', () => {
    expect(parseConfig(['--postgres.url', 'postgres://svc_mon:47%23Xy%2F%3F@db.internal/coder'], {}).postgres.password).toBe('47#Xy/?');
  });

  it('rejects a seconds step past the minute (*/75), which cron would run once a minute', () => {
    expect(problemsOf(['--postgres.url', url, '--poll.schedule', '*/75 * * * * *'])).toEqual([
      '--poll.schedule="*/75 * * * * *": the seconds field "*/75" steps by 75, more than its range 0-59: it fires once per minute, not every 75 seconds. A cron step cannot cross the minute: use a step of at most 60, e.g. */30',
    ]);
  });

  it('checks steps in every field of a five-field schedule, and lets a full-range step pass', () => {
    expect(problemsOf(['--postgres.url', url, '--poll.schedule', '* */30 * * *'])).toEqual([expect.stringContaining('the hours field "*/30" steps by 30, more than its range 0-23')]);
    expect(parseConfig(['--postgres.url', url, '--poll.schedule', '*/60 * * * * *'], {}).poll.schedule).toBe('*/60 * * * * *');
  });

  it("says how to name Coder's role when nothing tells it", () => {
    expect(problemsOf([], {})).toEqual([expect.stringMatching(/cannot tell Coder's role/)]);
  });

  it('documents every flag with its environment variable and default in --help', () => {
    const help = settingsHelp();
    expect(help).toContain('--postgres.url VALUE');
    expect(help).toContain('env: CODER_PG_CONN_MAX_OPEN, then CODER_MAX_DB_CONNECTIONS');
    expect(help).toContain('default: */15 * * * * *');
    expect(help).toContain('--coder.replicas-from-db\n');
  });

  it('gives a docs generator the rows --help prints, in the same order', () => {
    const rows = settingsRows();
    expect(rows[0]).toEqual({
      flag: 'postgres.url',
      env: ['CODER_PG_CONNECTION_URL'],
      defaultText: "libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE",
      help: "PostgreSQL connection URL. Coder's own variable, so a sidecar can share Coder's secret.",
    });
    const shownFlags = [...settingsHelp().matchAll(/^ {2}--(\S+)/gm)].map((match) => match[1]);
    expect(rows.map((row) => row.flag)).toEqual(shownFlags);
    for (const row of rows) {
      const env = row.env.length > 0 ? `  env: ${row.env.join(', then ')}` : '';
      expect(settingsHelp()).toContain(`      ${row.help}\n      default: ${row.defaultText}${env}`);
    }
  });
});

describe('the demand window and the what-if server size', () => {
  it('keeps 24 h of demand by default, and reads 10m or 48h', () => {
    expect(parseConfig(['--postgres.url', url], {}).capacity.demandWindowMs).toBe(24 * 3_600_000);
    expect(parseConfig(['--postgres.url', url, '--capacity.demand-window', '10m'], {}).capacity.demandWindowMs).toBe(600_000);
    expect(parseConfig(['--postgres.url', url, '--capacity.demand-window', '48h'], {}).capacity.demandWindowMs).toBe(48 * 3_600_000);
  });

  it('refuses a demand window under a minute or over a week, naming the bound', () => {
    expect(problemsOf(['--postgres.url', url, '--capacity.demand-window', '30s'])).toEqual(['--capacity.demand-window="30s": must be 1m or longer']);
    expect(problemsOf(['--postgres.url', url, '--capacity.demand-window', '169h'])).toEqual(['--capacity.demand-window="169h": must be 168h or shorter']);
  });

  it('judges the real server unless --postgres.max-connections names another size', () => {
    expect(parseConfig(['--postgres.url', url], {}).check.maxConnections).toBeNull();
    expect(parseConfig(['--postgres.url', url, '--postgres.max-connections', '300'], {}).check.maxConnections).toBe(300);
    expect(problemsOf(['--postgres.url', url, '--postgres.max-connections', '0'])).toEqual(['--postgres.max-connections="0": must be 1 or more']);
  });
});
