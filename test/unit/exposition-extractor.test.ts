// The streaming extractor reads coderd's database-pool families out of a /metrics body
// of any size, whatever way the body is cut into chunks.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  MAX_LINE_BYTES,
  PoolMetricsExtractor,
  extractPoolMetrics,
} from '../../src/sources/exposition-extractor.js';
import type { PoolMetricField, PoolMetrics } from '../../src/sources/pool-metrics-parser.js';
import { POOL_FAMILIES, isCloseReason, poolMetric } from '../support/pool-families.js';

type Field = PoolMetricField;

const FAMILIES = POOL_FAMILIES;

const NOTHING: PoolMetrics = {
  maxOpen: null,
  open: null,
  inUse: null,
  idle: null,
  waitCount: null,
  waitDurationSeconds: null,
  pubsubConnected: null,
  closed: { max_idle: null, max_idle_time: null, max_lifetime: null },
};

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Feeds the chunks in order to one extractor. */
function extractChunks(chunks: Iterable<Uint8Array>): PoolMetrics {
  const extractor = new PoolMetricsExtractor();
  for (const chunk of chunks) extractor.push(chunk);
  return extractor.finish();
}

/** Cuts bytes at the given offsets (any order, repeats and out-of-range ones allowed). */
function cutAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

function* oneByteChunks(bytes: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
}

// What a Coder v2 replica serves with CODER_PROMETHEUS_ENABLE=true: client_golang's text
// format 0.0.4, families sorted by name, collectors.NewDBStatsCollector(sqlDB, "") among
// coderd's own series. Go writes floats with strconv 'g' shortest: 1e6 and up in exponent form.
const CLIENT_GOLANG_BODY = `# HELP coder_pubsub_connected Whether we are connected (1) or not connected (0) to postgres
# TYPE coder_pubsub_connected gauge
coder_pubsub_connected 1
# HELP coder_pubsub_current_events The current number of pubsub event channels listened for
# TYPE coder_pubsub_current_events gauge
coder_pubsub_current_events 37
# HELP coder_pubsub_disconnections_total Total number of times we disconnected unexpectedly from postgres
# TYPE coder_pubsub_disconnections_total counter
coder_pubsub_disconnections_total 2
# HELP coderd_agents_connection_latencies_seconds Agent connection latencies in seconds.
# TYPE coderd_agents_connection_latencies_seconds gauge
coderd_agents_connection_latencies_seconds{agent_name="main",derp_region="Coder Embedded Relay",preferred="true",username="alice",workspace_name="dev"} 0.003128532
coderd_agents_connection_latencies_seconds{agent_name="main",derp_region="Coder Embedded Relay",preferred="true",username="bob",workspace_name="go_sql_open_connections 99"} 0.004917
# HELP coderd_agents_up The number of active agents per workspace.
# TYPE coderd_agents_up gauge
coderd_agents_up{template_name="docker",template_version="sleepy_wozniak",username="alice",workspace_name="dev"} 1
coderd_agents_up{template_name="kubernetes",template_version="quirky_babbage",username="bob",workspace_name="go_sql_open_connections 99"} 1
# HELP coderd_api_requests_processed_total The total number of processed API requests
# TYPE coderd_api_requests_processed_total counter
coderd_api_requests_processed_total{code="200",method="GET",path="/api/v2/buildinfo"} 1.583927e+06
coderd_api_requests_processed_total{code="200",method="GET",path="/api/v2/workspaceagents/me/manifest"} 48213
# HELP coderd_workspace_latest_build_status The current workspace statuses by template, transition, and owner.
# TYPE coderd_workspace_latest_build_status gauge
coderd_workspace_latest_build_status{status="running",template_name="docker",template_version="sleepy_wozniak",workspace_owner="alice",workspace_transition="start"} 1
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 1412
# HELP go_sql_idle_connections The number of idle connections.
# TYPE go_sql_idle_connections gauge
go_sql_idle_connections{db_name=""} 3
# HELP go_sql_in_use_connections The number of connections currently in use.
# TYPE go_sql_in_use_connections gauge
go_sql_in_use_connections{db_name=""} 4
# HELP go_sql_max_idle_closed_total The total number of connections closed due to SetMaxIdleConns.
# TYPE go_sql_max_idle_closed_total counter
go_sql_max_idle_closed_total{db_name=""} 2.456789e+06
# HELP go_sql_max_idle_time_closed_total The total number of connections closed due to SetConnMaxIdleTime.
# TYPE go_sql_max_idle_time_closed_total counter
go_sql_max_idle_time_closed_total{db_name=""} 0
# HELP go_sql_max_lifetime_closed_total The total number of connections closed due to SetConnMaxLifetime.
# TYPE go_sql_max_lifetime_closed_total counter
go_sql_max_lifetime_closed_total{db_name=""} 17
# HELP go_sql_max_open_connections Maximum number of open connections to the database.
# TYPE go_sql_max_open_connections gauge
go_sql_max_open_connections{db_name=""} 10
# HELP go_sql_open_connections The number of established connections both in use and idle.
# TYPE go_sql_open_connections gauge
go_sql_open_connections{db_name=""} 7
# HELP go_sql_wait_count_total The total number of connections waited for.
# TYPE go_sql_wait_count_total counter
go_sql_wait_count_total{db_name=""} 1.048576e+06
# HELP go_sql_wait_duration_seconds_total The total time blocked waiting for a new connection.
# TYPE go_sql_wait_duration_seconds_total counter
go_sql_wait_duration_seconds_total{db_name=""} 5321.907112374
# HELP process_open_fds Number of open file descriptors.
# TYPE process_open_fds gauge
process_open_fds 214
`;

const CLIENT_GOLANG_EXPECTED: PoolMetrics = {
  maxOpen: 10,
  open: 7,
  inUse: 4,
  idle: 3,
  waitCount: 1048576,
  waitDurationSeconds: 5321.907112374,
  pubsubConnected: 1,
  closed: { max_idle: 2456789, max_idle_time: 0, max_lifetime: 17 },
};

// The same pool as client_golang's OpenMetrics encoder writes it (Accept:
// application/openmetrics-text): counter families named without _total, integral values
// as 7.0, _created samples, plus a timestamp, exemplars and a UNIT line.
const OPENMETRICS_BODY = `# HELP coder_pubsub_connected Whether we are connected (1) or not connected (0) to postgres
# TYPE coder_pubsub_connected gauge
coder_pubsub_connected 0.0
# HELP go_sql_idle_connections The number of idle connections.
# TYPE go_sql_idle_connections gauge
go_sql_idle_connections{db_name=""} 20.0 1700000000.123
# HELP go_sql_in_use_connections The number of connections currently in use.
# TYPE go_sql_in_use_connections gauge
go_sql_in_use_connections{db_name=""} 10.0 1700000000.123
# HELP go_sql_max_open_connections Maximum number of open connections to the database.
# TYPE go_sql_max_open_connections gauge
go_sql_max_open_connections{db_name=""} 30.0
# HELP go_sql_open_connections The number of established connections both in use and idle.
# TYPE go_sql_open_connections gauge
go_sql_open_connections{db_name=""} 30.0 1700000000.123
# HELP go_sql_wait_count The total number of connections waited for.
# TYPE go_sql_wait_count counter
go_sql_wait_count_total{db_name=""} 12.0 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 1.0 1699999999.5
go_sql_wait_count_created{db_name=""} 1.6999e+09
# HELP go_sql_wait_duration_seconds The total time blocked waiting for a new connection.
# TYPE go_sql_wait_duration_seconds counter
# UNIT go_sql_wait_duration_seconds seconds
go_sql_wait_duration_seconds_total{db_name=""} 0.75 1700000000.123 # {trace_id="00f067aa0ba902b7"} 0.25
go_sql_wait_duration_seconds_created{db_name=""} 1.6999e+09
# EOF
`;

const OPENMETRICS_EXPECTED: PoolMetrics = {
  maxOpen: 30,
  open: 30,
  inUse: 10,
  idle: 20,
  waitCount: 12,
  waitDurationSeconds: 0.75,
  pubsubConnected: 0,
  closed: { max_idle: null, max_idle_time: null, max_lifetime: null },
};

describe('extractPoolMetrics on real exposition formats', () => {
  it("reads every pool figure from client_golang's DBStatsCollector output amid coderd series", () => {
    expect(extractPoolMetrics(CLIENT_GOLANG_BODY)).toEqual(CLIENT_GOLANG_EXPECTED);
  });

  it('reads OpenMetrics text with _total counters, timestamps, exemplars and # EOF', () => {
    expect(extractPoolMetrics(OPENMETRICS_BODY)).toEqual(OPENMETRICS_EXPECTED);
  });

  it('reads a body given as bytes the same as the same body given as a string', () => {
    expect(extractPoolMetrics(utf8(CLIENT_GOLANG_BODY))).toEqual(CLIENT_GOLANG_EXPECTED);
  });

  it('reads samples without labels, on the first line, and on a last line without newline', () => {
    const body = 'go_sql_open_connections 3\ncoderd_x 1\ngo_sql_idle_connections 2';
    expect(extractPoolMetrics(body)).toMatchObject({ open: 3, idle: 2 });
  });

  it('reads lines that end in \\r\\n', () => {
    const body = 'coderd_x 1\r\ngo_sql_open_connections{db_name=""} 3\r\ncoder_pubsub_connected 1\r\n';
    expect(extractPoolMetrics(body)).toMatchObject({ open: 3, pubsubConnected: 1 });
  });

  it('reads coder_pubsub_connected with a backend label, as newer Coder writes it', () => {
    expect(extractPoolMetrics('coder_pubsub_connected{backend="postgres"} 1\n').pubsubConnected).toBe(1);
  });

  it('reads an empty body as every family absent', () => {
    expect(extractPoolMetrics('')).toEqual(NOTHING);
  });
});

describe('pool semantics', () => {
  it('reads go_sql_max_open_connections 0 as 0, an unbounded pool', () => {
    expect(extractPoolMetrics('go_sql_max_open_connections{db_name=""} 0\n').maxOpen).toBe(0);
  });

  it('reads a family that never appears as null', () => {
    const metrics = extractPoolMetrics('go_sql_open_connections{db_name=""} 7\n');
    expect(metrics).toEqual({ ...NOTHING, open: 7 });
  });

  it('sums a family over several series, such as two db_name pools', () => {
    const body = [
      'go_sql_open_connections{db_name="main"} 7',
      'go_sql_open_connections{db_name="audit"} 2',
      'go_sql_max_open_connections{db_name="main"} 10',
      'go_sql_max_open_connections{db_name="audit"} 5',
      '',
    ].join('\n');
    expect(extractPoolMetrics(body)).toMatchObject({ open: 9, maxOpen: 15 });
  });

  it('reads the pool max as unbounded when any one pool is unbounded', () => {
    const body = [
      'go_sql_max_open_connections{db_name="main"} 10',
      'go_sql_max_open_connections{db_name="audit"} 0',
      'go_sql_max_open_connections{db_name="logs"} 5',
      '',
    ].join('\n');
    expect(extractPoolMetrics(body).maxOpen).toBe(0);
  });
});

describe('values', () => {
  it.each([
    ['42', 42],
    ['-3', -3],
    ['0.003128532', 0.003128532],
    ['1.5e+06', 1.5e6],
    ['1.2345e-05', 1.2345e-5],
    ['1E3', 1000],
    ['7.0', 7],
    ['.5', 0.5],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
    ['NaN', NaN],
  ])('reads the Go float %s', (token, value) => {
    expect(extractPoolMetrics(`go_sql_wait_duration_seconds_total{db_name=""} ${token}\n`).waitDurationSeconds).toBe(value);
  });
});

describe('labels', () => {
  it('reads a sample whose label values hold escaped quotes, backslashes, newlines, braces and } 99', () => {
    const body =
      'go_sql_open_connections{db_name="a\\"b} 99",path="C:\\\\x\\\\",note="line\\nnext { x }",empty=""} 7\n';
    expect(extractPoolMetrics(body).open).toBe(7);
  });

  it('reads a sample whose label values hold multi-byte UTF-8', () => {
    expect(extractPoolMetrics('go_sql_open_connections{db_name="données-漢字-🙂"} 7\n').open).toBe(7);
  });

  it('reads label blocks with blanks, a trailing comma, no labels, and quoted label names', () => {
    const body = [
      'go_sql_open_connections{ db_name = "x" , pool="y", } 1',
      'go_sql_open_connections{} 2',
      'go_sql_open_connections{"db.name"="z"} 4',
      'go_sql_open_connections{db_name="w"}8',
      '',
    ].join('\n');
    expect(extractPoolMetrics(body).open).toBe(15);
  });

  it('ignores our names where they are not the metric name', () => {
    const body = [
      'coderd_agents_up{workspace_name="go_sql_open_connections 99"} 1',
      'coderd_agents_up{workspace_name="x\\ngo_sql_open_connections 98"} 1',
      '# HELP go_sql_open_connections The number of established connections both in use and idle.',
      '# TYPE go_sql_open_connections gauge',
      '',
    ].join('\n');
    expect(extractPoolMetrics(body)).toEqual(NOTHING);
  });

  it.each([
    'go_sql_open_connections_foo 5',
    'go_sql_open_connection 5',
    'go_sql_open_connections:rate5m 5',
    'xgo_sql_open_connections 5',
    'coderd_pubsub_connected 5',
    'coder_pubsub_connected_total 5',
    'go_sql_wait_count 5',
  ])('does not read %s, whose name is not exactly ours', (line) => {
    expect(extractPoolMetrics(`${line}\n`)).toEqual(NOTHING);
  });
});

describe('malformed lines', () => {
  it.each([
    ['no value', 'go_sql_open_connections{db_name=""}'],
    ['only blanks after the name', 'go_sql_open_connections  '],
    ['a non-numeric value', 'go_sql_open_connections{db_name=""} seven'],
    ['a value with junk', 'go_sql_open_connections{db_name=""} 7x'],
    ['two decimal points', 'go_sql_open_connections 1.2.3'],
    ['a hex value', 'go_sql_open_connections 0x1F'],
    ['a signed NaN', 'go_sql_open_connections +NaN'],
    ['a value glued to the name', 'go_sql_open_connections7'],
    ['an unterminated label block', 'go_sql_open_connections{db_name="x"'],
    ['an unterminated label value', 'go_sql_open_connections{db_name="x} 99'],
    ['an unknown escape', 'go_sql_open_connections{db_name="\\x"} 7'],
    ['a label without a value', 'go_sql_open_connections{db_name} 7'],
    ['a label value without quotes', 'go_sql_open_connections{db_name=x} 7'],
    ['a label name starting with a digit', 'go_sql_open_connections{1db="x"} 7'],
    ['labels not separated by a comma', 'go_sql_open_connections{a="x" b="y"} 7'],
    ['a non-numeric timestamp', 'go_sql_open_connections 7 yesterday'],
    ['junk after the timestamp', 'go_sql_open_connections 7 1700000000 junk'],
    ['an exemplar without labels', 'go_sql_open_connections 7 # 1.0'],
    ['an exemplar without value', 'go_sql_open_connections 7 # {trace_id="a"}'],
    ['blanks before the name', '  go_sql_open_connections 7'],
  ])('skips a sample with %s and keeps reading', (_what, line) => {
    const body = `go_sql_idle_connections 1\n${line}\ngo_sql_in_use_connections 2\n`;
    expect(extractPoolMetrics(body)).toEqual({ ...NOTHING, idle: 1, inUse: 2 });
  });

  it('skips a malformed last line without newline', () => {
    expect(extractPoolMetrics('go_sql_idle_connections 1\ngo_sql_open_connections{db_name="x').open).toBeNull();
  });
});

describe('chunking', () => {
  const body = utf8(
    `${CLIENT_GOLANG_BODY}coderd_x{owner="ünïcödé 漢字 🙂"} 1\n` +
      'go_sql_open_connections{db_name="second pool é} 99"} 5\ncoder_pubsub_connected 1',
  );
  const whole = extractChunks([body]);

  it('reads the chunking test body as expected when given whole', () => {
    expect(whole).toEqual({ ...CLIENT_GOLANG_EXPECTED, open: 12, pubsubConnected: 2 });
  });

  it('gives the same result for a body cut in two at every byte offset', () => {
    for (let cut = 0; cut <= body.length; cut++) {
      const result = extractChunks([body.subarray(0, cut), body.subarray(cut)]);
      if (JSON.stringify(result) !== JSON.stringify(whole)) {
        expect({ cut, result }).toEqual({ cut, result: whole });
      }
    }
  });

  it('gives the same result for a body fed one byte at a time', () => {
    expect(extractChunks(oneByteChunks(body))).toEqual(whole);
  });

  it('gives the same result for an OpenMetrics body fed one byte at a time', () => {
    expect(extractChunks(oneByteChunks(utf8(OPENMETRICS_BODY)))).toEqual(OPENMETRICS_EXPECTED);
  });

  /** Lines that hold our names without being our samples. */
  const DECOYS = [
    '  go_sql_open_connections 99',
    '\tcoder_pubsub_connected 99',
    'xgo_sql_open_connections 99',
    'xcoder_pubsub_connected 99',
    'coderd_x{a="go_sql_open_connections 99"} 1',
    'coderd_x{a="coder_pubsub_connected 99"} 1',
    '#coder_pubsub_connected 99',
    'go_sql_open_connections_total 99',
    '',
  ].join('\n');

  // The extractor picks what to search for from the byte frequencies of the body's start;
  // a body that starts with every other letter of our names makes it pick each letter.
  it.each([...new Set('go_sql_coder_pubsub_connected')])(
    'reads the same whatever the body starts with, here all but %j of our names\' letters',
    (rare) => {
      const common = [...new Set('go_sql_coder_pubsub_connected')].filter((c) => c !== rare).join('');
      const head = `# ${common.repeat(2000)}\n${'\n'.repeat(2000)}${DECOYS}`;
      const skewed = utf8(head + CLIENT_GOLANG_BODY);
      expect(extractChunks(cutAt(skewed, [7, 40_000, 40_100]))).toEqual(CLIENT_GOLANG_EXPECTED);
    },
  );

  it('keeps its own copy of a partial line, so the caller may reuse a chunk after push', () => {
    const extractor = new PoolMetricsExtractor();
    const chunk = utf8('coderd_x 1\ngo_sql_open_conn');
    extractor.push(chunk);
    chunk.fill(0x78);
    extractor.push(utf8('ections 7\n'));
    expect(extractor.finish().open).toBe(7);
  });

  it('treats pushing after finish as a programming error', () => {
    const extractor = new PoolMetricsExtractor();
    extractor.finish();
    expect(() => extractor.push(utf8('go_sql_open_connections 7\n'))).toThrow(/after finish/);
  });
});

describe('size', () => {
  /** About 1 MB of coderd-like per-workspace series, our names hidden in label values. */
  function fillerBlock(): Uint8Array {
    const lines: string[] = [];
    let bytes = 0;
    for (let i = 0; bytes < 1 << 20; i++) {
      const line =
        `coderd_agents_connection_latencies_seconds{agent_name="main",derp_region="go_sql_open_connections 9",` +
        `username="user${i % 997}",workspace_name="ws-${i}-sql_qbsub"} ${i * 1.5}\n`;
      lines.push(line);
      bytes += line.length;
    }
    return utf8(lines.join(''));
  }

  it('reads a 20 MB body streamed in odd-sized chunks, with our lines at the end', () => {
    const filler = fillerBlock();
    const extractor = new PoolMetricsExtractor();
    let streamed = 0;
    while (streamed < 20e6) {
      for (const chunk of cutAt(filler, [65_521, 131_071, 400_000, 900_001])) extractor.push(chunk);
      streamed += filler.length;
    }
    extractor.push(utf8('go_sql_max_open_connections{db_name=""} 10\ngo_sql_open_connections{db_name=""} 7\n'));
    extractor.push(utf8('coder_pubsub_connected 1'));
    expect(extractor.finish()).toEqual({ ...NOTHING, maxOpen: 10, open: 7, pubsubConnected: 1 });
  });

  it('skips a 1 MB line without newline that is not ours', () => {
    const line = `coderd_x{a="${'x'.repeat(1 << 20)}"} 1`;
    expect(extractChunks(cutAt(utf8(line), [10, 70_000, 500_000]))).toEqual(NOTHING);
  });

  it('skips a 1 MB line of ours without newline, and reads our lines before it', () => {
    const body = `go_sql_idle_connections 2\ngo_sql_open_connections{a="${'x'.repeat(1 << 20)}"} 7`;
    expect(extractChunks(cutAt(utf8(body), [30, 70_000, 500_000]))).toEqual({ ...NOTHING, idle: 2 });
  });

  it('reads our lines after a 1 MB line that is not ours', () => {
    const body = `coderd_x{a="${'x'.repeat(1 << 20)}"} 1\ngo_sql_open_connections 7\n`;
    expect(extractChunks(cutAt(utf8(body), [10, 70_000, 1_048_590]))).toEqual({ ...NOTHING, open: 7 });
  });

  it('holds no more than the line cap while a line of ours runs on for 64 MB', () => {
    const extractor = new PoolMetricsExtractor();
    extractor.push(utf8('go_sql_idle_connections 2\ngo_sql_open_connections{a="'));
    const chunk = new Uint8Array(1 << 16).fill(0x78);
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 1024; i++) extractor.push(chunk);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(8 << 20);
    extractor.push(utf8('"} 7\ngo_sql_in_use_connections 1\n'));
    expect(extractor.finish()).toEqual({ ...NOTHING, idle: 2, inUse: 1 });
  });

  it('reads a line of ours exactly at the line cap and skips one a byte longer, however cut', () => {
    const lineOfLength = (length: number): string => {
      const head = 'go_sql_open_connections{a="';
      const tail = '"} 7';
      return head + 'x'.repeat(length - head.length - tail.length) + tail;
    };
    for (const [length, expected] of [
      [MAX_LINE_BYTES, 7],
      [MAX_LINE_BYTES + 1, null],
    ] as const) {
      const body = utf8(`${lineOfLength(length)}\ngo_sql_idle_connections 1\n`);
      for (const cuts of [[], [5], [30_000], [MAX_LINE_BYTES - 1, MAX_LINE_BYTES + 1]]) {
        expect(extractChunks(cutAt(body, cuts))).toEqual({ ...NOTHING, open: expected, idle: 1 });
      }
    }
  });
});

// ---------------------------------------------------------------------------------------
// Properties. A grammar of near-valid lines whose meaning the generator knows, so the
// expected result can be summed independently of the parser.

interface Line {
  text: string;
  /** The family this line adds to, or null when it is not a valid sample of ours. */
  field: Field | null;
  value: number;
}

/** The number a valid value token stands for. */
function numberOf(token: string): number {
  if (/^[+-]?inf(inity)?$/i.test(token)) return token.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(token)) return NaN;
  return Number(token);
}

const validValue = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.double().map(String), // includes NaN, Infinity, -0 (as "0"), 5e-324, 1e+21
  fc.constantFrom('+Inf', '-Inf', 'NaN', 'Inf', 'inf', '-infinity', '1.5e+06', '2.0', '0', '1e-05', '.5', '5.', '+3', '007', '1E3'),
);
const garbageValue = fc.constantFrom(
  'abc', '1.2.3', '0x1F', '1e', 'e5', '--1', 'Infinit', 'nan1', '1_000', '١', '+nan', 'Inf5', '1,5', '½', '1e+', '.', '+', '-', '7x',
);
const timestamp = fc.oneof(fc.integer({ min: 0, max: 2e12 }).map(String), fc.constantFrom('1700000000.123', '1.7e+09'));

const labelName = fc.oneof(
  fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,6}$/),
  fc.constantFrom('"db.name"', '"a \\" b"'),
);
const labelValue = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom('} 99', '{', '}', '\\', '"', '\n', ' ', '\t', '\r', 'é', '漢', '🙂', '# {', ',', '=', '\ngo_sql_open_connections 5'),
    ),
    { maxLength: 4 },
  )
  .map((parts) => parts.join('').replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n'));
const labelBlock = fc
  .record({
    pairs: fc.array(fc.tuple(labelName, labelValue), { maxLength: 3 }),
    trailingComma: fc.boolean(),
    blank: fc.constantFrom('', ' ', '\t '),
  })
  .map(({ pairs, trailingComma, blank }) => {
    const body = pairs.map(([name, value]) => `${blank}${name}${blank}=${blank}"${value}"${blank}`).join(',');
    return `{${body}${trailingComma && pairs.length > 0 ? ',' : ''}${blank}}`;
  });
const blanks = fc.constantFrom(' ', '\t', '  ', ' \t');

/** A well-formed sample: name, optional labels, value, optional timestamp and exemplar. */
const wellFormed = (name: string) =>
  fc
    .record({
      labels: fc.option(labelBlock),
      afterLabels: fc.constantFrom('', ' ', '\t'),
      afterName: blanks,
      value: validValue,
      timestamp: fc.option(timestamp),
      exemplar: fc.option(fc.tuple(labelBlock, validValue, fc.option(timestamp))),
      trailing: fc.constantFrom('', ' '),
    })
    .map((s) => {
      let text = name + (s.labels === null ? s.afterName : s.labels + s.afterLabels) + s.value;
      if (s.timestamp !== null) text += ` ${s.timestamp}`;
      if (s.exemplar !== null) {
        const [labels, value, ts] = s.exemplar;
        text += ` # ${labels} ${value}${ts === null ? '' : ` ${ts}`}`;
      }
      return { text: text + s.trailing, value: numberOf(s.value) };
    });

const ourSample = fc
  .constantFrom(...FAMILIES)
  .chain(([name, field]) => wellFormed(name).map(({ text, value }): Line => ({ text, field, value })));

const nearName = fc.constantFrom(
  'go_sql_open_connections_foo', 'go_sql_open_connection', 'go_sql_max_idle_closed', 'go_sql_wait_count',
  'go_sql_wait_count_created', 'coder_pubsub_connected_total', 'coder_pubsub_connect', 'coderd_pubsub_connected',
  'xgo_sql_open_connections', 'go_sql_Open_connections', 'go_sql_', 'go_s', 'coder_pu', 'go_goroutines',
  'coderd_agents_up', 'go_sql_max_open_connections:sum',
);
const otherSample = nearName.chain((name) => wellFormed(name).map(({ text }): Line => ({ text, field: null, value: 0 })));

/** A line of ours made invalid in a way that can never parse. */
const brokenSample = fc.constantFrom(...FAMILIES).chain(([name]) =>
  fc
    .oneof(
      fc.tuple(fc.option(labelBlock), blanks).map(([labels, blank]) => `${name}${labels ?? ''}${blank}`),
      fc.tuple(fc.option(labelBlock), garbageValue, fc.option(timestamp)).map(
        ([labels, value, ts]) => `${name}${labels ?? ' '} ${value}${ts === null ? '' : ` ${ts}`}`,
      ),
      fc
        .tuple(labelBlock.filter((b) => b.length > 2), fc.nat())
        .map(([block, n]) => `${name}${block.slice(0, 1 + (n % (block.length - 1)))} 5`),
      wellFormed(name).map(({ text }) => `${text} junk`),
      wellFormed(name).map(({ text }) => ` ${text}`),
      validValue.map((value) => `${name}${value}`),
    )
    .map((text): Line => ({ text, field: null, value: 0 })),
);

const commentLine = fc
  .constantFrom(...FAMILIES.map(([name]) => name), 'go_sql_wait_count', 'coderd_x')
  .chain((name) =>
    fc.constantFrom(`# HELP ${name} Some help.`, `# TYPE ${name} gauge`, `# UNIT ${name} seconds`, '# EOF', '', `#${name} 5`),
  )
  .map((text): Line => ({ text, field: null, value: 0 }));

const anyLine = fc.oneof(
  { arbitrary: ourSample, weight: 4 },
  { arbitrary: otherSample, weight: 2 },
  { arbitrary: brokenSample, weight: 3 },
  { arbitrary: commentLine, weight: 1 },
);

/**
 * Lines joined with \n or \r\n, the last one with or without its line end, sometimes after a
 * comment and blank lines that skew the byte counts the extractor chooses its search by.
 */
const exposition = fc
  .record({
    skew: fc.option(
      fc.tuple(fc.subarray([...new Set('go_sql_coder_pubsub_connected')]), fc.nat(300), fc.nat(300)),
    ),
    lines: fc.array(fc.tuple(anyLine, fc.constantFrom('\n', '\r\n')), { maxLength: 25 }),
    lastEnds: fc.boolean(),
  })
  .map(({ skew, lines, lastEnds }) => ({
    lines: lines.map(([line]) => line),
    text:
      (skew === null ? '' : `# ${skew[0].join('').repeat(skew[1])}\n${'\n'.repeat(skew[2])}`) +
      lines.map(([line, end], i) => line.text + (i === lines.length - 1 && !lastEnds ? '' : end)).join(''),
  }));

/** What the body means, summed in body order the same way the extractor must. */
function expectedFrom(lines: readonly Line[]): PoolMetrics {
  const sums = new Map<Field, number>();
  let unbounded = false;
  for (const { field, value } of lines) {
    if (field === null) continue;
    if (field === 'maxOpen' && value === 0) unbounded = true;
    sums.set(field, (sums.get(field) ?? 0) + value);
  }
  const result = { ...NOTHING, closed: { ...NOTHING.closed } };
  for (const [field, sum] of sums) {
    if (isCloseReason(field)) result.closed[field] = sum;
    else result[field] = sum;
  }
  if (unbounded) result.maxOpen = 0;
  return result;
}

const cutOffsets = fc.array(fc.nat(), { maxLength: 8 });

describe('properties', () => {
  it('reads a grammar of valid, near-valid and broken lines exactly as its meaning, however chunked', () => {
    fc.assert(
      fc.property(exposition, cutOffsets, ({ lines, text }, cuts) => {
        const expected = expectedFrom(lines);
        expect(extractPoolMetrics(text)).toEqual(expected);
        expect(extractChunks(cutAt(utf8(text), cuts))).toEqual(expected);
      }),
    );
  });

  it('returns only numbers that stand as a value token in the input, for one series per family', () => {
    const soupToken = fc.oneof(
      fc.constantFrom(' ', '\t', '{', '}', '"', '\\', '=', ',', '#', '\r', 'db_name', '="', '"}', '} 99', 'é'),
      validValue,
      garbageValue,
      fc.string({ maxLength: 4 }).map((s) => s.replace(/\n/g, '')),
    );
    const soupTail = fc.array(soupToken, { maxLength: 10 }).map((tokens) => tokens.join(''));
    const body = fc.record({
      ours: fc.shuffledSubarray(FAMILIES.map(([name]) => name)).chain((names) =>
        fc.tuple(...names.map((name) => soupTail.map((tail) => name + tail))),
      ),
      others: fc.array(soupTail.map((tail) => `coderd_x${tail}`), { maxLength: 5 }),
    });
    fc.assert(
      fc.property(body, cutOffsets, ({ ours, others }, cuts) => {
        const lines = [...others, ...ours];
        const result = extractChunks(cutAt(utf8(lines.join('\n')), cuts));
        for (const [name, field] of FAMILIES) {
          const value = poolMetric(result, field);
          if (value === null) continue;
          const line = ours.find((l) => l.startsWith(name) && !/^[a-zA-Z0-9_:]/.test(l.slice(name.length)));
          expect(line).toBeDefined();
          const numbers = (line ?? '')
            .split(/[ \t\r}]+/)
            .filter((token) => /^[+-]?(\d|\.\d|inf)|^nan$/i.test(token))
            .map(numberOf);
          expect(numbers.some((n) => Object.is(n, value) || (n === 0 && value === 0))).toBe(true);
        }
      }),
    );
  });

  it('never throws on arbitrary bytes, and chunking never changes the result', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), cutOffsets, (bytes, cuts) => {
        expect(extractChunks(cutAt(bytes, cuts))).toEqual(extractPoolMetrics(bytes));
      }),
    );
  });

  it('never throws on byte soup full of our names and label syntax, and chunking never changes the result', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        '\n', '\r\n', ' ', '{', '}', '"', '\\', '=', ',', '#', 'go_sql_', 'ql_', 'bsub_co', 'coder_pu', 'coder_pubsub_connected',
        'go_sql_open_connections', 'go_sql_max_open_connections', 'go_sql_wait_count_total', 'db_name="', '1', '0', '-Inf', 'NaN', '1.5e+06',
      ).map(utf8),
      fc.uint8Array({ maxLength: 6 }),
    );
    const soup = fc.array(piece, { maxLength: 40 }).map((pieces) => Buffer.concat(pieces));
    fc.assert(
      fc.property(soup, cutOffsets, (bytes, cuts) => {
        expect(extractChunks(cutAt(bytes, cuts))).toEqual(extractPoolMetrics(bytes));
      }),
    );
  });
});

describe('coder_pubsub_connected with a backend label', () => {
  it('counts only the PostgreSQL pubsub, which is the one holding a PostgreSQL connection', () => {
    const body = [
      'coder_pubsub_connected{backend="postgres"} 1',
      'coder_pubsub_connected{backend="nats"} 1',
      'go_sql_open_connections{db_name=""} 4',
    ].join('\n');
    expect(extractPoolMetrics(body).pubsubConnected).toBe(1);
  });

  it('reads a NATS-only pubsub as absent', () => {
    expect(extractPoolMetrics('coder_pubsub_connected{backend="nats"} 1\n').pubsubConnected).toBeNull();
  });
});
