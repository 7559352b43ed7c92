// --pgbouncer.url and its companions as the operator writes them: admin-console URLs with
// libpq's TLS parameters, dns+ names, the password file, Coder's entry, and check's pool_size what-if.
// Every mistake is named with the fix, and no message repeats a password.

import { describe, expect, it } from 'vitest';
import { instanceUrl } from '../../src/config/pgbouncer-urls.js';
import { parseConfig } from '../../src/config/parse-config.js';
import { problemsOf } from '../support/config-problems.js';

const postgres = ['--postgres.url', 'postgres://monitor:pw@db:5432/coder'];

describe('--pgbouncer.url', () => {
  it('is empty by default: Coder connects directly', () => {
    expect(parseConfig(postgres, {}).pgbouncer).toEqual({ targets: [], passwordFile: null, poolSize: null, database: 'coder' });
  });

  it('reads a comma list of admin consoles and dns+ names, from the flag or CAPACITY_PGBOUNCER_URL', () => {
    const text = 'postgres://stats:s3cret@pgb-a:6432/pgbouncer?sslmode=require, dns+postgres://stats@pgbouncer.coder.svc.cluster.local/pgbouncer';
    const { targets } = parseConfig(postgres, { CAPACITY_PGBOUNCER_URL: text }).pgbouncer;
    expect(targets).toHaveLength(2);
    expect(targets[0]).toMatchObject({ kind: 'static', url: 'postgres://stats:s3cret@pgb-a:6432/pgbouncer?sslmode=require', tls: { mode: 'require' } });
    // PgBouncer's port when the name gives none; TLS as libpq's default.
    expect(targets[1]).toMatchObject({ kind: 'dns', hostname: 'pgbouncer.coder.svc.cluster.local', port: 6432, text: 'pgbouncer.coder.svc.cluster.local:6432', tls: { mode: 'prefer' } });
  });

  it('puts each discovered address in the name\'s URL, brackets around IPv6', () => {
    const [target] = parseConfig([...postgres, '--pgbouncer.url', 'dns+postgres://stats:pw@pgbouncer.svc:6433/pgbouncer'], {}).pgbouncer.targets;
    if (target?.kind !== 'dns') throw new Error('expected a dns+ target');
    expect(instanceUrl(target, '10.0.0.7')).toBe('postgres://stats:pw@10.0.0.7:6433/pgbouncer');
    expect(instanceUrl(target, 'fd00::7')).toBe('postgres://stats:pw@[fd00::7]:6433/pgbouncer');
  });

  it('asks for the admin console when a URL names another database, and never quotes the URL', () => {
    const problems = problemsOf([...postgres, '--pgbouncer.url', 'postgres://stats:Hunter2secret@pgb:6432/coder']);
    expect(problems).toEqual(['--pgbouncer.url=(value hidden): the URL must end in /pgbouncer: PgBouncer\'s admin console is the database "pgbouncer"']);
  });

  it('names which URL of the list is wrong, with the fix for an unencoded character in a password', () => {
    const problems = problemsOf([...postgres, '--pgbouncer.url', 'postgres://s:p@a:6432/pgbouncer,postgres://s:ab#cd@b:6432/pgbouncer']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^--pgbouncer\.url=\(value hidden\): URL 2 of 2: not a URL; expected postgres:\/\/user:password@host:6432\/pgbouncer; if the password holds special characters, percent-encode/);
    expect(problems[0]).not.toContain('ab#cd');
  });

  it('applies libpq\'s TLS rules to each URL, naming the URL parameter to set', () => {
    const problems = problemsOf([...postgres, '--pgbouncer.url', 'postgres://s:p@pgb:6432/pgbouncer?sslmode=verify-full']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('sslmode=verify-full (from sslmode in --pgbouncer.url) needs sslrootcert= in --pgbouncer.url');
  });
});

describe('--pgbouncer.password-file and --pgbouncer.pool-size', () => {
  it('reads the password file from the flag or CAPACITY_PGBOUNCER_PASSWORD_FILE', () => {
    const config = parseConfig([...postgres, '--pgbouncer.url', 'postgres://stats@pgb:6432/pgbouncer'], { CAPACITY_PGBOUNCER_PASSWORD_FILE: '/secrets/pgbouncer/password' });
    expect(config.pgbouncer.passwordFile).toBe('/secrets/pgbouncer/password');
  });

  it('takes a planned pool_size for check', () => {
    expect(parseConfig([...postgres, '--pgbouncer.url', 'postgres://stats@pgb:6432/pgbouncer', '--pgbouncer.pool-size', '84'], {}).pgbouncer.poolSize).toBe(84);
  });

  it('refuses a planned pool_size without a PgBouncer to apply it to', () => {
    expect(problemsOf([...postgres, '--pgbouncer.pool-size', '84'])).toEqual(['--pgbouncer.pool-size judges a PgBouncer pool: give --pgbouncer.url too']);
  });
});

describe('--pgbouncer.database', () => {
  const pgbouncer = ['--pgbouncer.url', 'postgres://stats@pgb:6432/pgbouncer'];

  it("is Coder's database by default: an entry named as the database on PostgreSQL", () => {
    expect(parseConfig([...postgres, ...pgbouncer, '--coder.database', 'coderprod'], {}).pgbouncer.database).toBe('coderprod');
  });

  it('names the entry in Coder\'s URL, from the flag or CAPACITY_PGBOUNCER_DATABASE, and leaves --coder.database as it is', () => {
    const config = parseConfig([...postgres, ...pgbouncer], { CAPACITY_PGBOUNCER_DATABASE: 'coder_pool' });
    expect(config.pgbouncer.database).toBe('coder_pool');
    expect(config.coder.database).toBe('coder');
  });

  it('refuses an entry name without a PgBouncer to look it up in', () => {
    expect(problemsOf([...postgres, '--pgbouncer.database', 'coder_pool'])).toEqual(["--pgbouncer.database names Coder's entry in a PgBouncer: give --pgbouncer.url too"]);
  });
});
