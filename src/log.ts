// The logger: pino JSON on stdout. Redaction of known secret fields is a second line of
// defence; messages are built from redacted text in the first place (redact.ts).

import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'coder-pg-capacity' },
      redact: { paths: ['password', '*.password', 'connectionString', '*.connectionString'], censor: '***' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
