// TLS and mTLS to a real PostgreSQL (ssl=on, certificates made at test time): the monitor
// verifies what libpq would verify, says which file to fix when it cannot, and gets in
// through a `hostssl ... cert` rule with its client certificate.

import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MONITOR_APPLICATION_NAME, type PostgresSource, type PostgresPoll } from '../../src/sources/postgres.js';
import type { PostgresTlsSettings } from '../../src/sources/postgres-tls.js';
import { createTestPki, type CertificateFiles, type TestPki } from '../support/certificates.js';
import { testPostgresSource } from '../support/postgres-source.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { enableTls, installServerCertificate, setTls } from '../support/postgres-tls.js';
import { MONITOR_PASSWORD, createCoderCluster, monitorUrl } from '../support/scenario.js';

let server: TestPostgres;
let pki: TestPki;
let serverCertificate: CertificateFiles;
let certUser: CertificateFiles;

beforeAll(async () => {
  [server, pki] = await Promise.all([startPostgres({ maxConnections: 30 }), createTestPki()]);
  await createCoderCluster(server);
  const admin = await server.admin();
  try {
    await admin.query('CREATE ROLE certuser LOGIN');
    await admin.query('GRANT pg_monitor TO certuser');
  } finally {
    await admin.end();
  }
  serverCertificate = await pki.server({ ip: ['127.0.0.1'], dns: ['localhost'] });
  certUser = await pki.client('certuser');
  await enableTls(server, serverCertificate, pki.ca.cert, [
    'hostssl all certuser 127.0.0.1/32 cert',
    'hostnossl all certuser 127.0.0.1/32 reject',
  ]);
});

afterAll(async () => {
  await server?.destroy();
  await pki?.remove();
});

function source(tls: Partial<PostgresTlsSettings>, url = monitorUrl(server)) {
  return testPostgresSource(url, {
    backoff: { initialMs: 10, maxMs: 20 },
    tls: { mode: 'prefer', modeFrom: 'test', rootCert: null, cert: null, key: null, ...tls },
  });
}

/** Whether the monitor's own session is encrypted, as PostgreSQL sees it. */
async function monitorSessionEncrypted(): Promise<boolean | undefined> {
  const admin = await server.admin();
  try {
    const result = await admin.query<{ ssl: boolean }>(
      'SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1',
      [MONITOR_APPLICATION_NAME],
    );
    return result.rows[0]?.ssl;
  } finally {
    await admin.end();
  }
}

function failure(result: PostgresPoll): { error: string; code: string | null } {
  if (result.ok) throw new Error('expected the poll to fail');
  return result;
}

describe('TLS to PostgreSQL', () => {
  it('connects with verify-full when the CA signed the server certificate for its address', async () => {
    const { pgSource } = source({ mode: 'verify-full', rootCert: pki.ca.cert });
    try {
      expect((await pgSource.poll()).ok).toBe(true);
      expect(await monitorSessionEncrypted()).toBe(true);
    } finally {
      await pgSource.close();
    }
  });

  it('refuses a server its root certificate does not vouch for, naming the file and the fix', async () => {
    const { pgSource } = source({ mode: 'verify-full', rootCert: pki.otherCa.cert });
    const result = failure(await pgSource.poll());
    expect(result.error).toBe(
      `PostgreSQL at 127.0.0.1:${server.port} presented a certificate that --postgres.sslrootcert ${pki.otherCa.cert} does not vouch for (${result.code}): point --postgres.sslrootcert at the CA that signed the server's certificate (for RDS, AWS's global-bundle.pem)`,
    );
    expect(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN']).toContain(result.code);
    expect(result.error).not.toContain(MONITOR_PASSWORD);
  });

  it('encrypts without verifying for require and prefer, as libpq does', async () => {
    for (const mode of ['require', 'prefer'] as const) {
      const { pgSource } = source({ mode });
      try {
        expect((await pgSource.poll()).ok).toBe(true);
        expect(await monitorSessionEncrypted()).toBe(true);
      } finally {
        await pgSource.close();
      }
    }
  });

  it('verifies the CA for require when a root certificate is given, as libpq does', async () => {
    const { pgSource } = source({ mode: 'require', rootCert: pki.otherCa.cert });
    expect(failure(await pgSource.poll()).error).toMatch(/does not vouch for/);
  });

  it('tells verify-ca from verify-full by the host name, reading a reissued server certificate without restart', async () => {
    // The server now presents a certificate for another name, signed by the same CA.
    await installServerCertificate(server, await pki.server({ dns: ['db.example.internal'] }), pki.ca.cert);
    try {
      const full = source({ mode: 'verify-full', rootCert: pki.ca.cert });
      const result = failure(await full.pgSource.poll());
      expect(result.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      expect(result.error).toMatch(/^PostgreSQL at 127\.0\.0\.1:\d+ presented a certificate for another name \(.*\): connect with a host name the certificate lists, or use sslmode=verify-ca to check the CA only$/);

      const ca = source({ mode: 'verify-ca', rootCert: pki.ca.cert });
      try {
        expect((await ca.pgSource.poll()).ok).toBe(true);
      } finally {
        await ca.pgSource.close();
      }
    } finally {
      await installServerCertificate(server, serverCertificate, pki.ca.cert);
    }
  });
});

describe('mTLS: a hostssl ... cert rule in pg_hba.conf', () => {
  const certUserUrl = () => server.url('coder', 'certuser', '').replace(':@', '@');

  it('admits the client certificate, with no password at all', async () => {
    const { pgSource } = source({ mode: 'verify-full', rootCert: pki.ca.cert, cert: certUser.cert, key: certUser.key }, certUserUrl());
    try {
      const result = await pgSource.poll();
      expect(result.ok && result.facts.session.user).toBe('certuser');
      expect(await monitorSessionEncrypted()).toBe(true);
    } finally {
      await pgSource.close();
    }
  });

  it('is refused without a client certificate, and says to give one', async () => {
    const { pgSource } = source({ mode: 'verify-full', rootCert: pki.ca.cert }, certUserUrl());
    const result = failure(await pgSource.poll());
    expect(result.code).toBe('28000');
    expect(result.error).toMatch(/refused the connection \(28000 .*certificate.*\): pg_hba.conf asks for a client certificate here: give --postgres.sslcert and --postgres.sslkey$/);
  });

  it('is refused with a certificate from a CA the server does not trust, naming the certificate file', async () => {
    const stranger = await pki.client('certuser', pki.otherCa);
    const { pgSource } = source({ mode: 'verify-full', rootCert: pki.ca.cert, cert: stranger.cert, key: stranger.key }, certUserUrl());
    const result = failure(await pgSource.poll());
    expect(result.error).toContain(`refused the TLS handshake (${result.code}): check that --postgres.sslcert ${stranger.cert} is signed by a CA in the server's ssl_ca_file`);
  });

  it('reads the certificate files at each connect, so a renewed certificate applies without restart', async () => {
    // The mounted files first hold a certificate the server rejects, then a good one.
    const mounted = { cert: path.join(pki.dir, 'mounted.pem'), key: path.join(pki.dir, 'mounted.key') };
    const stranger = await pki.client('certuser', pki.otherCa);
    await copyFile(stranger.cert, mounted.cert);
    await copyFile(stranger.key, mounted.key);
    const { pgSource } = source({ mode: 'verify-full', rootCert: pki.ca.cert, ...mounted }, certUserUrl());
    try {
      expect((await pgSource.poll()).ok).toBe(false);
      await copyFile(certUser.cert, mounted.cert);
      await copyFile(certUser.key, mounted.key);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect((await pgSource.poll()).ok).toBe(true);
    } finally {
      await pgSource.close();
    }
  });

  it('is refused in plaintext by the hostnossl reject rule', async () => {
    const { pgSource } = source({ mode: 'disable' }, certUserUrl());
    expect(failure(await pgSource.poll()).code).toBe('28000');
  });
});

describe('a server without TLS', () => {
  it('is refused by require with the reason, and used in plaintext by prefer with one log line', async () => {
    await setTls(server, false);
    try {
      const required = source({ mode: 'require' });
      expect(failure(await required.pgSource.poll()).error).toBe(
        `PostgreSQL at 127.0.0.1:${server.port} does not offer TLS (ssl = off on the server), but sslmode=require (from test) requires it: turn ssl on in PostgreSQL, or lower sslmode`,
      );

      const preferred = source({ mode: 'prefer' });
      try {
        expect((await preferred.pgSource.poll()).ok).toBe(true);
        expect(await monitorSessionEncrypted()).toBe(false);
        const notes = preferred.logs.entries().filter((e) => /offers no TLS/.test(e.msg));
        expect(notes).toHaveLength(1);
      } finally {
        await preferred.pgSource.close();
      }
    } finally {
      await setTls(server, true);
    }
  });
});
