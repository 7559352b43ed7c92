// What PostgreSQL itself says: whether it answered (or refused the monitor for want of a
// slot), its settings and reserved slots, its client backends and the live figures on them.

import type { SnapshotGauges } from './snapshot-gauges.js';

export function registerPostgresMetrics({ gauge, capacityGauge }: SnapshotGauges): void {
  gauge('postgres_up', (set, r) => set({}, r.snapshot.postgres ? 1 : 0));
  gauge('postgres_full', (set, r) => set({}, r.postgresFull ? 1 : 0));
  gauge('postgres_privileges_sufficient', (set, r) => {
    if (r.snapshot.postgres) set({}, r.snapshot.postgres.privilegesSufficient ? 1 : 0);
  });
  gauge('max_connections', (set, r) => {
    if (r.snapshot.postgres) set({}, r.snapshot.postgres.maxConnections);
  });
  gauge('reserved_connections', (set, r) => {
    const c = r.capacity;
    if (!c) return;
    set({ reason: 'superuser' }, c.reserved.superuser);
    set({ reason: 'reserved' }, c.reserved.reserved);
    set({ reason: 'provider' }, c.reserved.provider);
  });
  capacityGauge('available_connections', (c) => c.available);
  gauge('role_connection_limit', (set, r) => {
    const role = r.snapshot.postgres?.coderRole;
    if (role && role.connectionLimit >= 0) set({ role: role.name }, role.connectionLimit);
  });
  gauge('database_connection_limit', (set, r) => {
    const database = r.snapshot.postgres?.coderDatabase;
    if (database && database.connectionLimit >= 0) set({ database: database.name }, database.connectionLimit);
  });
  gauge('connections', (set, r) => {
    for (const group of r.snapshot.postgres?.connections ?? []) {
      set({ database: group.database, role: group.role, application: group.application, state: group.state, owner: group.owner }, group.count);
    }
  });
  capacityGauge('used_connections', (c) => c.used);
  capacityGauge('coder_connections', (c) => c.coder);
  capacityGauge('other_connections', (c) => c.other);
  capacityGauge('headroom_connections', (c) => c.headroom);
  capacityGauge('utilization_ratio', (c) => c.utilization);
  gauge('coder_role_superuser', (set, r) => {
    const role = r.snapshot.postgres?.coderRole;
    if (role) set({}, role.superuser ? 1 : 0);
  });
}
