// A real PgBouncer for the tests: the harness's (dev/pgbouncer.ts, which the demo shares),
// with Debian's package `pgbouncer` installed first when it is missing (as root), or a
// failure naming it: never a skip.
import { startPgbouncer as startHarnessPgbouncer, type StartPgbouncerOptions, type TestPgbouncer } from '../../dev/pgbouncer.js';
import { ensureDebianPackages } from './prometheus-stack.js';

export * from '../../dev/pgbouncer.js';

export async function startPgbouncer(options: StartPgbouncerOptions): Promise<TestPgbouncer> {
  ensureDebianPackages(['pgbouncer']);
  return startHarnessPgbouncer(options);
}
