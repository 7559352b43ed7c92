// A TCP proxy in front of PostgreSQL that counts what crosses it: bytes each way, new
// connections, and the statements clients run (simple-protocol Query and extended-protocol
// Execute messages, read from the frontend stream). It measures any client the same
// way, ours and postgres_exporter alike, without trusting either one's own numbers.

import net from 'node:net';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** Reads PostgreSQL frontend messages from a byte stream and counts Query/Execute. */
class FrontendMessageCounter {
  #startup = true;
  #header = Buffer.alloc(0);
  /** Bytes of the current message body still to skip. */
  #skip = 0;
  statements = 0;

  push(data) {
    let at = 0;
    while (at < data.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, data.length - at);
        this.#skip -= n;
        at += n;
        continue;
      }
      // Startup-phase messages have no type byte: length(4) + code(4); later ones type(1) + length(4).
      const headerBytes = this.#startup ? 8 : 5;
      const need = headerBytes - this.#header.length;
      const take = data.subarray(at, at + need);
      this.#header = Buffer.concat([this.#header, take]);
      at += take.length;
      if (this.#header.length < headerBytes) return;
      if (this.#startup) {
        const length = this.#header.readInt32BE(0);
        const code = this.#header.readInt32BE(4);
        // After an SSL or GSS request the real startup message follows, still untyped.
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.#startup = false;
        this.#skip = length - 8;
      } else {
        const type = String.fromCharCode(this.#header[0]);
        if (type === 'Q' || type === 'E') this.statements++;
        this.#skip = this.#header.readInt32BE(1) - 4;
      }
      this.#header = Buffer.alloc(0);
    }
  }
}

/**
 * Starts a proxy on a free loopback port forwarding to target. totals() returns the counts
 * so far; take differences around what you measure.
 */
export async function startCountingProxy(targetPort, targetHost = '127.0.0.1') {
  const counts = { connections: 0, bytesFromServer: 0, bytesToServer: 0, statements: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    counts.connections++;
    const upstream = net.connect(targetPort, targetHost);
    const frontend = new FrontendMessageCounter();
    let counted = 0;
    sockets.add(client).add(upstream);
    client.on('data', (data) => {
      counts.bytesToServer += data.length;
      frontend.push(data);
      counts.statements += frontend.statements - counted;
      counted = frontend.statements;
    });
    upstream.on('data', (data) => {
      counts.bytesFromServer += data.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    totals: () => ({ ...counts }),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** b - a, field by field. */
export function countsBetween(a, b) {
  return Object.fromEntries(Object.keys(b).map((key) => [key, b[key] - a[key]]));
}
