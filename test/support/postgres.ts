// Tests use the same embedded PostgreSQL as `npm run demo` (dev/embedded-postgres.ts).
export { startPostgres, type StartPostgresOptions, type TestPostgres } from '../../dev/embedded-postgres.js';
