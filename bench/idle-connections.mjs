// Idle client connections, held open to make pg_stat_activity as large as a busy
// server's: what a monitor's poll has to read through.

import pg from 'pg';

const BATCH = 25;

export async function holdIdleConnections(connectionString) {
  const clients = [];
  return {
    get count() {
      return clients.length;
    },
    /** Opens connections (in batches, so as not to stampede the postmaster) until `total` are open. */
    async growTo(total) {
      while (clients.length < total) {
        const batch = Math.min(BATCH, total - clients.length);
        const opened = await Promise.all(
          Array.from({ length: batch }, async () => {
            const client = new pg.Client({ connectionString, application_name: 'bench-idle' });
            client.on('error', () => undefined); // the cluster stops before we end them
            await client.connect();
            return client;
          }),
        );
        clients.push(...opened);
      }
    },
    async close() {
      await Promise.all(clients.splice(0).map((client) => client.end().catch(() => undefined)));
    },
  };
}
