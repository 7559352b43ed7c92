// Case 3, exposition extraction: how fast and in how much memory three readers get
// through a large Coder-like body: ours (PoolMetricsExtractor, streamed in 64 KiB chunks),
// parse-prometheus-text-format (the library a user would reach for) and a bare newline
// scan (the ceiling: no line reader can do less than find the lines). Each reader runs in
// a child process of its own, once for speed and once per body size for peak RSS.
//
// The bodies are written to files first, so that a child streams them with plain reads
// into one reused buffer: producing the stream then costs no memory of its own, and
// what grows with the body is the reader's.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCoderExposition } from '../coder-exposition.mjs';
import { runNodeJson } from '../processes.mjs';

const worker = fileURLToPath(new URL('../extraction-worker.mjs', import.meta.url));
/** Peak RSS moves a few MB with GC timing: the least of a few runs is the reader's own. */
const MEMORY_RUNS = 3;

async function run(reader, mode, body) {
  const result = await runNodeJson(worker, [reader, mode, body.file, String(body.lines)], { timeoutMs: 240_000 });
  if (result.problem) throw new Error(`extraction by ${reader} gave a wrong answer: ${result.problem}`);
  return result;
}

async function leastPeakRss(reader, body) {
  const runs = reader === 'library' ? 1 : MEMORY_RUNS;
  let least = null;
  for (let i = 0; i < runs; i++) {
    const result = await run(reader, 'memory', body);
    if (least === null || result.peakRssBytes < least.peakRssBytes) least = result;
  }
  return least;
}

const mbPerSecond = (result) => result.bodyBytes / 1e6 / result.seconds;
const mb = (bytes) => bytes / 1e6;

export async function measureExtraction({ bigBytes, smallBytes }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'coder-pg-capacity-bench-'));
  try {
    const big = { file: path.join(dir, 'big.prom'), ...writeCoderExposition(path.join(dir, 'big.prom'), bigBytes) };
    const small = { file: path.join(dir, 'small.prom'), ...writeCoderExposition(path.join(dir, 'small.prom'), smallBytes) };

    const speed = {};
    for (const reader of ['newline', 'ours', 'library']) speed[reader] = await run(reader, 'speed', big);
    const memory = {};
    for (const reader of ['none', 'newline', 'ours', 'library']) {
      memory[reader] = { small: await leastPeakRss(reader, small), big: await leastPeakRss(reader, big) };
    }

    const size = `${Math.round(mb(big.size))} MB body`;
    const growth = (reader) => mb(memory[reader].big.peakRssBytes - memory[reader].small.peakRssBytes);
    const extraBody = mb(big.size - small.size);
    const oursSpeed = mbPerSecond(speed.ours);
    const rows = [
      { figure: `extraction speed, ${size}`, unit: 'MB/s', ours: oursSpeed, reference: mbPerSecond(speed.newline), referenceName: 'newline scan (ceiling)', target: { text: '≥ 1/2 of the ceiling', met: oursSpeed >= mbPerSecond(speed.newline) / 2 } },
      { figure: `extraction speed, ${size}`, unit: 'MB/s', ours: oursSpeed, reference: mbPerSecond(speed.library), referenceName: 'parse-prometheus-text-format', target: { text: '≥ 10× the library', met: oursSpeed >= 10 * mbPerSecond(speed.library) } },
      { figure: `peak RSS, ${size} streamed`, unit: 'MB', ours: mb(memory.ours.big.peakRssBytes), reference: mb(memory.library.big.peakRssBytes), referenceName: 'parse-prometheus-text-format' },
      {
        figure: `peak RSS growth, ${Math.round(mb(small.size))} → ${Math.round(mb(big.size))} MB body`,
        unit: 'MB',
        ours: growth('ours'),
        reference: growth('library'),
        referenceName: 'parse-prometheus-text-format',
        // Flat: well under the extra body, whatever GC timing adds.
        target: { text: `flat (< 1/10 of the extra ${Math.round(extraBody)} MB)`, met: growth('ours') < extraBody / 10 },
      },
    ];
    return { rows, speed, memory, lines: big.lines };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
