// /metrics locked down with an exporter-toolkit web config, tried with real TLS clients:
// basic auth, TLS, client certificates, and changes to the file applied without restart.
// The daemon polls a PostgreSQL that is not there: the web listener does not care.

import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/parse-config.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { createTestPki, type CertificateFiles, type TestPki } from '../support/certificates.js';
import { captureLogs, type CapturedLogs } from '../support/logs.js';

const PASSWORD = 'scrape-Secret-7';
let pki: TestPki;
let serverCert: CertificateFiles;
let prometheusCert: CertificateFiles;
let strangerCert: CertificateFiles;
let hash: string;
const running: Daemon[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  [serverCert, prometheusCert, strangerCert] = await Promise.all([
    pki.server({ ip: ['127.0.0.1'] }),
    pki.client('prometheus'),
    pki.client('prometheus', pki.otherCa),
  ]);
  hash = await bcrypt.hash(PASSWORD, 8);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((daemon) => daemon.stop()));
});

afterAll(async () => {
  await pki?.remove();
});

async function writeWebConfig(name: string, lines: string[]): Promise<string> {
  const file = path.join(pki.dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

async function daemonWith(webConfigFile: string): Promise<Daemon & { logs: CapturedLogs }> {
  const logs = captureLogs();
  const config = parseConfig(
    ['--postgres.url', 'postgres://monitor:pg-Secret-1@127.0.0.1:1/coder', '--web.listen-address', '127.0.0.1:0', '--poll.schedule', '0 0 1 1 *', '--web.config.file', webConfigFile],
    {},
  );
  const daemon = await startDaemon(config, { logger: logs.logger });
  running.push(daemon);
  return { ...daemon, logs };
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One request on a fresh connection (a new TLS handshake each time), as a scraper would make. */
function get(url: string, options: { user?: string; password?: string; ca?: string; client?: CertificateFiles } = {}): Promise<Answer> {
  const target = new URL(url);
  const headers: Record<string, string> = {};
  if (options.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${options.user}:${options.password ?? ''}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const callback = (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    };
    const req =
      target.protocol === 'https:'
        ? httpsRequest(target, { agent: false, headers, ca: options.ca, cert: options.client ? readPem(options.client.cert) : undefined, key: options.client ? readPem(options.client.key) : undefined }, callback)
        : httpRequest(target, { agent: false, headers }, callback);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

const pemCache = new Map<string, string>();
function readPem(file: string): string {
  let text = pemCache.get(file);
  if (text === undefined) {
    text = readFileSync(file, 'utf8');
    pemCache.set(file, text);
  }
  return text;
}

const caPem = () => readPem(pki.ca.cert);

describe('basic authentication from the web config', () => {
  it('answers 401 without credentials or with wrong ones, and 200 with the right ones', async () => {
    const daemon = await daemonWith(await writeWebConfig('basic.yml', ['basic_auth_users:', `  prometheus: ${hash}`]));
    const none = await get(`${daemon.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic');
    expect(none.body).not.toContain('coder_pg_capacity');
    expect((await get(`${daemon.url}/metrics`, { user: 'prometheus', password: 'wrong' })).status).toBe(401);
    expect((await get(`${daemon.url}/metrics`, { user: 'nobody', password: PASSWORD })).status).toBe(401);
    const ok = await get(`${daemon.url}/metrics`, { user: 'prometheus', password: PASSWORD });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('coder_pg_capacity_build_info');
  });

  it('protects every path, /healthz and /readyz included, as the exporter-toolkit does', async () => {
    const daemon = await daemonWith(await writeWebConfig('basic-all.yml', ['basic_auth_users:', `  prometheus: ${hash}`]));
    for (const route of ['/', '/healthz', '/readyz', '/api/v1/capacity']) {
      expect((await get(`${daemon.url}${route}`)).status, route).toBe(401);
    }
    expect((await get(`${daemon.url}/healthz`, { user: 'prometheus', password: PASSWORD })).status).toBe(200);
  });

  it('adds the configured headers and applies the rate limit', async () => {
    const daemon = await daemonWith(await writeWebConfig('headers.yml', ['http_server_config:', '  headers:', '    X-Frame-Options: deny', 'rate_limit:', '  interval: 1m', '  burst: 2']));
    const first = await get(`${daemon.url}/healthz`);
    expect(first.headers['x-frame-options']).toBe('deny');
    expect((await get(`${daemon.url}/healthz`)).status).toBe(200);
    expect((await get(`${daemon.url}/healthz`)).status).toBe(429);
  });
});

describe('TLS from the web config, with real TLS clients', () => {
  const tlsConfig = (clientAuth: string) => [
    'tls_server_config:',
    `  cert_file: ${serverCert.cert}`,
    `  key_file: ${serverCert.key}`,
    `  client_ca_file: ${pki.ca.cert}`,
    `  client_auth_type: ${clientAuth}`,
    'basic_auth_users:',
    `  prometheus: ${hash}`,
  ];

  it('serves HTTPS, refusing the handshake without a client certificate when RequireAndVerifyClientCert', async () => {
    const daemon = await daemonWith(await writeWebConfig('mtls.yml', tlsConfig('RequireAndVerifyClientCert')));
    expect(daemon.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const withoutCertificate = await get(`${daemon.url}/metrics`, { ca: caPem(), user: 'prometheus', password: PASSWORD }).catch((error: NodeJS.ErrnoException) => error);
    expect(withoutCertificate).toBeInstanceOf(Error);
    expect((withoutCertificate as NodeJS.ErrnoException).code).toMatch(/^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET|EPIPE)$/);

    const stranger = await get(`${daemon.url}/metrics`, { ca: caPem(), client: strangerCert, user: 'prometheus', password: PASSWORD }).catch((error: NodeJS.ErrnoException) => error);
    expect(stranger).toBeInstanceOf(Error);

    const withCertificate = await get(`${daemon.url}/metrics`, { ca: caPem(), client: prometheusCert, user: 'prometheus', password: PASSWORD });
    expect(withCertificate.status).toBe(200);
    // Client certificate and basic auth both apply.
    expect((await get(`${daemon.url}/metrics`, { ca: caPem(), client: prometheusCert })).status).toBe(401);
  });

  it('refuses a connection without a certificate under RequireAnyClientCert, but takes any certificate', async () => {
    const daemon = await daemonWith(await writeWebConfig('any.yml', tlsConfig('RequireAnyClientCert')));
    await expect(get(`${daemon.url}/healthz`, { ca: caPem(), user: 'prometheus', password: PASSWORD })).rejects.toThrow();
    expect((await get(`${daemon.url}/healthz`, { ca: caPem(), client: strangerCert, user: 'prometheus', password: PASSWORD })).status).toBe(200);
  });

  it('takes no certificate or a verified one under VerifyClientCertIfGiven, and refuses an unverified one', async () => {
    const daemon = await daemonWith(await writeWebConfig('if-given.yml', tlsConfig('VerifyClientCertIfGiven')));
    const auth = { ca: caPem(), user: 'prometheus', password: PASSWORD };
    expect((await get(`${daemon.url}/healthz`, auth)).status).toBe(200);
    expect((await get(`${daemon.url}/healthz`, { ...auth, client: prometheusCert })).status).toBe(200);
    await expect(get(`${daemon.url}/healthz`, { ...auth, client: strangerCert })).rejects.toThrow();
  });

  it('admits only client certificates with one of client_allowed_sans', async () => {
    const lines = tlsConfig('RequireAndVerifyClientCert');
    lines.splice(lines.indexOf('basic_auth_users:'), 0, '  client_allowed_sans: [prometheus.monitoring.svc]');
    const daemon = await daemonWith(await writeWebConfig('sans.yml', lines));
    const named = await pki.client('prometheus', pki.ca, ['DNS:prometheus.monitoring.svc']);
    const otherName = await pki.client('prometheus', pki.ca, ['DNS:grafana.monitoring.svc']);
    const auth = { ca: caPem(), user: 'prometheus', password: PASSWORD };
    expect((await get(`${daemon.url}/healthz`, { ...auth, client: named })).status).toBe(200);
    await expect(get(`${daemon.url}/healthz`, { ...auth, client: otherName })).rejects.toThrow();
    await expect(get(`${daemon.url}/healthz`, { ...auth, client: prometheusCert })).rejects.toThrow();
  });

  it('applies a change of the file without restart: new password, then no client certificate needed', async () => {
    const file = await writeWebConfig('reload.yml', tlsConfig('RequireAndVerifyClientCert'));
    const daemon = await daemonWith(file);
    const newPassword = 'rotated-Secret-8';
    await writeFile(file, `${[...tlsConfig('RequireAndVerifyClientCert').slice(0, -1), `  prometheus: ${await bcrypt.hash(newPassword, 8)}`].join('\n')}\n`);
    await vi.waitFor(async () => expect((await get(`${daemon.url}/healthz`, { ca: caPem(), client: prometheusCert, user: 'prometheus', password: newPassword })).status).toBe(200), { timeout: 5000, interval: 200 });
    expect((await get(`${daemon.url}/healthz`, { ca: caPem(), client: prometheusCert, user: 'prometheus', password: PASSWORD })).status).toBe(401);

    await writeFile(file, `${tlsConfig('NoClientCert').filter((line) => !line.includes('client_ca_file')).join('\n')}\n`);
    await vi.waitFor(async () => expect((await get(`${daemon.url}/healthz`, { ca: caPem(), user: 'prometheus', password: PASSWORD })).status).toBe(200), { timeout: 5000, interval: 200 });
    expect(daemon.logs.entries().filter((e) => e.msg === 'web config reloaded').length).toBeGreaterThanOrEqual(2);
  });

  it('keeps the last good config when the file turns bad, and logs why once', async () => {
    const file = await writeWebConfig('bad-later.yml', tlsConfig('RequireAndVerifyClientCert'));
    const daemon = await daemonWith(file);
    await writeFile(file, 'basic_auth_users:\n  prometheus: plain-text-password\n');
    await vi.waitFor(() => expect(daemon.logs.entries().some((e) => e.level === 50 && e.msg.includes('basic_auth_users.prometheus: not a bcrypt hash'))).toBe(true), { timeout: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const errors = daemon.logs.entries().filter((e) => e.level === 50 && e.msg.startsWith('--web.config.file'));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toBe(`--web.config.file ${file}: basic_auth_users.prometheus: not a bcrypt hash: make one with htpasswd -nBC 10 "" | tr -d ':\\n'; keeping the previous web config`);
    expect(daemon.logs.lines.join('\n')).not.toContain('plain-text-password');
    // Still HTTPS, still demanding the certificate and the password.
    await expect(get(`${daemon.url}/healthz`, { ca: caPem(), user: 'prometheus', password: PASSWORD })).rejects.toThrow();
    expect((await get(`${daemon.url}/healthz`, { ca: caPem(), client: prometheusCert })).status).toBe(401);
    expect((await get(`${daemon.url}/healthz`, { ca: caPem(), client: prometheusCert, user: 'prometheus', password: PASSWORD })).status).toBe(200);
  });

  it('does not start with a bad file, and says which file and field', async () => {
    const file = await writeWebConfig('bad.yml', ['tls_server_config:', `  cert_file: ${serverCert.cert}`, '  client_auth_type: RequireAndVerifyClientCert']);
    const config = parseConfig(['--postgres.url', 'postgres://m@127.0.0.1:1/coder', '--web.listen-address', '127.0.0.1:0', '--web.config.file', file], {});
    await expect(startDaemon(config, { logger: captureLogs().logger })).rejects.toThrow(`--web.config.file ${file}: tls_server_config: missing one of key or key_file`);
  });
});
