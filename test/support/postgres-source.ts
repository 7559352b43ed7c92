// A PostgresSource as the daemon builds it, for tests that drive the source directly:
// Coder's role and database "coder", quick backoff, logs captured.

import { connectionFromUrl } from '../../src/config/postgres-connection.js';
import { PostgresSource, type PostgresSourceOptions } from '../../src/sources/postgres.js';
import { captureLogs, type CapturedLogs } from './logs.js';

export function testPostgresSource(url: string, overrides: Partial<PostgresSourceOptions> = {}): { pgSource: PostgresSource; logs: CapturedLogs } {
  const logs = captureLogs();
  const pgSource = new PostgresSource({
    connection: connectionFromUrl(url, null),
    providerReserved: 'auto',
    coderRole: 'coder',
    coderDatabase: 'coder',
    coderApplicationName: null,
    replicasFromDb: false,
    timeoutMs: 3000,
    logger: logs.logger,
    backoff: { initialMs: 10, maxMs: 50 },
    ...overrides,
  });
  return { pgSource, logs };
}
