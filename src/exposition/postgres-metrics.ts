// What PostgreSQL itself says: whether it answered (or refused the monitor for want of a
// slot), its settings and reserved slots, its client backends and the live figures on them.

import type { SnapshotGauges } from './snapshot-gauges.js';

export function registerPostgresMetrics({ gauge, capacityGauge }: SnapshotGauges): void {
  gauge('postgres_up', 'Whether the last poll of PostgreSQL succeeded (1) or not (0).', [], (set, r) => set({}, r.snapshot.postgres ? 1 : 0));
  gauge('postgres_full', 'Whether PostgreSQL has no slot left for an ordinary role: it refused the monitor for want of one (SQLSTATE 53300), or headroom is 0 or less.', [], (set, r) => set({}, r.postgresFull ? 1 : 0));
  gauge('postgres_privileges_sufficient', "Whether the monitor's role can see every connection's state (pg_read_all_stats, granted by pg_monitor).", [], (set, r) => {
    if (r.snapshot.postgres) set({}, r.snapshot.postgres.privilegesSufficient ? 1 : 0);
  });
  gauge('max_connections', "PostgreSQL's max_connections (M).", [], (set, r) => {
    if (r.snapshot.postgres) set({}, r.snapshot.postgres.maxConnections);
  });
  gauge('reserved_connections', 'Slots an ordinary role cannot use, by reason: superuser (S), reserved (R, PG 16+), provider (V).', ['reason'], (set, r) => {
    const c = r.capacity;
    if (!c) return;
    set({ reason: 'superuser' }, c.reserved.superuser);
    set({ reason: 'reserved' }, c.reserved.reserved);
    set({ reason: 'provider' }, c.reserved.provider);
  });
  capacityGauge('available_connections', 'Slots an ordinary role can use: A = M - S - R - V.', (c) => c.available);
  gauge('role_connection_limit', "Coder's role connection limit (rolconnlimit), when one is set.", ['role'], (set, r) => {
    const role = r.snapshot.postgres?.coderRole;
    if (role && role.connectionLimit >= 0) set({ role: role.name }, role.connectionLimit);
  });
  gauge('database_connection_limit', "Coder's database connection limit (datconnlimit), when one is set.", ['database'], (set, r) => {
    const database = r.snapshot.postgres?.coderDatabase;
    if (database && database.connectionLimit >= 0) set({ database: database.name }, database.connectionLimit);
  });
  gauge('connections', 'Client backends by database, role, application (rare ones folded into "(other)"), state and owner (coder, other, monitor).', ['database', 'role', 'application', 'state', 'owner'], (set, r) => {
    for (const group of r.snapshot.postgres?.connections ?? []) {
      set({ database: group.database, role: group.role, application: group.application, state: group.state, owner: group.owner }, group.count);
    }
  });
  capacityGauge('used_connections', "Client backends in use, all databases, the monitor's own included (U).", (c) => c.used);
  capacityGauge('coder_connections', "Client backends attributed to Coder (Uc).", (c) => c.coder);
  capacityGauge('other_connections', 'Client backends of everyone else, the monitor included (Uo = U - Uc).', (c) => c.other);
  capacityGauge('headroom_connections', 'Slots still free right now: A - U.', (c) => c.headroom);
  capacityGauge('utilization_ratio', 'Share of the available slots in use: U / A.', (c) => c.utilization);

  gauge('coder_role_superuser', "Whether Coder's role is a superuser (it can take the slots kept for admins).", [], (set, r) => {
    const role = r.snapshot.postgres?.coderRole;
    if (role) set({}, role.superuser ? 1 : 0);
  });

}
