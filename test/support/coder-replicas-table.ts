// Coder's `replicas` table (Enterprise) with its own columns, as its migrations create it,
// for tests of --coder.replicas-from-db: each live replica's hostname (the pod name), relay
// address (http://<pod IP>:<port>), version, error and database_latency (microseconds).

import type pg from 'pg';

export const CREATE_CODER_REPLICAS_TABLE = `CREATE TABLE replicas (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz NOT NULL DEFAULT now(),
  stopped_at timestamptz,
  updated_at timestamptz NOT NULL,
  hostname text NOT NULL,
  region_id integer NOT NULL DEFAULT 0,
  relay_address text NOT NULL,
  database_latency integer NOT NULL,
  version text NOT NULL,
  error text NOT NULL DEFAULT '',
  "primary" boolean NOT NULL DEFAULT true
)`;

export interface ReplicaRowInput {
  hostname: string;
  relayAddress: string;
  /** database_latency as Coder writes it: microseconds. */
  latencyMicroseconds: number;
  version?: string;
  error?: string;
  primary?: boolean;
  /** How long ago its last heartbeat was; 0 = now. */
  secondsAgo?: number;
}

export async function insertReplicaRows(db: pg.ClientBase, rows: ReplicaRowInput[]): Promise<void> {
  for (const row of rows) {
    await db.query(
      `INSERT INTO replicas (hostname, relay_address, database_latency, version, error, "primary", updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() - make_interval(secs => $7))`,
      [row.hostname, row.relayAddress, row.latencyMicroseconds, row.version ?? 'v2.30.0', row.error ?? '', row.primary ?? true, row.secondsAgo ?? 0],
    );
  }
}
