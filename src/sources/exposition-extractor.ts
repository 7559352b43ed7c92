// Reads the few database-pool families we need out of a coderd /metrics body while it
// streams in, without ever holding the body (it can be many MB of per-workspace series).
// This file finds our lines in the raw bytes; pool-metrics-parser.ts parses each one.
//
// Approach: the body is never decoded or split into lines. Each chunk is searched as raw
// bytes with Buffer.indexOf for pieces of our names, and only the lines found that way are
// parsed, straight from the bytes (the value token alone is decoded). A JS step per line
// would cost more than the whole search: a coderd body is hundreds of thousands of
// coderd_* lines and a handful of ours.
//
// Which pieces: Node's Buffer.indexOf runs memchr on the needle's first byte for needles
// under 8 bytes, then compares the rest; longer needles get Boyer-Moore-Horspool, which
// crawls through metric text full of `_`. Measured on Node 20, 25 MB of coderd-like
// series: `\ngo_sql_` 16 ms, `go_sql_` 2.7 ms, `ql_` 1.0 ms, a bare newline scan 2.7 ms.
// So the cost is the number of times the needle's first byte occurs. `\n` + the prefix
// costs one false start per line, which is two scans' worth for our two prefixes; a piece
// starting with a byte that is rare in the body (`q` of go_sql_, `b` of pubsub in most
// coderd bodies) costs almost nothing. Bodies differ (hex ids are full of `b`), so the
// extractor counts the bytes of the body's first 16 KiB (SAMPLE_BYTES) and picks, per
// prefix, the piece (or `\n`) whose first byte is rarest, then checks the bytes before each
// hit: the rest of the prefix and the newline that starts the line.
//
// The line a chunk starts in the middle of, and the body's first line, have no newline
// before them in the chunk and are handled apart. Between chunks we carry the partial
// trailing line only while it can still be ours (a prefix of one of our names), up to
// MAX_LINE_BYTES; otherwise we only remember to skip to the next newline. Memory is flat
// in the body size.

import { POOL_NAME_PREFIXES, parsePoolSample, type PoolMetricField, type PoolMetrics } from './pool-metrics-parser.js';

const NL = 0x0a;

const LONGEST_PREFIX = Math.max(...POOL_NAME_PREFIXES.map((p) => p.length));

/**
 * A way to find the lines that start with a prefix: indexOf finds `needle`, a piece of the
 * prefix (or the newline before it and its start) that begins `offset` bytes after the line
 * start; `head` is the part of the prefix before the needle, checked by hand.
 */
interface Anchor {
  needle: Buffer;
  offset: number;
  head: Buffer;
}

/** Node's Buffer.indexOf runs memchr on the needle's first byte below 8 bytes (see top). */
const MAX_NEEDLE = 7;
/** Shorter needles match too often in other text; each match costs a trip back to JS. */
const MIN_NEEDLE = 3;

/** Every anchor for a prefix: the newline before it, or any piece of it. */
function anchorsFor(prefix: Buffer): Anchor[] {
  const anchors: Anchor[] = [
    { needle: Buffer.concat([Buffer.from([NL]), prefix.subarray(0, MAX_NEEDLE - 1)]), offset: -1, head: Buffer.alloc(0) },
  ];
  for (let offset = 0; offset + MIN_NEEDLE <= prefix.length; offset++) {
    anchors.push({
      needle: prefix.subarray(offset, offset + MAX_NEEDLE),
      offset,
      head: prefix.subarray(0, offset),
    });
  }
  return anchors;
}

const ANCHOR_CHOICES: readonly (readonly Anchor[])[] = POOL_NAME_PREFIXES.map(anchorsFor);

/**
 * The body bytes whose byte frequencies choose the anchors. 16 KiB (a few hundred lines)
 * shows which letters are common; a 64 KiB sample, counted byte by byte, cost about 40 ms
 * of a 200-replica poll (bench, case 4).
 */
const SAMPLE_BYTES = 16 * 1024;

/**
 * A line of ours longer than this is skipped, whether it arrives whole or in pieces (so
 * chunking never changes the result). client_golang writes our samples in under 100 bytes;
 * only a hostile label block gets near this.
 */
export const MAX_LINE_BYTES = 64 * 1024;

/** Streams a /metrics body chunk by chunk; push every chunk, then call finish once. */
export class PoolMetricsExtractor {
  private readonly sums = new Map<PoolMetricField, number>();
  private maxOpenSawZero = false;
  /** Start of the current, unfinished line, kept while it may still be ours. */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** The current line cannot be ours (or is too long): drop bytes up to the next newline. */
  private skipping = false;
  private finished = false;
  /** Byte counts over the body's first SAMPLE_BYTES, and the anchors they made us choose. */
  private readonly byteCounts = new Uint32Array(256);
  private sampledBytes = 0;
  private nextChoiceAt = 0;
  private anchors: readonly Anchor[] = ANCHOR_CHOICES.map((choices) => choices[0]!);

  push(chunk: Uint8Array): void {
    if (this.finished) throw new Error('PoolMetricsExtractor.push called after finish()');
    if (chunk.byteLength === 0) return;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.sampledBytes < SAMPLE_BYTES) this.sample(buf);

    // 1. The line this chunk starts in (continued from the last chunk, or the body's first).
    const firstNewline = buf.indexOf(NL);
    if (firstNewline < 0) {
      if (!this.skipping) this.keepPartialLine(buf);
      return;
    }
    if (this.skipping) {
      this.skipping = false;
    } else if (this.carryBytes === 0) {
      this.readLine(buf, 0, firstNewline);
    } else if (this.carryBytes + firstNewline <= MAX_LINE_BYTES) {
      const line = Buffer.concat([...this.carry, buf.subarray(0, firstNewline)]);
      this.readLine(line, 0, line.length);
    }
    this.carry = [];
    this.carryBytes = 0;

    // 2. Whole lines after the first newline: only those that start like ours. Families of
    // the two prefixes are disjoint, so each family is still summed in body order.
    const lastNewline = buf.lastIndexOf(NL);
    for (const { needle, offset, head } of this.anchors) {
      let at = buf.indexOf(needle, firstNewline + 1 + offset);
      while (at >= 0) {
        const lineStart = at - offset;
        if (lineStart > lastNewline) break; // the unfinished last line: step 3
        if (buf[lineStart - 1] === NL && (offset <= 0 || buf.compare(head, 0, offset, lineStart, at) === 0)) {
          const lineEnd = buf.indexOf(NL, lineStart); // exists: lineStart <= lastNewline
          this.readLine(buf, lineStart, lineEnd);
          at = buf.indexOf(needle, lineEnd);
        } else {
          at = buf.indexOf(needle, at + 1);
        }
      }
    }

    // 3. The unfinished last line goes to the next chunk.
    if (lastNewline + 1 < buf.length) this.keepPartialLine(buf.subarray(lastNewline + 1));
  }

  finish(): PoolMetrics {
    if (!this.finished) {
      this.finished = true;
      if (!this.skipping && this.carryBytes > 0) {
        const line = Buffer.concat(this.carry);
        this.readLine(line, 0, line.length);
      }
      this.carry = [];
      this.carryBytes = 0;
    }
    const get = (field: PoolMetricField): number | null => this.sums.get(field) ?? null;
    const maxOpen = get('maxOpen');
    return {
      // One unbounded pool makes the replica's total unbounded: Go's 0 means no limit.
      maxOpen: maxOpen !== null && this.maxOpenSawZero ? 0 : maxOpen,
      open: get('open'),
      inUse: get('inUse'),
      idle: get('idle'),
      waitCount: get('waitCount'),
      waitDurationSeconds: get('waitDurationSeconds'),
      pubsubConnected: get('pubsubConnected'),
      closed: { max_idle: get('max_idle'), max_idle_time: get('max_idle_time'), max_lifetime: get('max_lifetime') },
    };
  }

  /**
   * Counts the bytes of the body's start and picks, for each prefix, the anchor whose first
   * byte is rarest there (ties: the longer needle). Which anchor is used never changes the
   * result, only how many false starts indexOf makes.
   */
  private sample(buf: Buffer): void {
    const n = Math.min(buf.length, SAMPLE_BYTES - this.sampledBytes);
    const counts = this.byteCounts;
    for (let i = 0; i < n; i++) counts[buf[i]!]!++;
    this.sampledBytes += n;
    if (this.sampledBytes < this.nextChoiceAt && this.sampledBytes < SAMPLE_BYTES) return;
    this.nextChoiceAt = this.sampledBytes * 2; // tiny chunks: choose again only as the sample doubles
    // A false start on `\n` costs about half one on a letter (measured: newlines come evenly
    // spaced, letters at random), so a letter must be more than twice as rare to win.
    const cost = (anchor: Anchor): number => counts[anchor.needle[0]!]! * (anchor.offset < 0 ? 1 : 2);
    this.anchors = ANCHOR_CHOICES.map((choices) => {
      let best = choices[0]!;
      for (const anchor of choices) {
        const c = cost(anchor);
        if (c < cost(best) || (c === cost(best) && anchor.needle.length > best.needle.length)) best = anchor;
      }
      return best;
    });
  }

  /** Appends to the unfinished line, or gives up on it once it cannot be ours. */
  private keepPartialLine(part: Buffer): void {
    const total = this.carryBytes + part.length;
    if (total > MAX_LINE_BYTES || !this.carryMayBeOurs(part)) {
      this.carry = [];
      this.carryBytes = 0;
      this.skipping = true;
      return;
    }
    // Copy: the caller may reuse the chunk's memory once push returns.
    this.carry.push(Buffer.from(part));
    this.carryBytes = total;
  }

  /** Whether carry + part still starts like one of our names (only its head is checked). */
  private carryMayBeOurs(part: Buffer): boolean {
    if (this.carryBytes >= LONGEST_PREFIX) return true; // its head was checked already
    const head = this.carryBytes === 0 ? part : Buffer.concat([...this.carry, part.subarray(0, LONGEST_PREFIX)]);
    return POOL_NAME_PREFIXES.some((prefix) => {
      const n = Math.min(prefix.length, head.length);
      return head.compare(prefix, 0, n, 0, n) === 0;
    });
  }

  private readLine(buf: Buffer, start: number, end: number): void {
    if (end - start > MAX_LINE_BYTES) return;
    const sample = parsePoolSample(buf, start, end);
    if (sample === null) return;
    const [field, value] = sample;
    if (field === 'maxOpen' && value === 0) this.maxOpenSawZero = true;
    this.sums.set(field, (this.sums.get(field) ?? 0) + value);
  }
}

/** Convenience for a body already in memory: one push, then finish. */
export function extractPoolMetrics(body: Uint8Array | string): PoolMetrics {
  const extractor = new PoolMetricsExtractor();
  extractor.push(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return extractor.finish();
}

