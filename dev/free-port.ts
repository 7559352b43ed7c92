// A loopback port that was free a moment ago, for a child process (PgBouncer, Prometheus,
// Alertmanager) that must be told its port before it starts.

import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
