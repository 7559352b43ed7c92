// Tests use the same embedded PostgreSQL as `coder-pg-capacity demo`.
export { startPostgres, type StartPostgresOptions, type TestPostgres } from '../../src/demo/embedded-postgres.js';
