// Why PostgreSQL could not be polled, as a kind a person tells apart at a glance. A
// refusal for want of slots is not an outage: it is the measurement that PostgreSQL is
// full, and on PostgreSQL 13 to 15 (no slot can be reserved for the monitor) the only
// one left after the monitor lost its connection.

export type PostgresFailureKind = 'full' | 'authentication' | 'database-missing' | 'not-postgres' | 'unreachable';

export interface PostgresFailure {
  kind: PostgresFailureKind;
  /** SQLSTATE or Node error code, when there is one. */
  code: string | null;
  /** What failed, with which input, and what to do next. */
  message: string;
}

/**
 * SQLSTATE 53300 covers both "sorry, too many clients already" and "remaining connection
 * slots are reserved for ..." (superuser_reserved_connections, reserved_connections).
 */
export function postgresFailureKind(code: string | null): PostgresFailureKind {
  switch (code) {
    case '53300':
      return 'full';
    case '28P01':
    case '28000':
    case 'iam_token':
      return 'authentication';
    case '3D000':
      return 'database-missing';
    case 'not_postgres':
      return 'not-postgres';
    default:
      return 'unreachable';
  }
}
