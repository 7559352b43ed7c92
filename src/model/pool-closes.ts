// Why a replica's pool closed a connection, one name per reason all the way: coderd counts
// each in go_sql_<reason>_closed_total, the parser and the snapshot key the count by
// <reason>, and our replica_closed_connections_total carries it as reason="<reason>".

export const poolCloseReasons = ['max_idle', 'max_idle_time', 'max_lifetime'] as const;
export type PoolCloseReason = (typeof poolCloseReasons)[number];

/** Connections a pool closed (and will reopen), by reason; null = that family was not in the body. */
export type PoolCloses = Record<PoolCloseReason, number | null>;
