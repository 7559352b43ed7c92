// The PgBouncer source: every instance of --pgbouncer.url (a dns+ name resolved each poll,
// one instance per address), each read over its own persistent admin connection
// (pgbouncer-admin.ts), and Coder's pool on it found by Coder's role and database. An
// instance that fails is data (up false, its error), logged once on the way down and once
// on the way back; an instance that leaves discovery has its connection closed.

import type { Config } from '../config/parse-config.js';
import { instanceUrl, type PgbouncerTarget } from '../config/pgbouncer-urls.js';
import type { Logger } from '../log.js';
import type { PoolerInstance, PoolerObservation } from '../model/pooler.js';
import { resolveAddresses, type AddressResolver } from './discovery.js';
import { PgbouncerAdmin, coderPool, type PgbouncerFacts, type PgbouncerPoll } from './pgbouncer-admin.js';
import type { PostgresTlsSettings } from './postgres-tls.js';
import { timed, type Source, type SourceCollection } from './source.js';
import { byCodeUnits } from '../model/text-order.js';
import { missingCoderEntry } from '../model/pooler-findings.js';

export interface PgbouncerSourceOptions {
  targets: PgbouncerTarget[];
  /** --pgbouncer.password-file: overrides every URL's password; read at each connect. */
  passwordFile: string | null;
  coderRole: string;
  /** The [databases] entry Coder connects to (--pgbouncer.database). */
  coderEntry: string;
  /** Bounds each instance's connect and each SHOW. */
  timeoutMs: number;
  logger: Logger;
  resolver?: AddressResolver;
}

/** One instance to read this poll. */
interface InstanceAddress {
  url: string;
  tls: PostgresTlsSettings;
  /** The dns+ name, which a verify-full certificate must carry. */
  serverName?: string;
}

/** The sources the daemon runs for --pgbouncer.url: none when it is not set. */
export function pgbouncerSources(config: Config, { logger, resolver }: { logger: Logger; resolver?: AddressResolver }): Source[] {
  if (config.pgbouncer.targets.length === 0) return [];
  return [
    new PgbouncerSource({
      targets: config.pgbouncer.targets,
      passwordFile: config.pgbouncer.passwordFile,
      coderRole: config.coder.role,
      coderEntry: config.pgbouncer.database,
      timeoutMs: config.poll.timeoutMs,
      logger,
      resolver,
    }),
  ];
}

/** Coder's pool on one instance, in the model's terms; null when no entry is named `coderEntry`. */
export function poolerInstanceOf(facts: PgbouncerFacts, coderRole: string, coderEntry: string): PoolerInstance {
  const found = coderPool(facts, coderRole, coderEntry);
  const live = found?.pool ?? null;
  return {
    instance: facts.instance,
    up: true,
    error: null,
    version: facts.version,
    maxClientConn: facts.maxClientConn,
    clientConnections: facts.clientConnections,
    coderPool: found && {
      database: found.database.name,
      user: found.user,
      poolSize: found.poolSize,
      poolSizeSource: found.poolSizeSource,
      reservePool: found.reservePool,
      maxDbConnections: found.maxDbConnections,
      maxUserConnections: found.maxUserConnections,
      poolMode: found.poolMode,
      poolModeSource: found.poolModeSource,
      clients: live ? live.clActive + live.clWaiting + live.clCancelRequests : 0,
      waiting: live?.clWaiting ?? 0,
      maxWaitSeconds: live?.maxWaitSeconds ?? 0,
      serverConnections: live ? live.svActive + live.svIdle + live.svUsed + live.svTested + live.svLogin : 0,
    },
  };
}

export class PgbouncerSource implements Source {
  readonly reportNames = ['pgbouncer'] as const;
  /** One admin connection per instance URL, kept across polls. */
  private readonly admins = new Map<string, PgbouncerAdmin>();
  /** What was last logged per instance (or dns+ name): a persisting failure is logged once. */
  private readonly logged = new Map<string, string>();

  constructor(private readonly options: PgbouncerSourceOptions) {}

  async collect(): Promise<SourceCollection> {
    const { value: pooler, seconds } = await timed(() => this.poll());
    const errors = [
      ...pooler.discoveryErrors.map((error) => ({ target: error.spec, message: error.message })),
      ...pooler.instances.filter((instance) => !instance.up).map((instance) => ({ target: instance.instance, message: instance.error ?? 'cannot be read' })),
    ];
    return { observations: { pooler }, reports: [{ source: 'pgbouncer', up: errors.length === 0, seconds, errors }] };
  }

  async poll(): Promise<PoolerObservation> {
    const { addresses, discoveryErrors } = await this.discover();
    const wanted = new Set(addresses.map((address) => address.url));
    for (const [url, admin] of this.admins) {
      if (wanted.has(url)) continue;
      // Gone from discovery (a scaled-down pod): its connection goes, and so does its series.
      this.admins.delete(url);
      this.logged.delete(admin.instance);
      this.options.logger.info({ source: 'pgbouncer', instance: admin.instance }, `PgBouncer ${admin.instance} left discovery; its admin connection is closed`);
      await admin.close();
    }
    const instances = await Promise.all(
      addresses.map(async (address) => {
        const admin = this.adminFor(address);
        return this.instanceOf(admin.instance, await admin.poll());
      }),
    );
    instances.sort((a, b) => byCodeUnits(a.instance, b.instance));
    this.logTransitions(instances, discoveryErrors);
    return { coderEntry: this.options.coderEntry, discoveryErrors, instances };
  }

  async close(): Promise<void> {
    const admins = [...this.admins.values()];
    this.admins.clear();
    await Promise.all(admins.map((admin) => admin.close()));
  }

  private adminFor(address: InstanceAddress): PgbouncerAdmin {
    let admin = this.admins.get(address.url);
    if (!admin) {
      admin = new PgbouncerAdmin({
        url: address.url,
        tls: address.tls,
        tlsServerName: address.serverName,
        passwordFile: this.options.passwordFile,
        timeoutMs: this.options.timeoutMs,
      });
      this.admins.set(address.url, admin);
    }
    return admin;
  }

  private instanceOf(instance: string, poll: PgbouncerPoll): PoolerInstance {
    if (poll.ok) return poolerInstanceOf(poll.facts, this.options.coderRole, this.options.coderEntry);
    return { instance, up: false, error: poll.error, version: null, maxClientConn: null, clientConnections: null, coderPool: null };
  }

  /** The instances of this poll: static URLs as they are, dns+ names resolved now. */
  private async discover(): Promise<{ addresses: InstanceAddress[]; discoveryErrors: PoolerObservation['discoveryErrors'] }> {
    const addresses = new Map<string, InstanceAddress>();
    const discoveryErrors: PoolerObservation['discoveryErrors'] = [];
    await Promise.all(
      this.options.targets.map(async (target) => {
        if (target.kind === 'static') {
          addresses.set(target.url, { url: target.url, tls: target.tls });
          return;
        }
        try {
          const found = await resolveAddresses(target.hostname, this.options.resolver);
          if (found.length === 0) discoveryErrors.push({ spec: target.text, message: noInstancesMessage(target.hostname) });
          for (const address of found) {
            const url = instanceUrl(target, address);
            addresses.set(url, { url, tls: target.tls, serverName: target.hostname });
          }
        } catch (error) {
          discoveryErrors.push({ spec: target.text, message: `cannot resolve ${target.hostname} for --pgbouncer.url: ${(error as Error).message}` });
        }
      }),
    );
    return { addresses: [...addresses.values()], discoveryErrors };
  }

  /** One line when an instance starts failing (or fails differently), one when it answers again. */
  private logTransitions(instances: PoolerInstance[], discoveryErrors: PoolerObservation['discoveryErrors']): void {
    const { logger } = this.options;
    const now = new Map<string, string>();
    for (const error of discoveryErrors) now.set(error.spec, error.message);
    for (const instance of instances) {
      if (!instance.up) now.set(instance.instance, instance.error ?? `PgBouncer ${instance.instance} cannot be read`);
      else if (instance.coderPool === null) now.set(instance.instance, missingCoderEntry(instance.instance, this.options.coderEntry));
    }
    for (const [key, message] of now) {
      if (this.logged.get(key) !== message) logger.warn({ source: 'pgbouncer', instance: key }, message);
    }
    for (const key of this.logged.keys()) {
      if (!now.has(key) && instances.some((instance) => instance.instance === key)) logger.info({ source: 'pgbouncer', instance: key }, `PgBouncer ${key} answers again`);
    }
    this.logged.clear();
    for (const [key, message] of now) this.logged.set(key, message);
  }
}

function noInstancesMessage(hostname: string): string {
  const hint = "check that the headless Service selects PgBouncer's pods";
  // Node's resolver ignores resolv.conf search domains: a short Service name never resolves.
  if (!hostname.includes('.')) return `${hostname} (--pgbouncer.url) has no A or AAAA records: ${hint}, and give the fully qualified name (pgbouncer.<namespace>.svc.cluster.local): search domains do not apply`;
  return `${hostname} (--pgbouncer.url) has no A or AAAA records: ${hint}`;
}
