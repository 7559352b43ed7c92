// One node-postgres client for a persistent connection (PostgreSQL, a PgBouncer admin
// console): a failed connect is ended so that no socket outlives the attempt, and a
// connection lost between polls (a restart, pg_terminate_backend) calls `onLost` instead
// of crashing the process with an unhandled 'error' event; the next poll reconnects.

import './node-navigator.js'; // before pg: see that file
import pg from 'pg';

export async function connectPersistent(config: pg.ClientConfig, onLost: (client: pg.Client) => void): Promise<pg.Client> {
  const client = new pg.Client(config);
  client.on('error', () => onLost(client));
  try {
    await client.connect();
  } catch (error) {
    void client.end().catch(() => undefined);
    throw error;
  }
  return client;
}
