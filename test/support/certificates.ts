// A throwaway PKI made at test time with the openssl CLI: a CA, server and client
// certificates signed by it, and a second CA that signed nothing of ours (the "wrong CA").
// EC P-256 keys: fast to make, accepted by PostgreSQL and Node alike.

import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureDebianPackages } from './prometheus-stack.js';

const run = promisify(execFile);

export interface CertificateFiles {
  /** PEM certificate file. */
  cert: string;
  /** PEM key file (unencrypted). */
  key: string;
}

export interface TestPki {
  dir: string;
  /** The CA: its cert is what clients trust (sslrootcert, client_ca_file). */
  ca: CertificateFiles;
  /** Another CA, trusted by nobody: a wrong sslrootcert, or an issuer of unknown client certs. */
  otherCa: CertificateFiles;
  /** A server certificate signed by the CA for the given names (IP and DNS SANs). */
  server(names: { ip?: string[]; dns?: string[] }, file?: string): Promise<CertificateFiles>;
  /**
   * A client certificate with this common name (PostgreSQL's `cert` method maps it to the
   * user), signed by `issuer` (default: the CA), with optional SANs such as 'DNS:prometheus.monitoring.svc'.
   */
  client(commonName: string, issuer?: CertificateFiles, sans?: string[]): Promise<CertificateFiles>;
  remove(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 30_000 });
  } catch (error) {
    const err = error as Error & { stderr?: string };
    throw new Error(`openssl ${args[0]} failed: ${err.stderr || err.message}`);
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string, commonName: string): Promise<CertificateFiles> {
  const files = { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
  await openssl(
    ['req', '-x509', '-new', ...EC, '-keyout', files.key, '-out', files.cert, '-days', '2', '-subj', `/CN=${commonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  return files;
}

async function makeLeaf(dir: string, name: string, commonName: string, issuer: CertificateFiles, extensions: string[]): Promise<CertificateFiles> {
  const files = { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  await openssl(['req', '-new', ...EC, '-keyout', files.key, '-out', csr, '-subj', `/CN=${commonName}`], dir);
  await writeFile(ext, ['basicConstraints=CA:FALSE', ...extensions].join('\n') + '\n');
  // A random serial per certificate: -CAcreateserial shares one serial file per CA, which
  // certificates signed concurrently (Promise.all in tests) read half-written.
  const serial = `0x${randomBytes(16).toString('hex')}`;
  await openssl(['x509', '-req', '-in', csr, '-CA', issuer.cert, '-CAkey', issuer.key, '-set_serial', serial, '-out', files.cert, '-days', '2', '-extfile', ext], dir);
  return files;
}

export async function createTestPki(): Promise<TestPki> {
  ensureDebianPackages(['openssl']);
  const dir = await mkdtemp(path.join(tmpdir(), 'coder-pg-capacity-pki-'));
  try {
    const ca = await makeCa(dir, 'ca', 'coder-pg-capacity test CA');
    const otherCa = await makeCa(dir, 'other-ca', 'an unrelated CA');
    let serial = 0;
    return {
      dir,
      ca,
      otherCa,
      server(names, file = `server-${++serial}`) {
        const sans = [...(names.ip ?? []).map((ip) => `IP:${ip}`), ...(names.dns ?? []).map((dns) => `DNS:${dns}`)];
        return makeLeaf(dir, file, names.dns?.[0] ?? names.ip?.[0] ?? 'server', ca, [`subjectAltName=${sans.join(',')}`, 'extendedKeyUsage=serverAuth']);
      },
      client(commonName, issuer = ca, sans = []) {
        const extensions = ['extendedKeyUsage=clientAuth', ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : [])];
        return makeLeaf(dir, `client-${++serial}`, commonName, issuer, extensions);
      },
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
