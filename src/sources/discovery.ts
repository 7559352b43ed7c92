// Discovery: turns target specs into the concrete replica URLs of this poll. A dns+ spec
// is resolved every poll (A and AAAA), so a replica that joins or leaves a headless
// Service shows up or goes away, and its budget follows.

import { promises as dnsPromises } from 'node:dns';
import type { TargetSpec } from './targets.js';

/** The two lookups discovery needs; node:dns by default, a test resolver in tests. */
export interface AddressResolver {
  resolve4(hostname: string): Promise<string[]>;
  resolve6(hostname: string): Promise<string[]>;
}

export interface DiscoveryResult {
  /** Concrete scrape URLs, sorted, without duplicates. */
  targets: string[];
  /** Names that did not resolve: data to log and count, never a failed poll. */
  failures: { spec: string; message: string }[];
}

/** Errors that mean "the name has no such records", not "DNS is broken". */
const noRecords = new Set(['ENODATA', 'ENOTFOUND', 'ENONAME']);

async function lookup(resolve: (hostname: string) => Promise<string[]>, hostname: string): Promise<string[]> {
  try {
    return await resolve(hostname);
  } catch (error) {
    if (noRecords.has((error as NodeJS.ErrnoException).code ?? '')) return [];
    throw error;
  }
}

/** Every A and AAAA address of a name (the PgBouncer source resolves its dns+ URLs with it); [] when it has none. */
export async function resolveAddresses(hostname: string, resolver: AddressResolver = dnsPromises): Promise<string[]> {
  const [v4, v6] = await Promise.all([lookup((h) => resolver.resolve4(h), hostname), lookup((h) => resolver.resolve6(h), hostname)]);
  return [...v4, ...v6];
}

function noRecordsMessage(hostname: string): string {
  const hint = 'check the headless Service selects the coderd pods';
  // Node's resolver ignores resolv.conf search domains: a short Service name never resolves.
  if (!hostname.includes('.')) return `${hostname} has no A or AAAA records: ${hint}, and give the fully qualified name (coder-metrics.<namespace>.svc.cluster.local): search domains do not apply`;
  return `${hostname} has no A or AAAA records: ${hint}`;
}

function addressUrl(spec: Extract<TargetSpec, { kind: 'dns' }>, address: string): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${spec.protocol}//${host}:${spec.port}${spec.path}`;
}

export async function discoverTargets(specs: TargetSpec[], resolver: AddressResolver = dnsPromises): Promise<DiscoveryResult> {
  const found = new Set<string>();
  const failures: DiscoveryResult['failures'] = [];
  await Promise.all(
    specs.map(async (spec) => {
      if (spec.kind === 'static') {
        found.add(spec.url);
        return;
      }
      try {
        const [v4, v6] = await Promise.all([lookup((h) => resolver.resolve4(h), spec.hostname), lookup((h) => resolver.resolve6(h), spec.hostname)]);
        const addresses = [...v4, ...v6];
        if (addresses.length === 0) {
          failures.push({ spec: spec.text, message: noRecordsMessage(spec.hostname) });
        }
        for (const address of addresses) found.add(addressUrl(spec, address));
      } catch (error) {
        failures.push({ spec: spec.text, message: `cannot resolve ${spec.hostname}: ${(error as Error).message}` });
      }
    }),
  );
  return { targets: [...found].sort(), failures };
}
