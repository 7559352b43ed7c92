// The logger: pino JSON on stdout. Redaction of known secret fields is a second line of
// defence; messages are built from redacted text in the first place (redact.ts).

import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** pino's levels, as --log.level accepts them. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

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
