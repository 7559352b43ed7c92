// A real pino logger whose JSON lines are kept in memory, so tests can read what an
// operator would read (and prove that no secret is in it).

import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

export interface CapturedLogs {
  logger: Logger;
  lines: string[];
  entries(): { level: number; msg: string; [key: string]: unknown }[];
}

export function captureLogs(level: 'debug' | 'info' | 'warn' = 'debug'): CapturedLogs {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      done();
    },
  });
  return {
    logger: createLogger(level, sink),
    lines,
    entries: () => lines.map((line) => JSON.parse(line) as { level: number; msg: string }),
  };
}
