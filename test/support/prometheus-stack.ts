// A real Prometheus and Alertmanager (Debian's packages) on free loopback ports, with a
// webhook receiver of the test's own, so that end-to-end tests see the notifications an
// operator would get from our alert rules: firing, then resolved.
//
// For a fleet (test/alerts/fleet-e2e.test.ts), startPrometheus() starts a Prometheus
// alone, as a cluster's: no rules, its external labels, remote-writing to a central
// stack started with enableRemoteWriteReceiver and no scrape targets of its own.
//
// Every process and temporary directory is owned by the returned stack; `stop()` ends
// them (also the ones of a half-started stack, and at process exit as a last resort).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, isMap, isSeq, stringify } from 'yaml';
import { freeLoopbackPort } from '../../dev/free-port.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const ensureScript = path.join(repoRoot, 'scripts', 'ensure-debian-packages.sh');

/**
 * Installs (as root) or checks the Debian packages' binaries through
 * scripts/ensure-debian-packages.sh. Throws an error that names the packages to
 * install, so a test fails instead of skipping when a tool is missing.
 */
export function ensureDebianPackages(packages: string[]): void {
  const result = spawnSync('bash', [ensureScript, ...packages], {
    encoding: 'utf8',
    timeout: 15 * 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    throw new Error(
      `missing Debian package(s) ${packages.join(' ')} could not be ensured ` +
        `(apt-get install -y --no-install-recommends ${packages.join(' ')}): ` +
        (result.error ? String(result.error) : output),
    );
  }
}

export interface PrometheusOptions {
  /** host:port of each coder-pg-capacity daemon (or fake exporter) to scrape; none: no scrape job (a receiver of remote writes). */
  scrapeTargets?: string[];
  /** Default '1s'. */
  scrapeInterval?: string;
  /** Default '1s'. */
  evaluationInterval?: string;
  /** Scrape job name; default 'coder-pg-capacity' (the annotations' queries filter on it). */
  jobName?: string;
  /** global.external_labels, e.g. { cluster: 'a' }: stamped on every sample it sends on by remote write. */
  externalLabels?: Record<string, string>;
  /** A remote-write receiver (http://host:port/api/v1/write) that gets every sample scraped. */
  remoteWriteTo?: string;
  /** Accept remote writes on /api/v1/write (--web.enable-remote-write-receiver). */
  enableRemoteWriteReceiver?: boolean;
  /** The loopback port to listen on; default a free one. Pick one up front to remote-write to a Prometheus started later. */
  port?: number;
}

export interface PrometheusStackOptions extends PrometheusOptions {
  /** The rule file to load (a copy is loaded; the original is never touched). */
  ruleFile: string;
  /** Rewrites every rule's `for:` in the copy, e.g. '5s', so alerts fire within a test. */
  forOverride?: string;
  /** A `for:` of its own for some alerts (by name), over forOverride: one that must ride out the stack's own start-up. */
  forByAlert?: Record<string, string>;
}

/** One alert of Alertmanager's webhook payload (version 4). */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** Alertmanager's webhook payload (version 4). */
export interface WebhookPayload {
  version: string;
  groupKey: string;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

export interface PromQueryResult {
  resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  result: unknown;
}

export interface Webhook {
  /** Every payload received, in order. */
  alerts: WebhookPayload[];
  /** Resolves with the first payload (already received or to come) matching `pred`. */
  waitFor(pred: (payload: WebhookPayload) => boolean, timeoutMs: number): Promise<WebhookPayload>;
}

/** One active alert of Prometheus' /api/v1/alerts: pending or firing, annotations expanded. */
export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

/** A Prometheus alone: no rules, no Alertmanager (a cluster's Prometheus that remote-writes). */
export interface PrometheusServer {
  url: string;
  /** An instant query; throws on an API error. */
  query(promql: string): Promise<PromQueryResult>;
  /** The alerts its rules hold now, pending and firing (/api/v1/alerts). */
  alerts(): Promise<PrometheusAlert[]>;
  /** Ends the process and removes its temporary directory. */
  stop(): Promise<void>;
}

export interface PrometheusStack {
  prometheusUrl: string;
  alertmanagerUrl: string;
  webhook: Webhook;
  /** An instant query against Prometheus; throws on an API error. */
  query(promql: string): Promise<PromQueryResult>;
  /** The alerts Prometheus' rules hold now, pending and firing (/api/v1/alerts). */
  alerts(): Promise<PrometheusAlert[]>;
  /** Ends both processes and the webhook server, removes the temporary directory. */
  stop(): Promise<void>;
}

/** The payload's alert with this name and status, if any. */
export function findAlert(
  payload: WebhookPayload,
  alertname: string,
  status: 'firing' | 'resolved',
): WebhookAlert | undefined {
  return payload.alerts.find((alert) => alert.labels.alertname === alertname && alert.status === status);
}

// Processes still alive when the test process exits are killed here, whatever happened
// to the stop() calls (a crashed worker, a timeout that skipped afterAll).
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}

interface ManagedProcess {
  name: string;
  child: ChildProcess;
  /** The last lines of its stdout/stderr, for error messages. */
  log(): string;
}

function startProcess(name: string, binary: string, args: string[]): ManagedProcess {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (err) => lines.push(`spawn error: ${err.message}`));
  return { name, child, log: () => lines.slice(-40).join('\n') };
}

async function stopProcess(proc: ManagedProcess): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntilReady(proc: ManagedProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode}) before it was ready:\n${proc.log()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${proc.name} not ready at ${url} after ${timeoutMs} ms (${lastError}):\n${proc.log()}`);
}

/**
 * The rule file's text with every rule's `for:` set to `forOverride`, or to its alert's
 * entry in `forByAlert` (rules without a `for:` keep none).
 */
export async function rewriteRuleFile(ruleFile: string, forOverride?: string, forByAlert: Record<string, string> = {}): Promise<string> {
  const text = await readFile(ruleFile, 'utf8');
  if (forOverride === undefined) return text;
  const doc = parseDocument(text);
  const groups = doc.get('groups');
  if (!isSeq(groups)) throw new Error(`${ruleFile}: no groups`);
  let rewritten = 0;
  for (const group of groups.items) {
    const rules = isMap(group) ? group.get('rules') : undefined;
    if (!isSeq(rules)) continue;
    for (const rule of rules.items) {
      if (isMap(rule) && rule.has('for')) {
        rule.set('for', forByAlert[String(rule.get('alert'))] ?? forOverride);
        rewritten += 1;
      }
    }
  }
  if (rewritten === 0) throw new Error(`${ruleFile}: no rule has a for: to override`);
  return doc.toString({ lineWidth: 0 });
}

function startWebhook(): { server: Server; webhook: Webhook } {
  const payloads: WebhookPayload[] = [];
  const waiters = new Set<() => void>();
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        payloads.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookPayload);
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
      for (const wake of [...waiters]) wake();
    });
  });
  const webhook: Webhook = {
    alerts: payloads,
    waitFor(pred, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const match = payloads.find(pred);
          if (!match) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(match);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no matching webhook payload within ${timeoutMs} ms; received ${payloads.length}:\n` +
                JSON.stringify(
                  payloads.map((p) => p.alerts.map((a) => `${a.labels.alertname} ${a.status}`)),
                  null,
                  1,
                ),
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
  };
  return { server, webhook };
}

/** A temporary directory and the processes started for it; stop() ends them, last started first, and removes it. */
interface Scratch {
  dir: string;
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

async function scratch(): Promise<Scratch> {
  const dir = await mkdtemp(path.join(tmpdir(), 'coder-pg-capacity-prom-'));
  const processes: ManagedProcess[] = [];
  return {
    dir,
    processes,
    async stop() {
      for (const proc of [...processes].reverse()) await stopProcess(proc);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function apiGet<T>(url: string, what: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data?: T; error?: string };
  if (body.status !== 'success' || body.data === undefined) throw new Error(`${what} failed: ${body.error ?? res.status}`);
  return body.data;
}

/** Where a Prometheus with rules sends its alerts. */
interface Alerting {
  ruleFile: string;
  alertmanagerPort: number;
}

/** prometheus.yml for `opts`, with rules and an Alertmanager when `alerting` is given. */
function prometheusConfig(opts: PrometheusOptions, alerting?: Alerting): string {
  const scrapeInterval = opts.scrapeInterval ?? '1s';
  const targets = opts.scrapeTargets ?? [];
  const config = {
    global: {
      scrape_interval: scrapeInterval,
      scrape_timeout: scrapeInterval,
      evaluation_interval: opts.evaluationInterval ?? '1s',
      ...(opts.externalLabels ? { external_labels: opts.externalLabels } : {}),
    },
    ...(alerting
      ? {
          alerting: { alertmanagers: [{ api_version: 'v2', static_configs: [{ targets: [`127.0.0.1:${alerting.alertmanagerPort}`] }] }] },
          rule_files: [alerting.ruleFile],
        }
      : {}),
    // Batches every second (default 5 s), and retries a receiver not up yet every second at most.
    ...(opts.remoteWriteTo ? { remote_write: [{ url: opts.remoteWriteTo, queue_config: { batch_send_deadline: '1s', max_backoff: '1s' } }] } : {}),
    scrape_configs: targets.length > 0 ? [{ job_name: opts.jobName ?? 'coder-pg-capacity', static_configs: [{ targets }] }] : [],
  };
  return stringify(config);
}

/** Starts Prometheus in `owned.dir` and waits until it is ready. */
async function launchPrometheus(owned: Scratch, opts: PrometheusOptions, alerting?: Alerting): Promise<Omit<PrometheusServer, 'stop'>> {
  const configFile = path.join(owned.dir, 'prometheus.yml');
  await writeFile(configFile, prometheusConfig(opts, alerting));
  const port = opts.port ?? (await freeLoopbackPort());
  const prometheus = startProcess('prometheus', 'prometheus', [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(owned.dir, 'prometheus-data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...(opts.enableRemoteWriteReceiver ? ['--web.enable-remote-write-receiver'] : []),
    // Send a firing alert again every second (default 1m), so Alertmanager never
    // times it out between evaluations of a test's short `for:`.
    ...(alerting ? ['--rules.alert.resend-delay=1s'] : []),
    '--log.level=warn',
  ]);
  owned.processes.push(prometheus);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(prometheus, `${url}/-/ready`, 30_000);
  return {
    url,
    query: (promql) => apiGet<PromQueryResult>(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, `query ${promql}`),
    alerts: async () => (await apiGet<{ alerts: PrometheusAlert[] }>(`${url}/api/v1/alerts`, 'GET /api/v1/alerts')).alerts,
  };
}

/** A Prometheus without rules or Alertmanager: say, a cluster's, scraping its monitors and remote-writing. */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  ensureDebianPackages(['prometheus']);
  const owned = await scratch();
  try {
    return { ...(await launchPrometheus(owned, opts)), stop: owned.stop };
  } catch (err) {
    await owned.stop();
    throw err;
  }
}

export async function startPrometheusStack(opts: PrometheusStackOptions): Promise<PrometheusStack> {
  ensureDebianPackages(['prometheus', 'prometheus-alertmanager']);

  const owned = await scratch();
  const { dir } = owned;
  const { server: webhookServer, webhook } = startWebhook();

  const stop = async (): Promise<void> => {
    // Prometheus first (last started), so it sends nothing more to a stopping Alertmanager.
    await owned.stop();
    if (webhookServer.listening) {
      webhookServer.closeAllConnections();
      await new Promise<void>((resolve) => webhookServer.close(() => resolve()));
    }
  };

  try {
    webhookServer.listen(0, '127.0.0.1');
    await once(webhookServer, 'listening');
    const webhookPort = (webhookServer.address() as AddressInfo).port;

    // Alertmanager: flush at once, notify every second, and send resolutions.
    const amPort = await freeLoopbackPort();
    const amConfig = [
      'route:',
      '  receiver: webhook',
      "  group_by: ['...']",
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1m',
      'receivers:',
      '  - name: webhook',
      '    webhook_configs:',
      `      - url: http://127.0.0.1:${webhookPort}/`,
      '        send_resolved: true',
      '',
    ].join('\n');
    await writeFile(path.join(dir, 'alertmanager.yml'), amConfig);
    const alertmanager = startProcess('alertmanager', 'prometheus-alertmanager', [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=', // no HA gossip: nothing to listen on, nothing to wait for
      '--log.level=warn',
    ]);
    owned.processes.push(alertmanager);
    const alertmanagerUrl = `http://127.0.0.1:${amPort}`;
    await waitUntilReady(alertmanager, `${alertmanagerUrl}/-/ready`, 30_000);

    const ruleFile = path.join(dir, 'rules.yml');
    await writeFile(ruleFile, await rewriteRuleFile(opts.ruleFile, opts.forOverride, opts.forByAlert));
    const prometheus = await launchPrometheus(owned, opts, { ruleFile, alertmanagerPort: amPort });

    return { prometheusUrl: prometheus.url, alertmanagerUrl, webhook, query: prometheus.query, alerts: prometheus.alerts, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
