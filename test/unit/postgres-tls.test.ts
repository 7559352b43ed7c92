// How the monitor reads sslmode and certificates (libpq's meaning, flags on top), and the
// configuration mistakes it refuses before connecting. The real handshakes are in
// test/integration/postgres-tls.test.ts.

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkServerIdentity } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse-config.js';
import { problemsOf } from '../support/config-problems.js';
import { buildSslOptions, fallsBackToPlaintext, withoutTlsParameters, type PostgresTlsSettings } from '../../src/sources/postgres-tls.js';

const base = 'postgres://monitor:s3cret@db.internal:5432/coder';

const tlsOf = (args: string[], env: Record<string, string> = {}) => parseConfig(args, env).postgres.tls;

describe('sslmode and certificates from flags, the URL and PG* variables', () => {
  it("defaults to libpq's prefer: TLS when offered, no verification, plaintext otherwise", () => {
    expect(tlsOf(['--postgres.url', base])).toEqual({ mode: 'prefer', modeFrom: 'default', rootCert: null, cert: null, key: null });
  });

  it("takes the URL's sslmode over PGSSLMODE, as libpq does", () => {
    expect(tlsOf(['--postgres.url', `${base}?sslmode=require`], { PGSSLMODE: 'disable' })).toMatchObject({ mode: 'require', modeFrom: 'sslmode in --postgres.url' });
    expect(tlsOf(['--postgres.url', base], { PGSSLMODE: 'disable' })).toMatchObject({ mode: 'disable', modeFrom: 'PGSSLMODE' });
  });

  it("takes the flag over the URL's sslmode", () => {
    expect(tlsOf(['--postgres.url', `${base}?sslmode=disable`, '--postgres.sslmode', 'require'])).toMatchObject({ mode: 'require', modeFrom: '--postgres.sslmode' });
  });

  it('reads sslrootcert, sslcert and sslkey from the URL, as Coder (lib/pq) does', () => {
    const url = `${base}?sslmode=verify-full&sslrootcert=/certs/ca.pem&sslcert=/certs/client.pem&sslkey=/certs/client.key`;
    expect(tlsOf(['--postgres.url', url])).toEqual({ mode: 'verify-full', modeFrom: 'sslmode in --postgres.url', rootCert: '/certs/ca.pem', cert: '/certs/client.pem', key: '/certs/client.key' });
  });

  it('refuses an unknown sslmode, naming where it came from', () => {
    expect(problemsOf(['--postgres.url', `${base}?sslmode=no-verify`])).toEqual([
      'sslmode in --postgres.url="no-verify": expected one of disable, allow, prefer, require, verify-ca, verify-full (libpq\'s sslmode)',
    ]);
    expect(problemsOf(['--postgres.url', base, '--postgres.sslmode', 'strict'])[0]).toMatch(/^--postgres\.sslmode="strict": expected one of disable, allow/);
  });

  it('refuses verify-full and verify-ca without a root certificate, and says which file to give', () => {
    expect(problemsOf(['--postgres.url', base, '--postgres.sslmode', 'verify-full'])).toEqual([
      `sslmode=verify-full (from --postgres.sslmode) needs --postgres.sslrootcert: the CA file that signed the server's certificate (for RDS, AWS's global-bundle.pem), or "system" for the public CAs`,
    ]);
    expect(problemsOf(['--postgres.url', `${base}?sslmode=verify-ca`])[0]).toMatch(/^sslmode=verify-ca \(from sslmode in --postgres.url\) needs --postgres.sslrootcert/);
  });

  it('allows sslrootcert=system only with verify-full, as libpq does', () => {
    expect(tlsOf(['--postgres.url', `${base}?sslmode=verify-full&sslrootcert=system`]).rootCert).toBe('system');
    expect(problemsOf(['--postgres.url', `${base}?sslmode=require&sslrootcert=system`])[0]).toMatch(/sslrootcert=system .* needs sslmode=verify-full/);
  });

  it('refuses a client certificate without its key, and one with sslmode=disable', () => {
    expect(problemsOf(['--postgres.url', base, '--postgres.sslcert', '/c.pem'])).toEqual([
      '--postgres.sslcert is set but --postgres.sslkey is not: a client certificate needs both the certificate and its key',
    ]);
    expect(problemsOf(['--postgres.url', `${base}?sslmode=disable`, '--postgres.sslcert', '/c.pem', '--postgres.sslkey', '/c.key'])[0]).toMatch(
      /--postgres.sslcert is set but sslmode=disable .* sends no certificate/,
    );
  });

  it("refuses node-postgres' own ssl= URL parameter rather than guessing what it meant", () => {
    expect(problemsOf(['--postgres.url', `${base}?ssl=true`])).toEqual([
      "--postgres.url: the parameter ssl= is not supported: use libpq's sslmode=require (or verify-full) instead of node-postgres' ssl=",
    ]);
  });

  it('strips the TLS parameters from the URL handed to node-postgres and keeps the rest', () => {
    const url = `${base}?sslmode=verify-full&sslrootcert=%2Fcerts%2Fca.pem&application_name=x&connect_timeout=3`;
    const stripped = new URL(withoutTlsParameters(url));
    expect([...stripped.searchParams.keys()]).toEqual(['application_name', 'connect_timeout']);
    expect(stripped.password).toBe('s3cret');
    expect(withoutTlsParameters(base)).toBe(base);
  });
});

describe('IAM authentication settings', () => {
  it('reads CODER_PG_AUTH=awsiamrds and requires TLS when sslmode is not given', () => {
    const config = parseConfig([], { CODER_PG_CONNECTION_URL: 'postgres://monitor@db.abc.eu-west-1.rds.amazonaws.com:5432/coder', CODER_PG_AUTH: 'awsiamrds' });
    expect(config.postgres.auth).toBe('awsiamrds');
    expect(config.postgres.tls).toMatchObject({ mode: 'require', modeFrom: '--postgres.auth=awsiamrds (at least require)' });
  });

  it('refuses sslmode=disable with IAM: a token must never cross the network in plaintext', () => {
    expect(problemsOf(['--postgres.url', `${base}?sslmode=disable`, '--postgres.auth', 'awsiamrds'])).toEqual([
      'sslmode=disable (from sslmode in --postgres.url) cannot be used with --postgres.auth=awsiamrds: use sslmode=require, or verify-full with --postgres.sslrootcert',
    ]);
  });

  it('refuses IAM without a user, and IAM together with a password file', () => {
    expect(problemsOf(['--postgres.url', 'postgres://db.internal/coder', '--postgres.auth', 'awsiamrds', '--coder.role', 'coder'])).toEqual([
      '--postgres.auth=awsiamrds: IAM authentication needs the database user in --postgres.url (a role granted rds_iam)',
    ]);
    expect(problemsOf(['--postgres.url', base, '--postgres.auth', 'awsiamrds'], { DB_PASSWORD_PATH: '/run/secrets/pw' })[0]).toMatch(/--postgres.password-file \(DB_PASSWORD_PATH\) has no use/);
  });

  it('refuses an unknown auth mode', () => {
    expect(problemsOf(['--postgres.url', base, '--postgres.auth', 'iam'])).toEqual(['--postgres.auth="iam": expected one of password, awsiamrds']);
  });
});

describe("pg's ssl option, built at each connect", () => {
  const settings = (overrides: Partial<PostgresTlsSettings>): PostgresTlsSettings => ({ mode: 'prefer', modeFrom: 'test', rootCert: null, cert: null, key: null, ...overrides });

  async function files() {
    const dir = await mkdtemp(path.join(tmpdir(), 'pg-tls-unit-'));
    const ca = path.join(dir, 'ca.pem');
    await writeFile(ca, 'CA PEM');
    return { dir, ca };
  }

  it('is false for disable, and unverified TLS for allow, prefer and require without a root certificate', async () => {
    expect(await buildSslOptions(settings({ mode: 'disable' }))).toBe(false);
    for (const mode of ['allow', 'prefer', 'require'] as const) {
      expect(await buildSslOptions(settings({ mode }))).toEqual({ rejectUnauthorized: false });
    }
  });

  it('verifies the chain but not the name for require with a root certificate (as libpq) and for verify-ca', async () => {
    const { ca } = await files();
    for (const mode of ['require', 'verify-ca'] as const) {
      const options = await buildSslOptions(settings({ mode, rootCert: ca }));
      expect(options).toMatchObject({ ca: 'CA PEM', rejectUnauthorized: true });
      expect(options && options.checkServerIdentity?.('other.example', {} as never)).toBeUndefined();
    }
  });

  it('verifies chain and host name for verify-full, with the public CAs for sslrootcert=system', async () => {
    const { ca } = await files();
    expect(await buildSslOptions(settings({ mode: 'verify-full', rootCert: ca }))).toEqual({ ca: 'CA PEM', rejectUnauthorized: true, checkServerIdentity });
    expect(await buildSslOptions(settings({ mode: 'verify-full', rootCert: 'system' }))).toEqual({ rejectUnauthorized: true, checkServerIdentity });
  });

  it('names the setting and the file when a file cannot be read', async () => {
    await expect(buildSslOptions(settings({ mode: 'verify-full', rootCert: '/nowhere/ca.pem' }))).rejects.toThrow(
      "cannot read --postgres.sslrootcert /nowhere/ca.pem (ENOENT): check the path and the Secret's mount",
    );
  });

  it('falls back to plaintext only in allow and prefer, and only when the server offers no TLS', () => {
    const noTls = new Error('The server does not support SSL connections');
    expect(fallsBackToPlaintext(settings({ mode: 'prefer' }), noTls)).toBe(true);
    expect(fallsBackToPlaintext(settings({ mode: 'allow' }), noTls)).toBe(true);
    expect(fallsBackToPlaintext(settings({ mode: 'require' }), noTls)).toBe(false);
    expect(fallsBackToPlaintext(settings({ mode: 'prefer' }), Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))).toBe(false);
  });
});
