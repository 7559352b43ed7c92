// --pgbouncer.url as the operator writes it, parsed once: a comma list of PgBouncer
// admin-console URLs (postgres://user:password@host:6432/pgbouncer), each with libpq's TLS
// parameters as for --postgres.url, or dns+postgres://service:6432/pgbouncer, "every address
// the name has" (a PgBouncer Deployment behind a headless Service), resolved each poll.
// Messages never repeat a URL: it may hold a password.

import { forPgbouncer } from '../sources/pgbouncer-admin.js';
import { resolvePostgresTls, type PostgresTlsSettings } from '../sources/postgres-tls.js';
import { postgresUrlProblems } from './postgres-url.js';

/** PgBouncer's default listen_port. */
export const PGBOUNCER_DEFAULT_PORT = 6432;

export type PgbouncerTarget =
  | { kind: 'static'; url: string; tls: PostgresTlsSettings }
  | {
      kind: 'dns';
      /** The URL without dns+; each address found replaces its host. */
      url: string;
      hostname: string;
      port: number;
      tls: PostgresTlsSettings;
      /** host:port as written, for messages (no credentials). */
      text: string;
    };

/** Parses the comma list; every problem is reported, none thrown, none quoting a URL. */
export function parsePgbouncerUrls(text: string): { targets: PgbouncerTarget[]; problems: string[] } {
  const targets: PgbouncerTarget[] = [];
  const problems: string[] = [];
  const items = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  items.forEach((item, index) => {
    const which = items.length > 1 ? `URL ${index + 1} of ${items.length}` : 'the URL';
    const dns = item.startsWith('dns+');
    const bare = dns ? item.slice(4) : item;
    const urlProblems = postgresUrlProblems(bare);
    if (urlProblems.length > 0) {
      problems.push(...urlProblems.map((problem) => `${which}: ${problem.replaceAll('postgres://user:password@host:5432/database', 'postgres://user:password@host:6432/pgbouncer')}`));
      return;
    }
    const url = new URL(bare);
    if (url.hostname === '') {
      problems.push(`${which} names no host; expected postgres://user:password@host:6432/pgbouncer or dns+postgres://service:6432/pgbouncer`);
      return;
    }
    if (url.pathname !== '/pgbouncer') {
      problems.push(`${which} must end in /pgbouncer: PgBouncer's admin console is the database "pgbouncer"`);
      return;
    }
    const tlsProblems: string[] = [];
    const tls = resolvePostgresTls({ url: bare, given: {} }, tlsProblems);
    if (tlsProblems.length > 0) {
      problems.push(...tlsProblems.map((problem) => `${which}: ${forPgbouncer(problem)}`));
      return;
    }
    if (!dns) {
      targets.push({ kind: 'static', url: bare, tls });
      return;
    }
    const port = url.port ? Number(url.port) : PGBOUNCER_DEFAULT_PORT;
    targets.push({ kind: 'dns', url: bare, hostname: url.hostname, port, tls, text: `${url.hostname}:${port}` });
  });
  return { targets, problems };
}

/** The URL of one discovered address: the name's URL with the address as its host. */
export function instanceUrl(target: Extract<PgbouncerTarget, { kind: 'dns' }>, address: string): string {
  const url = new URL(target.url);
  url.hostname = address.includes(':') ? `[${address}]` : address;
  url.port = String(target.port);
  return url.toString();
}
