// AWS IAM authentication (--postgres.auth=awsiamrds), offline: no AWS is reachable here.
//
// What is real: the tokens come from @aws-sdk/rds-signer with static test credentials (SigV4
// presigning is local), and a real PostgreSQL over TLS checks each one as the password.
// What stands in for RDS: before handing a token over, the test's provider makes it the
// role's password (ALTER ROLE), so PostgreSQL accepts exactly the token of this connect and
// no other. That proves the monitor asks for a new token at every connect, for the right
// host, port and user, and sends it as the password, encrypted.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MONITOR_APPLICATION_NAME, type PostgresSource } from '../../src/sources/postgres.js';
import { rdsIamTokenProvider, type AuthTokenProvider, type DatabaseEndpoint } from '../../src/sources/postgres-iam.js';
import { createTestPki, type TestPki } from '../support/certificates.js';
import { testPostgresSource } from '../support/postgres-source.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { enableTls } from '../support/postgres-tls.js';

// AWS's documentation example keys: well-formed, valid nowhere.
const testCredentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

let server: TestPostgres;
let pki: TestPki;

beforeAll(async () => {
  [server, pki] = await Promise.all([startPostgres({ maxConnections: 30 }), createTestPki()]);
  const admin = await server.admin();
  try {
    await admin.query(`CREATE ROLE iamuser LOGIN PASSWORD 'not-the-token'`);
    await admin.query('GRANT pg_monitor TO iamuser');
  } finally {
    await admin.end();
  }
  // As on RDS: the IAM user may only come in over TLS.
  await enableTls(server, await pki.server({ ip: ['127.0.0.1'] }), pki.ca.cert, [
    'hostssl all iamuser 127.0.0.1/32 scram-sha-256',
    'hostnossl all iamuser 127.0.0.1/32 reject',
  ]);
});

afterAll(async () => {
  await server?.destroy();
  await pki?.remove();
});

/** A real signer whose token PostgreSQL is then told to accept (our stand-in for RDS). */
function signerBackedByPostgres(options: { acceptToken?: boolean } = {}) {
  const sign = rdsIamTokenProvider({ region: 'eu-west-1', credentials: testCredentials });
  const calls: { endpoint: DatabaseEndpoint; token: string }[] = [];
  const provider: AuthTokenProvider = async (endpoint) => {
    const token = await sign(endpoint);
    calls.push({ endpoint, token });
    if (options.acceptToken !== false) {
      const admin = await server.admin();
      try {
        await admin.query(`ALTER ROLE iamuser PASSWORD '${token.replace(/'/g, "''")}'`);
      } finally {
        await admin.end();
      }
    }
    return token;
  };
  return { provider, calls };
}

function iamSource(provider: AuthTokenProvider) {
  const url = `postgres://iamuser@127.0.0.1:${server.port}/postgres?sslmode=verify-full&sslrootcert=${encodeURIComponent(pki.ca.cert)}`;
  return testPostgresSource(url, { backoff: { initialMs: 10, maxMs: 20 }, auth: 'awsiamrds', authTokenProvider: provider });
}

async function terminateMonitor(): Promise<void> {
  const admin = await server.admin();
  try {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [MONITOR_APPLICATION_NAME]);
  } finally {
    await admin.end();
  }
}

async function pollUntilOk(pgSource: PostgresSource): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    if ((await pgSource.poll()).ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the monitor did not reconnect');
}

describe('AWS IAM authentication to PostgreSQL', () => {
  it('signs a token for the host, port and user of the URL and sends it as the password, over TLS', async () => {
    const { provider, calls } = signerBackedByPostgres();
    const { pgSource } = iamSource(provider);
    try {
      const result = await pgSource.poll();
      expect(result.ok && result.facts.session.user).toBe('iamuser');
      expect(calls.map((c) => c.endpoint)).toEqual([{ host: '127.0.0.1', port: server.port, user: 'iamuser' }]);
      // What RDS expects: a presigned rds-db connect URL without its scheme, valid 900 s.
      const token = new URL(`https://${calls[0]?.token}`);
      expect(`${token.hostname}:${token.port}${token.pathname}`).toBe(`127.0.0.1:${server.port}/`);
      expect(Object.fromEntries(token.searchParams)).toMatchObject({
        Action: 'connect',
        DBUser: 'iamuser',
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': expect.stringMatching(/^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/rds-db\/aws4_request$/),
        'X-Amz-Expires': '900',
        'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    } finally {
      await pgSource.close();
    }
  });

  it('asks for no token while its one connection lives', async () => {
    const { provider, calls } = signerBackedByPostgres();
    const { pgSource } = iamSource(provider);
    try {
      for (let i = 0; i < 5; i++) expect((await pgSource.poll()).ok).toBe(true);
      expect(calls).toHaveLength(1);
    } finally {
      await pgSource.close();
    }
  });

  it('asks for a fresh token at every reconnect, and the previous token no longer gets in', async () => {
    const { provider, calls } = signerBackedByPostgres();
    const { pgSource } = iamSource(provider);
    try {
      await pollUntilOk(pgSource);
      for (let reconnect = 1; reconnect <= 2; reconnect++) {
        // X-Amz-Date has one-second resolution: a second later the signature differs.
        await new Promise((resolve) => setTimeout(resolve, 1100));
        await terminateMonitor();
        await pollUntilOk(pgSource);
        expect(calls).toHaveLength(reconnect + 1);
      }
      const tokens = calls.map((c) => c.token);
      expect(new Set(tokens).size).toBe(3);
      // PostgreSQL now accepts only the last token: each connect really used its own.
      const { pgSource: stale } = iamSource(async () => tokens[0] as string);
      expect((await stale.poll()).ok).toBe(false);
    } finally {
      await pgSource.close();
    }
  });

  it('says what to check when PostgreSQL refuses the token, and never shows the token', async () => {
    const admin = await server.admin();
    await admin.query(`ALTER ROLE iamuser PASSWORD 'not-the-token'`);
    await admin.end();
    const { provider, calls } = signerBackedByPostgres({ acceptToken: false });
    const { pgSource, logs } = iamSource(provider);
    const result = await pgSource.poll();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('28P01');
    expect(result.error).toMatch(
      /^PostgreSQL at 127\.0\.0\.1:\d+ refused the IAM token for user iamuser \(28P01 .*\): GRANT rds_iam TO the user, allow rds-db:connect for it in the monitor's IAM policy, and check AWS_REGION is the database's region$/,
    );
    expect(result.error).not.toContain(calls[0]?.token.slice(-20));
    expect(logs.lines.join('\n')).not.toContain('X-Amz-Signature');
  });

  it('says to set AWS_REGION and credentials when no token can be signed', async () => {
    const { pgSource } = iamSource(async () => {
      throw new Error('Region is missing');
    });
    const result = await pgSource.poll();
    expect(result).toEqual({
      ok: false,
      code: 'iam_token',
      error: `cannot sign an RDS IAM token for iamuser@127.0.0.1:${server.port} (Region is missing): set AWS_REGION to the database's region and give the monitor AWS credentials (IRSA, instance role or AWS_* variables)`,
    });
  });
});
