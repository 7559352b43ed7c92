// One reader over one Coder-like body, in a process of its own so that its peak RSS is its
// own: `node bench/extraction-worker.mjs READER MODE FILE LINES`, prints one JSON line.
//
// READER: ours (PoolMetricsExtractor, 64 KiB chunks), library (parse-prometheus-text-format,
// the whole body as one string, which is the only way it reads), newline (a bare
// Buffer.indexOf(10) loop over the same 64 KiB chunks: the ceiling of any line reader),
// or none (reads the file and nothing else: the floor every process shares).
// MODE: speed (the body read into memory first, then the best of several timed passes;
// the library's pass excludes decoding the body to a string) or memory (the body read
// from the file 64 KiB at a time into one reused buffer, as from a socket, and never
// held, except by the library, which must hold it; peak RSS).
// LINES: how many lines the body has, to check the newline scan.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { PoolMetricsExtractor } from '../dist/sources/exposition-extractor.js';
import { POOL_FIGURES } from './coder-exposition.mjs';

const CHUNK = 64 * 1024;
/** Timed passes stop after this many or this long, whichever comes first. */
const MAX_PASSES = 100;
const PASS_BUDGET_MS = 3000;

const [reader, mode, file, linesText] = process.argv.slice(2);

const readers = {
  /** chunks: iterable of Buffers; returns what was found, to check. */
  ours(chunks) {
    const extractor = new PoolMetricsExtractor();
    for (const chunk of chunks) extractor.push(chunk);
    return extractor.finish();
  },
  newline(chunks) {
    let lines = 0;
    for (const chunk of chunks) {
      let at = chunk.indexOf(10);
      while (at !== -1) {
        lines++;
        at = chunk.indexOf(10, at + 1);
      }
    }
    return lines;
  },
  none(chunks) {
    for (const _chunk of chunks);
    return null;
  },
  library(text) {
    const families = parsePrometheusTextFormat(text);
    const open = families.find((family) => family.name === 'go_sql_open_connections');
    return { families: families.length, open: open ? Number(open.metrics[0].value) : null };
  },
};

/** Whether a reader's answer is right: a fast wrong answer is a broken run. */
function check(answer) {
  if (reader === 'ours') {
    for (const [field, expected] of Object.entries(POOL_FIGURES)) {
      if (answer[field] !== expected) return `ours read ${field}=${answer[field]}, expected ${expected}`;
    }
  } else if (reader === 'library') {
    if (answer.open !== POOL_FIGURES.open) return `the library read go_sql_open_connections=${answer.open}, expected ${POOL_FIGURES.open}`;
  } else if (reader === 'newline' && answer !== Number(linesText)) {
    return `the newline scan counted ${answer} lines, the body has ${linesText}`;
  }
  return null;
}

function* slices(body) {
  for (let offset = 0; offset < body.length; offset += CHUNK) yield body.subarray(offset, offset + CHUNK);
}

/** The file in 64 KiB reads into one reused buffer: no memory that grows with the body. */
function* fileChunks() {
  const fd = openSync(file, 'r');
  const buffer = Buffer.alloc(CHUNK);
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) yield buffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function measureSpeed() {
  const body = readFileSync(file);
  const input = reader === 'library' ? body.toString('utf8') : null;
  const run = () => (reader === 'library' ? readers.library(input) : readers[reader](slices(body)));
  let best = Infinity;
  let answer;
  const started = performance.now();
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const t0 = performance.now();
    answer = run();
    best = Math.min(best, performance.now() - t0);
    // The library takes seconds per pass: once is enough to tell its speed.
    if (reader === 'library' || (pass >= 2 && performance.now() - started > PASS_BUDGET_MS)) break;
  }
  return { bodyBytes: body.length, seconds: best / 1000, answer };
}

function measureMemory() {
  if (reader === 'library') {
    // What a user of the library does: read the whole response, then parse the text.
    const body = readFileSync(file);
    return { bodyBytes: body.length, answer: readers.library(body.toString('utf8')) };
  }
  let bodyBytes = 0;
  const counted = function* () {
    for (const chunk of fileChunks()) {
      bodyBytes += chunk.length;
      yield chunk;
    }
  };
  const answer = readers[reader](counted());
  return { bodyBytes, answer };
}

const result = mode === 'speed' ? measureSpeed() : measureMemory();
process.stdout.write(
  JSON.stringify({
    reader,
    mode,
    bodyBytes: result.bodyBytes,
    seconds: result.seconds ?? null,
    // resourceUsage().maxRSS is in KiB.
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    problem: reader === 'none' ? null : check(result.answer),
  }) + '\n',
);
