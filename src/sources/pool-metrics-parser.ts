// Parses one line of a Prometheus or OpenMetrics text body into a database-pool figure,
// straight from its bytes, and holds the table of the families that make up PoolMetrics.
//
// Accepted: Prometheus text 0.0.4 and OpenMetrics 1.0 text as client_golang writes them
// (labels, optional timestamp, exemplar after ` # `, `\r\n` line ends). Not accepted:
// blanks before the metric name and Prometheus 3 quoted metric names (`{"name",...}`),
// which no coderd emits.

import { poolCloseReasons, type PoolCloseReason, type PoolCloses } from '../model/pool-closes.js';

/** The database-pool figures of one coderd replica; null = family not in the body. */
export interface PoolMetrics {
  /** go_sql_max_open_connections; 0 means unbounded in Go (no SetMaxOpenConns). */
  maxOpen: number | null;
  /** go_sql_open_connections */
  open: number | null;
  /** go_sql_in_use_connections */
  inUse: number | null;
  /** go_sql_idle_connections */
  idle: number | null;
  /** go_sql_wait_count_total */
  waitCount: number | null;
  /** go_sql_wait_duration_seconds_total */
  waitDurationSeconds: number | null;
  /** coder_pubsub_connected: the LISTEN connection outside the pool (0/1). */
  pubsubConnected: number | null;
  /**
   * go_sql_<reason>_closed_total, keyed by <reason>: max_idle (the idle list was full,
   * SetMaxIdleConns), max_idle_time (SetConnMaxIdleTime), max_lifetime (SetConnMaxLifetime).
   */
  closed: PoolCloses;
}

/** What one sample fills: a figure of PoolMetrics, or one reason of its closed. */
export type PoolMetricField = Exclude<keyof PoolMetrics, 'closed'> | PoolCloseReason;

const FIELD_BY_NAME: ReadonlyMap<string, PoolMetricField> = new Map<string, PoolMetricField>([
  ['go_sql_max_open_connections', 'maxOpen'],
  ['go_sql_open_connections', 'open'],
  ['go_sql_in_use_connections', 'inUse'],
  ['go_sql_idle_connections', 'idle'],
  ['go_sql_wait_count_total', 'waitCount'],
  ['go_sql_wait_duration_seconds_total', 'waitDurationSeconds'],
  ['coder_pubsub_connected', 'pubsubConnected'],
  // go_sql_max_idle_closed_total and its siblings: named by the reason, and so are we.
  ...poolCloseReasons.map((reason) => [`go_sql_${reason}_closed_total`, reason] as const),
]);

/** Every family the extractor reads: what a scrape asks coderd for by name[]. */
export const POOL_FAMILY_NAMES: readonly string[] = [...FIELD_BY_NAME.keys()];

/** Line prefixes that can start one of our samples (every name above has one). */
export const POOL_NAME_PREFIXES: readonly Buffer[] = [Buffer.from('go_sql_', 'latin1'), Buffer.from('coder_pubsub_connected', 'latin1')];

const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const HASH = 0x23;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

// What Go's strconv.ParseFloat accepts of what client_golang and OpenMetrics write: decimals
// with optional exponent, and the special values in any case (a sign only before inf, as in
// Go). Hex floats and `_` digit separators are never written, so they count as garbage.
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^[+-]?inf(?:inity)?$/i;
const NAN = /^nan$/i;

/**
 * Parses `name[{labels}] value [timestamp] [# {labels} value [timestamp]]` from
 * buf[start, end); null when the name is not ours or the line is malformed.
 */
export function parsePoolSample(buf: Buffer, start: number, end: number): [PoolMetricField, number] | null {
  if (end > start && buf[end - 1] === CR) end--;
  let i = start;
  while (i < end && isNameByte(buf[i]!)) i++;
  const field = FIELD_BY_NAME.get(buf.toString('latin1', start, i));
  if (field === undefined) return null;

  if (i < end && buf[i] === OPEN_BRACE) {
    const labelsStart = i;
    i = skipLabels(buf, i, end);
    if (i < 0) return null;
    if (field === 'pubsubConnected' && isOtherPubsubBackend(buf.toString('utf8', labelsStart, i))) return null;
  } else if (i < end && !isBlank(buf[i]!)) {
    return null;
  }

  i = skipBlanks(buf, i, end);
  const valueEnd = tokenEnd(buf, i, end);
  const value = parseNumber(buf, i, valueEnd);
  if (value === null) return null;
  i = skipBlanks(buf, valueEnd, end);

  if (i < end && buf[i] !== HASH) {
    const timestampEnd = tokenEnd(buf, i, end);
    if (parseNumber(buf, i, timestampEnd) === null) return null;
    i = skipBlanks(buf, timestampEnd, end);
  }
  if (i < end && !isExemplar(buf, i, end)) return null;
  return [field, value];
}

/**
 * Newer coderd may label coder_pubsub_connected with its backend; only a PostgreSQL
 * pubsub holds a PostgreSQL connection, so a series for another backend (NATS) is not ours.
 */
function isOtherPubsubBackend(labelBlock: string): boolean {
  const backend = /[{,\s]backend\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(labelBlock);
  return backend !== null && backend[1] !== 'postgres';
}

/** OpenMetrics exemplar at buf[i] === '#': `# {labels} value [timestamp]` to the end. */
function isExemplar(buf: Buffer, i: number, end: number): boolean {
  if (buf[i] !== HASH) return false;
  i++;
  const afterHash = skipBlanks(buf, i, end);
  if (afterHash === i || afterHash >= end || buf[afterHash] !== OPEN_BRACE) return false;
  i = skipLabels(buf, afterHash, end);
  if (i < 0) return false;
  i = skipBlanks(buf, i, end);
  const valueEnd = tokenEnd(buf, i, end);
  if (parseNumber(buf, i, valueEnd) === null) return false;
  i = skipBlanks(buf, valueEnd, end);
  if (i === end) return true;
  const timestampEnd = tokenEnd(buf, i, end);
  if (parseNumber(buf, i, timestampEnd) === null) return false;
  return skipBlanks(buf, timestampEnd, end) === end;
}

/**
 * Skips a label block starting at buf[i] === '{'; returns the index after its '}', or -1.
 * Label values are walked byte by byte so that `}`, `{`, blanks and escaped quotes inside
 * them are content, never structure. Names may be bare or quoted (Prometheus 3).
 */
function skipLabels(buf: Buffer, i: number, end: number): number {
  i++;
  for (;;) {
    i = skipBlanks(buf, i, end);
    if (i >= end) return -1;
    if (buf[i] === CLOSE_BRACE) return i + 1; // empty block, or after a trailing comma
    if (buf[i] === QUOTE) {
      i = skipQuoted(buf, i, end);
      if (i < 0) return -1;
    } else {
      const nameStart = i;
      while (i < end && isNameByte(buf[i]!) && buf[i] !== 0x3a) i++;
      if (i === nameStart || isDigit(buf[nameStart]!)) return -1;
    }
    i = skipBlanks(buf, i, end);
    if (i >= end || buf[i] !== EQUALS) return -1;
    i = skipBlanks(buf, i + 1, end);
    if (i >= end || buf[i] !== QUOTE) return -1;
    i = skipQuoted(buf, i, end);
    if (i < 0) return -1;
    i = skipBlanks(buf, i, end);
    if (i >= end) return -1;
    if (buf[i] === COMMA) {
      i++;
    } else if (buf[i] === CLOSE_BRACE) {
      return i + 1;
    } else {
      return -1;
    }
  }
}

/** Skips a quoted string at buf[i] === '"'; only \\, \" and \n escapes are valid. */
function skipQuoted(buf: Buffer, i: number, end: number): number {
  for (i++; i < end; i++) {
    const byte = buf[i];
    if (byte === QUOTE) return i + 1;
    if (byte === BACKSLASH) {
      const next = buf[++i];
      if (i >= end || (next !== BACKSLASH && next !== QUOTE && next !== 0x6e)) return -1;
    }
  }
  return -1;
}

function parseNumber(buf: Buffer, start: number, end: number): number | null {
  if (end <= start || end - start > 64) return null;
  const token = buf.toString('latin1', start, end);
  if (NUMBER.test(token)) return Number(token);
  if (INFINITY.test(token)) return token.startsWith('-') ? -Infinity : Infinity;
  if (NAN.test(token)) return NaN;
  return null;
}

function tokenEnd(buf: Buffer, i: number, end: number): number {
  while (i < end && !isBlank(buf[i]!)) i++;
  return i;
}

function skipBlanks(buf: Buffer, i: number, end: number): number {
  while (i < end && isBlank(buf[i]!)) i++;
  return i;
}

function isBlank(byte: number): boolean {
  return byte === SPACE || byte === TAB;
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** [a-zA-Z0-9_:], the bytes of a metric name after its first. */
function isNameByte(byte: number): boolean {
  return (
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    isDigit(byte) ||
    byte === 0x5f ||
    byte === 0x3a
  );
}
