// Turns TLS on in a running test PostgreSQL, with pg_hba.conf rules of the test's own,
// the way an operator would: certificate files in the data directory, ALTER SYSTEM, and a
// reload (ssl and pg_hba.conf are both re-read on SIGHUP, no restart needed).
//
// PostgreSQL insists that its key be owned by the server's OS user with mode 0600: when
// the tests run as root the server runs as "postgres" (see embedded-postgres.ts), so the
// files are given to the data directory's owner.

import { chmod, chown, copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CertificateFiles } from './certificates.js';
import type { TestPostgres } from './postgres.js';

async function giveToServer(server: TestPostgres, source: string, name: string, mode: number): Promise<void> {
  const target = path.join(server.dataDir, name);
  await copyFile(source, target);
  const owner = await stat(server.dataDir);
  await chown(target, owner.uid, owner.gid);
  await chmod(target, mode);
}

/** Installs the server certificate (and the CA that client certificates must chain to); reloads. */
export async function installServerCertificate(server: TestPostgres, certificate: CertificateFiles, clientCa: string): Promise<void> {
  await giveToServer(server, certificate.cert, 'server.crt', 0o644);
  await giveToServer(server, certificate.key, 'server.key', 0o600);
  await giveToServer(server, clientCa, 'root.crt', 0o644);
  await reload(server);
}

/** ssl=on with the files above, `rules` put first in pg_hba.conf (first match wins); waits until new sessions see it. */
export async function enableTls(server: TestPostgres, certificate: CertificateFiles, clientCa: string, rules: string[]): Promise<void> {
  const hba = path.join(server.dataDir, 'pg_hba.conf');
  const original = await readFile(hba, 'utf8');
  await writeFile(hba, `# test rules\n${rules.join('\n')}\n\n${original}`);
  const admin = await server.admin();
  try {
    await admin.query("ALTER SYSTEM SET ssl_cert_file = 'server.crt'");
    await admin.query("ALTER SYSTEM SET ssl_key_file = 'server.key'");
    await admin.query("ALTER SYSTEM SET ssl_ca_file = 'root.crt'");
    await admin.query('ALTER SYSTEM SET ssl = on');
  } finally {
    await admin.end();
  }
  await installServerCertificate(server, certificate, clientCa);
  await waitForSetting(server, 'ssl', 'on');
}

/** ssl=off (or on again), as a server without TLS would be. */
export async function setTls(server: TestPostgres, on: boolean): Promise<void> {
  const admin = await server.admin();
  try {
    await admin.query(`ALTER SYSTEM SET ssl = ${on ? 'on' : 'off'}`);
  } finally {
    await admin.end();
  }
  await reload(server);
  await waitForSetting(server, 'ssl', on ? 'on' : 'off');
}

async function reload(server: TestPostgres): Promise<void> {
  const admin = await server.admin();
  try {
    const result = await admin.query<{ ok: boolean }>('SELECT pg_reload_conf() AS ok');
    if (!result.rows[0]?.ok) throw new Error('pg_reload_conf() failed');
  } finally {
    await admin.end();
  }
  // The postmaster applies SIGHUP asynchronously; a moment later new sessions see it.
  await new Promise((resolve) => setTimeout(resolve, 300));
}

async function waitForSetting(server: TestPostgres, name: string, expected: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen = '';
  while (Date.now() < deadline) {
    const admin = await server.admin();
    try {
      seen = (await admin.query<{ setting: string }>('SELECT setting FROM pg_settings WHERE name = $1', [name])).rows[0]?.setting ?? '';
    } finally {
      await admin.end();
    }
    if (seen === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`PostgreSQL did not apply ${name}=${expected} after a reload (still ${seen}); its log:\n${server.recentLog().join('\n')}`);
}
