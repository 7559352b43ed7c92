// --web.config.file is read as exporter-toolkit reads it: the same fields, strict about
// unknown ones, and every refusal names the file and the field. Not a unit test: its
// certificates come from the openssl CLI, installed as a Debian package if missing.

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadWebConfig } from '../../src/web/web-config.js';
import { createTestPki, type TestPki } from '../support/certificates.js';

let dir: string;
let pki: TestPki;
let serverCert: { cert: string; key: string };
const hash = '$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'web-config-unit-'));
  pki = await createTestPki();
  serverCert = await pki.server({ ip: ['127.0.0.1'] });
  return () => pki.remove();
});

async function load(yaml: string) {
  const file = path.join(dir, `web-${Math.random().toString(36).slice(2)}.yml`);
  await writeFile(file, yaml);
  return { file, config: () => loadWebConfig(file) };
}

async function errorOf(yaml: string): Promise<string> {
  const { file, config } = await load(yaml);
  const message = await config().then(
    () => 'loaded',
    (error: Error) => error.message,
  );
  return message.replace(file, 'FILE');
}

describe('the web config file', () => {
  it('reads an empty file as no TLS and no authentication, as the toolkit does', async () => {
    const { config } = await load('');
    expect(await config()).toMatchObject({ tls: null, basicAuthUsers: new Map(), headers: {}, rateLimit: null });
  });

  it("reads postgres_exporter's documented example: TLS with client certificates and basic auth", async () => {
    const { file, config } = await load(
      [
        'tls_server_config:',
        `  cert_file: ${path.relative(dir, serverCert.cert)}`,
        `  key_file: ${path.relative(dir, serverCert.key)}`,
        '  client_auth_type: RequireAndVerifyClientCert',
        `  client_ca_file: ${pki.ca.cert}`,
        '  min_version: TLS13',
        '  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]',
        '  curve_preferences: [X25519, CurveP256]',
        'http_server_config:',
        '  http2: true',
        '  headers:',
        '    X-Frame-Options: deny',
        'basic_auth_users:',
        `  prometheus: ${hash}`,
        'rate_limit:',
        '  interval: 1m30s',
        '  burst: 5',
      ].join('\n'),
    );
    const loaded = await config();
    expect(loaded.tls).toMatchObject({
      clientAuth: 'RequireAndVerifyClientCert',
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256',
      ecdhCurve: 'X25519:P-256',
    });
    expect(loaded.tls?.cert).toContain('BEGIN CERTIFICATE');
    expect(loaded.basicAuthUsers.get('prometheus')).toBe(hash);
    expect(loaded.headers).toEqual({ 'X-Frame-Options': 'deny' });
    expect(loaded.rateLimit).toEqual({ intervalMs: 90_000, burst: 5 });
    // Relative paths are the file's directory's, and every named file is watched.
    expect(loaded.files).toEqual([file, serverCert.cert, serverCert.key, pki.ca.cert]);
  });

  it('refuses an unknown field, naming it', async () => {
    expect(await errorOf('tls_server_config:\n  cert_fil: x\n')).toBe('--web.config.file FILE: unknown field tls_server_config.cert_fil');
    expect(await errorOf('basic_auth:\n  a: b\n')).toBe('--web.config.file FILE: unknown field basic_auth');
  });

  it('refuses a password that is not a bcrypt hash, and says how to make one', async () => {
    expect(await errorOf('basic_auth_users:\n  prometheus: secret\n')).toBe(
      `--web.config.file FILE: basic_auth_users.prometheus: not a bcrypt hash: make one with htpasswd -nBC 10 "" | tr -d ':\\n'`,
    );
  });

  it('refuses an unknown client_auth_type and TLS version', async () => {
    expect(await errorOf(`tls_server_config:\n  cert_file: ${serverCert.cert}\n  key_file: ${serverCert.key}\n  client_auth_type: Always\n`)).toBe(
      '--web.config.file FILE: tls_server_config.client_auth_type: expected one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert',
    );
    expect(await errorOf(`tls_server_config:\n  cert_file: ${serverCert.cert}\n  key_file: ${serverCert.key}\n  min_version: TLS1.2\n`)).toBe(
      '--web.config.file FILE: tls_server_config.min_version: expected TLS10, TLS11, TLS12 or TLS13',
    );
  });

  it('refuses TLS without a key, a key file it cannot read, and a key that is not the certificate\'s', async () => {
    expect(await errorOf(`tls_server_config:\n  cert_file: ${serverCert.cert}\n`)).toBe('--web.config.file FILE: tls_server_config: missing one of key or key_file');
    expect(await errorOf(`tls_server_config:\n  cert_file: ${serverCert.cert}\n  key_file: /nowhere/key.pem\n`)).toBe(
      '--web.config.file FILE: tls_server_config.key_file: cannot read /nowhere/key.pem (ENOENT)',
    );
    expect(await errorOf(`tls_server_config:\n  cert_file: ${serverCert.cert}\n  key_file: ${pki.ca.key}\n`)).toMatch(
      /^--web\.config\.file FILE: tls_server_config: the certificate, key or client CA is not usable \(.*\): check that key_file holds the key of cert_file, both PEM$/,
    );
  });

  it('refuses a client CA without a client auth policy, as the toolkit does', async () => {
    expect(await errorOf(`tls_server_config:\n  cert_file: ${serverCert.cert}\n  key_file: ${serverCert.key}\n  client_ca_file: ${pki.ca.cert}\n`)).toMatch(
      /^--web\.config\.file FILE: tls_server_config\.client_auth_type: a client CA is configured without a client auth policy/,
    );
  });

  it('refuses client_allowed_sans unless a client certificate is required', async () => {
    expect(await errorOf(`tls_server_config:\n  cert_file: ${serverCert.cert}\n  key_file: ${serverCert.key}\n  client_auth_type: VerifyClientCertIfGiven\n  client_allowed_sans: [a]\n`)).toBe(
      '--web.config.file FILE: tls_server_config.client_allowed_sans: requires client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert',
    );
  });

  it('refuses headers the toolkit does not allow', async () => {
    expect(await errorOf('http_server_config:\n  headers:\n    Server: x\n')).toMatch(/^--web\.config\.file FILE: http_server_config\.headers\.Server: this header can not be configured/);
    expect(await errorOf('http_server_config:\n  headers:\n    X-Frame-Options: allow\n')).toBe(
      '--web.config.file FILE: http_server_config.headers.X-Frame-Options: expected one of deny, sameorigin, not "allow"',
    );
  });

  it('says when the file is missing or not YAML', async () => {
    await expect(loadWebConfig('/nowhere/web.yml')).rejects.toThrow('--web.config.file /nowhere/web.yml: cannot read it (ENOENT)');
    expect(await errorOf('basic_auth_users: [\n')).toMatch(/^--web\.config\.file FILE: not valid YAML/);
  });
});
