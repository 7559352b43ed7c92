// TLS to PostgreSQL with libpq's sslmode semantics, so a URL that works for psql and for
// Coder (lib/pq) means the same here. node-postgres also reads ssl* parameters out of a
// connection URL, with rules of its own (and a URL parameter overrides an explicit `ssl`
// option there); to keep one meaning, the monitor resolves the settings here, strips them
// from the URL, and hands pg a single `ssl` option built at each connect.
//
// Precedence for each setting: flag, then the URL's query parameter, then the environment
// variable (PGSSLMODE, ...), then the default: libpq's order, with flags on top as
// everywhere in this program.

import { readFile } from 'node:fs/promises';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';

export const sslModes = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof sslModes)[number];

/** sslrootcert=system: trust the public CAs Node ships (plus NODE_EXTRA_CA_CERTS), as libpq 16+. */
export const SYSTEM_ROOT_CERT = 'system';

export interface PostgresTlsSettings {
  mode: SslMode;
  /** Where each setting came from, for messages: '--postgres.sslmode', 'sslmode in the URL', 'PGSSLMODE', 'default'. */
  modeFrom: string;
  /** CA file to verify the server with, or 'system'. */
  rootCert: string | null;
  /** Client certificate and key (mTLS, `hostssl ... cert` in pg_hba.conf). */
  cert: string | null;
  key: string | null;
}

/** libpq's default: TLS when the server offers it, plaintext when it does not. */
export const DEFAULT_POSTGRES_TLS: PostgresTlsSettings = { mode: 'prefer', modeFrom: 'default', rootCert: null, cert: null, key: null };

type TlsField = 'mode' | 'rootCert' | 'cert' | 'key';

/** libpq's URL parameter and this program's flag for each setting. */
const PARAMETERS: Record<TlsField, { url: string; flag: string }> = {
  mode: { url: 'sslmode', flag: '--postgres.sslmode' },
  rootCert: { url: 'sslrootcert', flag: '--postgres.sslrootcert' },
  cert: { url: 'sslcert', flag: '--postgres.sslcert' },
  key: { url: 'sslkey', flag: '--postgres.sslkey' },
};

/** node-postgres-only (or unsupported) URL parameters that would silently change TLS: refused with the fix. */
const REFUSED_URL_PARAMETERS: Record<string, string> = {
  ssl: "use libpq's sslmode=require (or verify-full) instead of node-postgres' ssl=",
  sslnegotiation: 'remove it: the monitor uses the standard SSLRequest negotiation',
  uselibpqcompat: 'remove it: the monitor always follows libpq',
  sslpassword: 'store the client key unencrypted in its Secret (openssl pkey -in key.pem -out key.plain.pem)',
};

/** A setting as config found it: `from` is a flag (--...) or an environment variable name. */
export interface TlsSettingInput {
  value: string;
  from: string;
}

export interface TlsResolutionInput {
  url: string | null;
  /** Flags and environment variables, as config read them (flags begin with --). */
  given: Partial<Record<TlsField, TlsSettingInput>>;
  /** IAM tokens are bearer secrets: TLS is required with them (RDS insists too). */
  requireEncryption?: { because: string };
}

/** The URL's TLS parameters, by setting. */
function urlParameters(url: string | null): Partial<Record<TlsField, string>> & { refused: string[] } {
  const found: Partial<Record<TlsField, string>> & { refused: string[] } = { refused: [] };
  if (url === null) return found;
  let params: URLSearchParams;
  try {
    params = new URL(url).searchParams;
  } catch {
    return found;
  }
  for (const field of Object.keys(PARAMETERS) as TlsField[]) {
    const value = params.get(PARAMETERS[field].url);
    if (value !== null && value !== '') found[field] = value;
  }
  for (const name of Object.keys(REFUSED_URL_PARAMETERS)) if (params.has(name)) found.refused.push(name);
  return found;
}

/** Resolves the four settings; problems are pushed, named by where the value came from. */
export function resolvePostgresTls(input: TlsResolutionInput, problems: string[]): PostgresTlsSettings {
  const fromUrl = urlParameters(input.url);
  for (const name of fromUrl.refused) problems.push(`--postgres.url: the parameter ${name}= is not supported: ${REFUSED_URL_PARAMETERS[name]}`);

  const pick = (field: TlsField): { value: string; from: string } | null => {
    const given = input.given[field];
    if (given?.from.startsWith('--')) return given;
    const inUrl = fromUrl[field];
    if (inUrl !== undefined) return { value: inUrl, from: `${PARAMETERS[field].url} in --postgres.url` };
    return given ?? null;
  };

  const modeInput = pick('mode');
  let mode: SslMode = DEFAULT_POSTGRES_TLS.mode;
  let modeFrom = 'default';
  if (modeInput) {
    if ((sslModes as readonly string[]).includes(modeInput.value)) {
      mode = modeInput.value as SslMode;
      modeFrom = modeInput.from;
    } else {
      problems.push(`${modeInput.from}=${JSON.stringify(modeInput.value)}: expected one of ${sslModes.join(', ')} (libpq's sslmode)`);
    }
  }
  const rootCert = pick('rootCert');
  const cert = pick('cert');
  const key = pick('key');

  if (input.requireEncryption) {
    if (mode === 'disable') {
      problems.push(`sslmode=disable (from ${modeFrom}) cannot be used with ${input.requireEncryption.because}: use sslmode=require, or verify-full with --postgres.sslrootcert`);
    } else if (mode === 'allow' || mode === 'prefer') {
      // Never send a token in plaintext: a server without TLS is refused, not tried.
      mode = 'require';
      modeFrom = `${input.requireEncryption.because} (at least require)`;
    }
  }

  if ((mode === 'verify-ca' || mode === 'verify-full') && rootCert === null) {
    problems.push(
      `sslmode=${mode} (from ${modeFrom}) needs --postgres.sslrootcert: the CA file that signed the server's certificate (for RDS, AWS's global-bundle.pem), or "system" for the public CAs`,
    );
  }
  if (rootCert?.value === SYSTEM_ROOT_CERT && mode !== 'verify-full' && mode !== 'disable') {
    // libpq's rule: a public CA vouches for anyone's server, so only a host name check makes it safe.
    problems.push(`sslrootcert=system (from ${rootCert.from}) needs sslmode=verify-full, as in libpq: a public CA vouches for anyone's server name, not yours`);
  }
  if ((cert === null) !== (key === null)) {
    const [present, missing] = cert ? [cert.from, '--postgres.sslkey'] : [key?.from ?? '', '--postgres.sslcert'];
    problems.push(`${present} is set but ${missing} is not: a client certificate needs both the certificate and its key`);
  }
  if (cert !== null && mode === 'disable') {
    problems.push(`${cert.from} is set but sslmode=disable (from ${modeFrom}) sends no certificate: use sslmode=verify-full (or require)`);
  }

  return { mode, modeFrom, rootCert: rootCert?.value ?? null, cert: cert?.value ?? null, key: key?.value ?? null };
}

/** The URL without its TLS parameters: pg must not apply its own reading of them. */
export function withoutTlsParameters(url: string): string {
  const parsed = new URL(url);
  const names = [...Object.values(PARAMETERS).map((p) => p.url), ...Object.keys(REFUSED_URL_PARAMETERS)];
  if (!names.some((name) => parsed.searchParams.has(name))) return url;
  for (const name of names) parsed.searchParams.delete(name);
  return parsed.toString();
}

/** A file that could not be read: names the file and the setting that points at it. */
export class TlsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsFileError';
  }
}

async function readTlsFile(path: string, setting: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new TlsFileError(`cannot read ${setting} ${path} (${code}): check the path and the Secret's mount`);
  }
}

/**
 * pg's `ssl` option for one connect, files read now so that rotated certificates apply at
 * the next reconnect. false = no TLS.
 *
 * require verifies nothing, unless a root certificate is given: then, as libpq does, it
 * verifies the chain like verify-ca. allow and prefer never verify (they accept plaintext
 * anyway). verify-ca checks the chain, not the name; verify-full checks both.
 */
export async function buildSslOptions(settings: PostgresTlsSettings): Promise<false | ConnectionOptions> {
  if (settings.mode === 'disable') return false;
  const options: ConnectionOptions = {};
  if (settings.cert && settings.key) {
    options.cert = await readTlsFile(settings.cert, '--postgres.sslcert');
    options.key = await readTlsFile(settings.key, '--postgres.sslkey');
  }
  const verifies = settings.mode === 'verify-ca' || settings.mode === 'verify-full' || (settings.mode === 'require' && settings.rootCert !== null);
  if (!verifies) return { ...options, rejectUnauthorized: false };
  if (settings.rootCert && settings.rootCert !== SYSTEM_ROOT_CERT) options.ca = await readTlsFile(settings.rootCert, '--postgres.sslrootcert');
  options.rejectUnauthorized = true;
  options.checkServerIdentity = settings.mode === 'verify-full' ? checkServerIdentity : () => undefined;
  return options;
}

/** pg's words when the server answers the SSLRequest with "N". */
export function isTlsUnsupportedError(error: unknown): boolean {
  return (error as Error | undefined)?.message === 'The server does not support SSL connections';
}

/** allow and prefer fall back to plaintext when (and only when) the server offers no TLS. */
export function fallsBackToPlaintext(settings: PostgresTlsSettings, error: unknown): boolean {
  return (settings.mode === 'allow' || settings.mode === 'prefer') && isTlsUnsupportedError(error);
}

const UNTRUSTED_CHAIN = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/** A message naming the setting and the fix for a TLS failure; null when the error is not about TLS. */
export function describeTlsFailure(error: unknown, settings: PostgresTlsSettings, at: string): string | null {
  const err = error as Error & { code?: string };
  const code = err?.code ?? '';
  const message = err?.message ?? String(error);
  const ca = settings.rootCert === SYSTEM_ROOT_CERT || settings.rootCert === null ? "Node's public CAs (sslrootcert=system)" : `--postgres.sslrootcert ${settings.rootCert}`;
  if (isTlsUnsupportedError(error)) {
    return `${at} does not offer TLS (ssl = off on the server), but sslmode=${settings.mode} (from ${settings.modeFrom}) requires it: turn ssl on in PostgreSQL, or lower sslmode`;
  }
  if (UNTRUSTED_CHAIN.has(code)) {
    return `${at} presented a certificate that ${ca} does not vouch for (${code}): point --postgres.sslrootcert at the CA that signed the server's certificate (for RDS, AWS's global-bundle.pem)`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `${at} presented a certificate for another name (${message}): connect with a host name the certificate lists, or use sslmode=verify-ca to check the CA only`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `${at} presented a certificate outside its validity period (${code}): renew the server's certificate, and check this machine's clock`;
  }
  if (/^ERR_SSL_(TLSV1|TLSV13|SSLV3)_ALERT/.test(code)) {
    const hint = settings.cert
      ? `check that --postgres.sslcert ${settings.cert} is signed by a CA in the server's ssl_ca_file and has not expired`
      : 'the server may require a client certificate: give --postgres.sslcert and --postgres.sslkey';
    return `${at} refused the TLS handshake (${code}): ${hint}`;
  }
  if (code === '28000' && /certificate/i.test(message)) {
    const hint = settings.cert
      ? `the certificate's common name must be the user name (or be mapped in pg_ident.conf); check --postgres.sslcert ${settings.cert}`
      : 'pg_hba.conf asks for a client certificate here: give --postgres.sslcert and --postgres.sslkey';
    return `${at} refused the connection (28000 ${message}): ${hint}`;
  }
  return null;
}
