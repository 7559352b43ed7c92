// A Coder-like /metrics body of a chosen size, generated deterministically: what the
// extraction and fan-out benchmarks feed the scrapers. Families come in the order
// client_golang serves them (sorted by name): coder_pubsub_*, then hundreds of thousands
// of per-workspace coderd_* series, then go_*, the go_sql_* families we need, go_threads,
// process_* and promhttp_*. Label values vary the way a real fleet's do (users,
// workspaces, templates, versions, agent and node ids), so byte frequencies, line lengths
// and label blocks look like coderd's, not like a repeated line.

import { closeSync, openSync, writeSync } from 'node:fs';

/** go_sql_* values every generated body carries, so each reader's answer can be checked. */
export const POOL_FIGURES = Object.freeze({ maxOpen: 10, open: 7, inUse: 2, idle: 5, waitCount: 3, waitDurationSeconds: 0.25, pubsubConnected: 1 });

const CHUNK_BYTES = 64 * 1024;

const TEMPLATES = ['docker-ubuntu', 'kubernetes-dev', 'aws-linux', 'gcp-vm', 'azure-windows', 'devcontainer', 'jetbrains-gateway', 'jupyter-gpu', 'nix-flake', 'rust-toolchain', 'go-backend', 'frontend-node', 'data-science', 'android-build', 'minimal'];
const ADJECTIVES = ['amazing', 'brave', 'clever', 'dazzling', 'eager', 'focused', 'gifted', 'happy', 'jolly', 'keen', 'lucid', 'modest', 'nifty', 'optimistic', 'quirky', 'relaxed', 'sharp', 'tender', 'upbeat', 'vibrant', 'wizardly', 'zealous'];
const SCIENTISTS = ['hopper', 'lovelace', 'turing', 'curie', 'noether', 'euler', 'gauss', 'ritchie', 'thompson', 'knuth', 'dijkstra', 'hamilton', 'liskov', 'goldwasser', 'shannon', 'babbage', 'torvalds', 'wozniak'];
const FIRST = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj', 'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'yusuf'];
const WORKSPACE_WORDS = ['dev', 'main', 'feature', 'bugfix', 'review', 'sandbox', 'ml', 'api', 'web', 'infra', 'docs', 'perf'];
const REGIONS = ['Frankfurt', 'New York City', 'San Francisco', 'Singapore', 'Sydney', 'London', 'Tokyo', 'Sao Paulo'];
const LIFECYCLE = ['ready', 'ready', 'ready', 'ready', 'starting', 'start_timeout', 'shutting_down'];
const TRANSITIONS = ['start', 'start', 'start', 'stop', 'delete'];
const BUILD_STATUS = ['succeeded', 'succeeded', 'succeeded', 'failed', 'canceled'];
const APPS = ['code-server', 'jupyter', 'filebrowser', 'vscode-web', 'terminal'];

/** A cheap integer hash: the same workspace gets the same attributes in every family. */
function mix(a, b) {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

const pick = (list, i, salt) => list[mix(i, salt) % list.length];
const hex = (i, salt, digits) => (mix(i, salt).toString(16).padStart(8, '0') + mix(i, salt + 1).toString(16).padStart(8, '0')).slice(0, digits);

/** Everything one workspace's series carry; a fleet has about 3 workspaces per user. */
function workspace(i) {
  const user = Math.floor(i / 3);
  const template = pick(TEMPLATES, user, 1);
  return {
    username: `${pick(FIRST, user, 2)}.${pick(SCIENTISTS, user, 3)}${user % 997}`,
    workspace: `${pick(WORKSPACE_WORDS, i, 4)}-${hex(i, 5, 6)}`,
    template,
    version: `${pick(ADJECTIVES, i >> 4, 6)}_${pick(SCIENTISTS, i >> 4, 7)}${mix(i >> 4, 8) % 100}`,
    agent: mix(i, 9) % 5 === 0 ? 'gpu' : 'main',
    node: String(mix(i, 10) * 4096 + (mix(i, 11) % 4096)),
    region: pick(REGIONS, i, 12),
    lifecycle: pick(LIFECYCLE, i, 13),
    transition: pick(TRANSITIONS, i, 14),
    status: pick(BUILD_STATUS, i, 15),
    app: pick(APPS, i, 16),
    rx: mix(i, 17) % 900_000_000,
    tx: mix(i, 18) % 90_000_000,
    latency: (mix(i, 19) % 90_000) / 1e6,
    sessions: mix(i, 20) % 4,
  };
}

/** Per-workspace families, in name order: [name, type, help, line(w) -> one or more lines]. */
const WORKSPACE_FAMILIES = [
  ['coderd_agents_apps', 'gauge', 'Agent applications with statuses.', (w) => `coderd_agents_apps{agent_name="${w.agent}",app_name="${w.app}",health="healthy",username="${w.username}",workspace_name="${w.workspace}"} 1`],
  ['coderd_agents_connection_latencies_seconds', 'gauge', 'Agent connection latencies in seconds.', (w) => `coderd_agents_connection_latencies_seconds{agent_name="${w.agent}",derp_region="${w.region}",preferred="true",username="${w.username}",workspace_name="${w.workspace}"} ${w.latency}`],
  ['coderd_agents_connections', 'gauge', 'Agent connections with statuses.', (w) => `coderd_agents_connections{agent_name="${w.agent}",lifecycle_state="${w.lifecycle}",status="connected",tailnet_node="${w.node}",username="${w.username}",workspace_name="${w.workspace}"} 1`],
  ['coderd_agents_up', 'gauge', 'The number of active agents per workspace.', (w) => `coderd_agents_up{template_name="${w.template}",template_version="${w.version}",username="${w.username}",workspace_name="${w.workspace}"} 1`],
  ['coderd_agentstats_connection_count', 'gauge', 'The number of established connections by agent', (w) => `coderd_agentstats_connection_count{agent_name="${w.agent}",username="${w.username}",workspace_name="${w.workspace}"} ${w.sessions}`],
  ['coderd_agentstats_rx_bytes', 'gauge', 'Agent Rx bytes', (w) => `coderd_agentstats_rx_bytes{agent_name="${w.agent}",username="${w.username}",workspace_name="${w.workspace}"} ${w.rx}`],
  ['coderd_agentstats_session_count_ssh', 'gauge', 'The number of established SSH sessions by agent', (w) => `coderd_agentstats_session_count_ssh{agent_name="${w.agent}",username="${w.username}",workspace_name="${w.workspace}"} ${w.sessions >> 1}`],
  ['coderd_agentstats_session_count_vscode', 'gauge', 'The number of established VSCode sessions by agent', (w) => `coderd_agentstats_session_count_vscode{agent_name="${w.agent}",username="${w.username}",workspace_name="${w.workspace}"} ${w.sessions & 1}`],
  ['coderd_agentstats_tx_bytes', 'gauge', 'Agent Tx bytes', (w) => `coderd_agentstats_tx_bytes{agent_name="${w.agent}",username="${w.username}",workspace_name="${w.workspace}"} ${w.tx}`],
  ['coderd_workspace_builds_total', 'counter', 'The number of workspaces started, updated, or deleted.', (w) => `coderd_workspace_builds_total{status="${w.status}",template_name="${w.template}",template_version="${w.version}",workspace_name="${w.workspace}",workspace_owner="${w.username}",workspace_transition="${w.transition}"} ${1 + (w.rx % 40)}`],
];

const HEAD = [
  '# HELP coder_pubsub_connected Whether we are connected (1) or not connected (0) to postgres',
  '# TYPE coder_pubsub_connected gauge',
  `coder_pubsub_connected ${POOL_FIGURES.pubsubConnected}`,
  '# HELP coder_pubsub_current_events The current number of pubsub event channels listened for',
  '# TYPE coder_pubsub_current_events gauge',
  'coder_pubsub_current_events 27',
  '# HELP coder_pubsub_messages_total Total number of messages received from postgres',
  '# TYPE coder_pubsub_messages_total counter',
  'coder_pubsub_messages_total{size="colossal"} 3',
  'coder_pubsub_messages_total{size="normal"} 1.894721e+06',
  '# HELP coder_pubsub_published_bytes_total Total number of bytes successfully published across all publishes',
  '# TYPE coder_pubsub_published_bytes_total counter',
  'coder_pubsub_published_bytes_total 4.67883241e+08',
].join('\n') + '\n';

function tail() {
  const f = POOL_FIGURES;
  const lines = [
    '# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.',
    '# TYPE go_gc_duration_seconds summary',
    'go_gc_duration_seconds{quantile="0"} 3.1e-05',
    'go_gc_duration_seconds{quantile="0.25"} 6.2e-05',
    'go_gc_duration_seconds{quantile="0.5"} 8.9e-05',
    'go_gc_duration_seconds{quantile="0.75"} 0.000131',
    'go_gc_duration_seconds{quantile="1"} 0.012484',
    'go_gc_duration_seconds_sum 3.840129',
    'go_gc_duration_seconds_count 21877',
    '# HELP go_goroutines Number of goroutines that currently exist.',
    '# TYPE go_goroutines gauge',
    'go_goroutines 8641',
    '# HELP go_info Information about the Go environment.',
    '# TYPE go_info gauge',
    'go_info{version="go1.24.4"} 1',
    '# HELP go_memstats_alloc_bytes Number of bytes allocated and still in use.',
    '# TYPE go_memstats_alloc_bytes gauge',
    'go_memstats_alloc_bytes 9.02318024e+08',
  ];
  const sql = [
    ['go_sql_idle_connections', 'gauge', 'The number of idle connections.', f.idle],
    ['go_sql_in_use_connections', 'gauge', 'The number of connections currently in use.', f.inUse],
    ['go_sql_max_idle_closed_total', 'counter', 'The total number of connections closed due to SetMaxIdleConns.', 1043],
    ['go_sql_max_idle_time_closed_total', 'counter', 'The total number of connections closed due to SetConnMaxIdleTime.', 0],
    ['go_sql_max_lifetime_closed_total', 'counter', 'The total number of connections closed due to SetConnMaxLifetime.', 0],
    ['go_sql_max_open_connections', 'gauge', 'Maximum number of open connections to the database.', f.maxOpen],
    ['go_sql_open_connections', 'gauge', 'The number of established connections both in use and idle.', f.open],
    ['go_sql_wait_count_total', 'counter', 'The total number of connections waited for.', f.waitCount],
    ['go_sql_wait_duration_seconds_total', 'counter', 'The total time blocked waiting for a new connection.', f.waitDurationSeconds],
  ];
  for (const [name, type, help, value] of sql) lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{db_name=""} ${value}`);
  lines.push(
    '# HELP go_threads Number of OS threads created.',
    '# TYPE go_threads gauge',
    'go_threads 31',
    '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
    '# TYPE process_cpu_seconds_total counter',
    'process_cpu_seconds_total 52874.31',
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    'process_resident_memory_bytes 1.642582016e+09',
    '# HELP promhttp_metric_handler_requests_total Total number of scrapes by HTTP status code.',
    '# TYPE promhttp_metric_handler_requests_total counter',
    'promhttp_metric_handler_requests_total{code="200"} 40977',
    'promhttp_metric_handler_requests_total{code="500"} 0',
    'promhttp_metric_handler_requests_total{code="503"} 0',
  );
  return lines.join('\n') + '\n';
}

const TAIL = tail();

/** Bytes one workspace adds over all families (measured on a sample). */
function bytesPerWorkspace() {
  let total = 0;
  const sample = 3000;
  for (let i = 0; i < sample; i++) {
    const w = workspace(i);
    for (const family of WORKSPACE_FAMILIES) total += family[3](w).length + 1;
  }
  return total / sample;
}

/** How many workspaces make a body of about `bytes`. */
export function workspacesFor(bytes) {
  const fixed = HEAD.length + TAIL.length + WORKSPACE_FAMILIES.reduce((sum, [name, type, help]) => sum + name.length * 2 + type.length + help.length + 17, 0);
  return Math.max(1, Math.round((bytes - fixed) / bytesPerWorkspace()));
}

/**
 * Yields the body in chunks of exactly 64 KiB (the last one shorter), cut wherever the
 * boundary falls, mid-line included, as a socket delivers it. The body is never held:
 * each chunk is a view of one reused buffer, valid until the next is asked for (copy it
 * to keep it), so that producing the stream costs no memory that grows with its size.
 * The same `bytes` gives the same body, byte for byte.
 */
export function* coderExpositionChunks(bytes) {
  const workspaces = workspacesFor(bytes);
  // Room for one chunk plus the longest line that can cross its end.
  const out = Buffer.alloc(2 * CHUNK_BYTES);
  let fill = 0;
  function* write(text) {
    fill += out.latin1Write(text, fill);
    if (fill >= CHUNK_BYTES) {
      yield out.subarray(0, CHUNK_BYTES);
      out.copy(out, 0, CHUNK_BYTES, fill);
      fill -= CHUNK_BYTES;
    }
  }
  yield* write(HEAD);
  for (const [name, type, help, line] of WORKSPACE_FAMILIES) {
    yield* write(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
    for (let i = 0; i < workspaces; i++) yield* write(line(workspace(i)) + '\n');
  }
  // TAIL is shorter than a chunk: at most one more full chunk, then the rest.
  yield* write(TAIL);
  if (fill > 0) yield out.subarray(0, fill);
}

/** The whole body in one Buffer. */
export function coderExposition(bytes) {
  const chunks = [];
  for (const chunk of coderExpositionChunks(bytes)) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Writes the body to a file, streamed; returns its size and line count. */
export function writeCoderExposition(path, bytes) {
  const fd = openSync(path, 'w');
  let size = 0;
  let lines = 0;
  try {
    for (const chunk of coderExpositionChunks(bytes)) {
      writeSync(fd, chunk);
      size += chunk.length;
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
    }
  } finally {
    closeSync(fd);
  }
  return { size, lines };
}
