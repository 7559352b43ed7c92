// --web.config.file: the web configuration format of Prometheus' exporter-toolkit
// (tls_server_config, http_server_config, basic_auth_users, rate_limit), so the file an
// operator already has for postgres_exporter or node_exporter works here unchanged.
// Parsed strictly, as the toolkit does (an unknown field is an error, not a silent no-op),
// relative paths resolved against the file's directory, every problem named by file and
// field. Certificate files are read here, so a loaded config is complete and valid.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const clientAuthTypes = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof clientAuthTypes)[number];

const tlsVersions = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type NodeTlsVersion = (typeof tlsVersions)[keyof typeof tlsVersions];

/** Go's cipher suite names (crypto/tls.CipherSuites()) -> OpenSSL's, which Node takes. */
const goCipherSuites: Record<string, string | null> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  // Go accepts the TLS 1.3 suites in the list but never lets them be configured: same here.
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
};
/** Node disables TLS 1.3 when its cipher list names no 1.3 suite: keep them all, as Go does. */
const TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

const goCurves: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };

/** The toolkit's allowed extra headers, and the values it allows where it restricts them. */
const allowedHeaders: Record<string, string[] | null> = {
  'Strict-Transport-Security': null,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': null,
  'Content-Security-Policy': null,
};

const BCRYPT_HASH = /^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$/;

const stringList = z.array(z.string());
const schema = z
  .object({
    tls_server_config: z
      .object({
        cert: z.string().optional(),
        key: z.string().optional(),
        client_ca: z.string().optional(),
        cert_file: z.string().optional(),
        key_file: z.string().optional(),
        client_auth_type: z.enum(['', 'RequireClientCert', ...clientAuthTypes], { message: `expected one of ${clientAuthTypes.join(', ')}` }).optional(),
        client_ca_file: z.string().optional(),
        client_allowed_sans: stringList.nullable().optional(),
        min_version: z.enum(Object.keys(tlsVersions) as [keyof typeof tlsVersions], { message: 'expected TLS10, TLS11, TLS12 or TLS13' }).optional(),
        max_version: z.enum(Object.keys(tlsVersions) as [keyof typeof tlsVersions], { message: 'expected TLS10, TLS11, TLS12 or TLS13' }).optional(),
        cipher_suites: z.array(z.string().refine((name) => name in goCipherSuites, { message: 'unknown cipher suite (use the names of Go\'s crypto/tls)' })).nullable().optional(),
        prefer_server_cipher_suites: z.boolean().optional(),
        curve_preferences: z.array(z.string().refine((name) => name in goCurves, { message: 'unknown curve: expected CurveP256, CurveP384, CurveP521 or X25519' })).nullable().optional(),
      })
      .strict()
      .nullable()
      .optional(),
    http_server_config: z
      .object({
        http2: z.boolean().optional(),
        headers: z.record(z.string(), z.string()).nullable().optional(),
      })
      .strict()
      .nullable()
      .optional(),
    basic_auth_users: z
      .record(z.string(), z.string().regex(BCRYPT_HASH, { message: 'not a bcrypt hash: make one with htpasswd -nBC 10 "" | tr -d \':\\n\'' }))
      .nullable()
      .optional(),
    rate_limit: z
      .object({ interval: z.string().optional(), burst: z.number().int().min(0).optional() })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();

export interface WebTlsConfig {
  /** PEM text, read from cert_file/key_file or given inline. */
  cert: string;
  key: string;
  clientCa: string | null;
  clientAuth: ClientAuthType;
  minVersion: NodeTlsVersion;
  maxVersion: NodeTlsVersion;
  /** OpenSSL cipher list, or null for Node's defaults. */
  ciphers: string | null;
  ecdhCurve: string | null;
  honorCipherOrder: boolean;
  /** A client certificate must carry one of these SANs (DNS, IP, e-mail or URI). */
  clientAllowedSans: string[] | null;
}

export interface WebConfig {
  file: string;
  /** null: plain HTTP. */
  tls: WebTlsConfig | null;
  /** user name -> bcrypt hash; empty: no authentication. */
  basicAuthUsers: Map<string, string>;
  headers: Record<string, string>;
  /** A token bucket: one request per intervalMs, bursts up to `burst`. */
  rateLimit: { intervalMs: number; burst: number } | null;
  /** The config file and every file it names: a change to any of them reloads. */
  files: string[];
}

/** A web config that cannot be used: the message names the file and the field. */
export class WebConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebConfigError';
  }
}

/** Go's time.ParseDuration for the units a rate limit needs. */
function parseGoDuration(text: string): number | null {
  if (text === '0') return 0;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text;
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!match) return null;
    total += Number(match[1]) * (units[match[2] as string] as number);
    rest = rest.slice(match[0].length);
  }
  return text.length > 0 ? total : null;
}

/** Reads, validates and completes the web config; throws WebConfigError naming file and field. */
export async function loadWebConfig(file: string): Promise<WebConfig> {
  const fail = (field: string | null, message: string): never => {
    throw new WebConfigError(`--web.config.file ${file}${field ? `: ${field}` : ''}: ${message}`);
  };
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    fail(null, `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let document: unknown;
  try {
    document = parseYaml(text) ?? {};
  } catch (error) {
    fail(null, `not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  const parsed = schema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const field = issue.path.join('.');
    const message = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((key) => (field ? `${field}.${key}` : key)).join(', ')}` : issue.message;
    fail(issue.code === 'unrecognized_keys' ? null : field || null, message);
  }
  const config = parsed.data as z.infer<typeof schema>;
  const directory = path.dirname(path.resolve(file));
  const files = [path.resolve(file)];
  const readNamed = async (field: string, named: string): Promise<string> => {
    const resolved = path.resolve(directory, named);
    files.push(resolved);
    try {
      return await readFile(resolved, 'utf8');
    } catch (error) {
      return fail(`tls_server_config.${field}`, `cannot read ${resolved} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };

  let tls: WebTlsConfig | null = null;
  const t = config.tls_server_config;
  const tlsEnabled = t && (t.cert_file || t.cert || t.key_file || t.key || t.client_ca_file || t.client_ca || t.client_auth_type);
  if (t && tlsEnabled) {
    if (!t.cert_file && !t.cert) fail('tls_server_config', 'missing one of cert or cert_file');
    if (!t.key_file && !t.key) fail('tls_server_config', 'missing one of key or key_file');
    // As in the toolkit, a file wins over inline text.
    const cert = t.cert_file ? await readNamed('cert_file', t.cert_file) : (t.cert as string);
    const key = t.key_file ? await readNamed('key_file', t.key_file) : (t.key as string);
    const clientCa = t.client_ca_file ? await readNamed('client_ca_file', t.client_ca_file) : (t.client_ca ?? null);
    const clientAuth: ClientAuthType = !t.client_auth_type ? 'NoClientCert' : t.client_auth_type === 'RequireClientCert' ? 'RequireAnyClientCert' : t.client_auth_type;
    if (clientCa !== null && clientAuth === 'NoClientCert') fail('tls_server_config.client_auth_type', "a client CA is configured without a client auth policy: set client_auth_type (RequireAndVerifyClientCert to require verified client certificates)");
    if (t.client_allowed_sans && clientAuth !== 'RequireAnyClientCert' && clientAuth !== 'RequireAndVerifyClientCert') {
      fail('tls_server_config.client_allowed_sans', 'requires client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert');
    }
    const ciphers = t.cipher_suites?.map((name) => goCipherSuites[name]).filter((name): name is string => typeof name === 'string') ?? [];
    tls = {
      cert,
      key,
      clientCa,
      clientAuth,
      minVersion: tlsVersions[t.min_version ?? 'TLS12'],
      maxVersion: tlsVersions[t.max_version ?? 'TLS13'],
      ciphers: ciphers.length > 0 ? `${TLS13_SUITES}:${ciphers.join(':')}` : null,
      ecdhCurve: t.curve_preferences?.length ? t.curve_preferences.map((name) => goCurves[name]).join(':') : null,
      honorCipherOrder: t.prefer_server_cipher_suites ?? true,
      clientAllowedSans: t.client_allowed_sans ?? null,
    };
    try {
      createSecureContext({ cert: tls.cert, key: tls.key, ca: tls.clientCa ?? undefined, minVersion: tls.minVersion, maxVersion: tls.maxVersion, ciphers: tls.ciphers ?? undefined, ecdhCurve: tls.ecdhCurve ?? undefined });
    } catch (error) {
      fail('tls_server_config', `the certificate, key or client CA is not usable (${(error as Error).message}): check that key_file holds the key of cert_file, both PEM`);
    }
  } else if (t?.client_allowed_sans) {
    fail('tls_server_config.client_allowed_sans', 'requires TLS with client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert');
  }

  const headers = config.http_server_config?.headers ?? {};
  for (const [name, value] of Object.entries(headers)) {
    const allowed = allowedHeaders[name];
    if (allowed === undefined) fail(`http_server_config.headers.${name}`, `this header can not be configured (allowed: ${Object.keys(allowedHeaders).join(', ')})`);
    if (allowed && !allowed.includes(value)) fail(`http_server_config.headers.${name}`, `expected one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
  }

  let rateLimit: WebConfig['rateLimit'] = null;
  if (config.rate_limit?.interval !== undefined) {
    const intervalMs = parseGoDuration(config.rate_limit.interval);
    if (intervalMs === null) fail('rate_limit.interval', `not a duration: ${JSON.stringify(config.rate_limit.interval)} (e.g. 1s, 100ms)`);
    if (intervalMs) rateLimit = { intervalMs, burst: config.rate_limit.burst ?? 0 };
  }

  return { file, tls, basicAuthUsers: new Map(Object.entries(config.basic_auth_users ?? {})), headers, rateLimit, files };
}
