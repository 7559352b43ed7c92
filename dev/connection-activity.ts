// What a stand-in replica's pooled connections do, as PostgreSQL sees them. A connection a
// Go pool has in use is running a statement (pg_stat_activity state 'active'), or is held
// by a transaction (a sql.Tx keeps its connection: 'idle in transaction' between its
// statements); the rest of the pool sits 'idle'. Not shipped: part of the dev harness.

import net from 'node:net';
import type pg from 'pg';

export type ConnectionRole = 'idle' | 'active' | 'transaction';

/** How long a statement of an 'active' connection runs if nobody stops it: longer than any test. */
const ACTIVE_STATEMENT = 'SELECT pg_sleep(86400)';

interface Held {
  role: Exclude<ConnectionRole, 'idle'>;
  /** The running statement of an active connection; settles when it is cancelled. */
  running: Promise<unknown> | null;
}

export class ConnectionActivity {
  readonly #held = new Map<pg.Client, Held>();

  role(client: pg.Client): ConnectionRole {
    return this.#held.get(client)?.role ?? 'idle';
  }

  /** The first `transaction` clients hold an open transaction, the next `active` run a statement, the rest do nothing. */
  async arrange(clients: readonly pg.Client[], counts: { transaction: number; active: number }): Promise<void> {
    const wanted = clients.map((_, i): ConnectionRole => (i < counts.transaction ? 'transaction' : i < counts.transaction + counts.active ? 'active' : 'idle'));
    // Leave old roles first: a statement would queue behind one still running on the connection.
    await Promise.all(clients.map((client, i) => (this.role(client) === wanted[i] ? undefined : this.release(client))));
    await Promise.all(clients.map((client, i) => this.#take(client, wanted[i] as ConnectionRole)));
  }

  /** Back to idle: the statement cancelled, the transaction rolled back. */
  async release(client: pg.Client): Promise<void> {
    const held = this.#held.get(client);
    if (!held) return;
    this.#held.delete(client);
    if (held.role === 'active') await stopStatement(client, held.running as Promise<unknown>);
    else await client.query('ROLLBACK').catch(() => undefined);
  }

  /**
   * Before a connection is ended: a backend in pg_sleep does not notice its client hang up
   * until the statement ends, so it would hold its slot for a day.
   */
  releaseAll(clients: readonly pg.Client[]): Promise<unknown> {
    return Promise.all(clients.map((client) => this.release(client)));
  }

  /** The connection ended (server restart, pg_terminate_backend): nothing to release. */
  forget(client: pg.Client): void {
    this.#held.delete(client);
  }

  async #take(client: pg.Client, role: ConnectionRole): Promise<void> {
    if (role === 'idle' || this.role(client) === role) return;
    if (role === 'transaction') {
      try {
        // BEGIN; SELECT 1, then nothing: what coder/coder#21339 found pool connections doing.
        await client.query('BEGIN');
        await client.query('SELECT 1');
        this.#held.set(client, { role, running: null });
      } catch {
        // The connection broke: the pool drops it on 'end'.
      }
      return;
    }
    const running = client.query(ACTIVE_STATEMENT).catch(() => undefined);
    this.#held.set(client, { role, running });
  }
}

/**
 * Cancels the statement with PostgreSQL's CancelRequest (a message on a connection of its
 * own that never becomes a backend, so no slot is taken), again every 200 ms until the
 * statement ends: a request that arrives before the statement starts is ignored.
 */
async function stopStatement(client: pg.Client, running: Promise<unknown>): Promise<void> {
  let settled = false;
  void running.then(() => (settled = true));
  for (let attempt = 0; attempt < 50 && !settled; attempt++) {
    await sendCancelRequest(client);
    await Promise.race([running, new Promise((resolve) => setTimeout(resolve, 200))]);
  }
}

function sendCancelRequest(client: pg.Client): Promise<void> {
  const { host, port } = client;
  const { processID, secretKey } = client as unknown as { processID: number | null; secretKey: number | null };
  if (processID === null || secretKey === null) return Promise.resolve();
  return new Promise((resolve) => {
    const socket = host.startsWith('/') ? net.connect(`${host}/.s.PGSQL.${port}`) : net.connect(port, host);
    socket.once('connect', () => {
      const request = Buffer.alloc(16);
      request.writeInt32BE(16, 0);
      request.writeInt32BE(80877102, 4); // the CancelRequest code
      request.writeInt32BE(processID, 8);
      request.writeInt32BE(secretKey, 12);
      socket.end(request);
    });
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
  });
}
