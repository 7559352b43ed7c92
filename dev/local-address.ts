// Connections that come from a chosen loopback address, as a pod's come from its own IP.
// Linux routes all of 127.0.0.0/8 to lo, so a client bound to 127.0.0.2 that connects to
// 127.0.0.1 shows client_addr = 127.0.0.2 in pg_stat_activity: on one machine, each
// stand-in replica can look to PostgreSQL like a pod of its own. Not shipped: part of the
// dev harness.

import net from 'node:net';

/**
 * A socket whose TCP connect binds `localAddress` first. node-postgres calls
 * `stream.connect(port, host)` (or `connect(path)` for a Unix socket, which has no source
 * address and is left alone); TLS, when the connection string asks for it, wraps this very
 * socket after PostgreSQL's SSLRequest, so it works unchanged.
 */
export class SocketFrom extends net.Socket {
  /** Not `localAddress`: net.Socket has that getter, the address once connected. */
  readonly #bind: string;

  constructor(localAddress: string) {
    super();
    if (net.isIP(localAddress) === 0) throw new TypeError(`a local address must be an IP address, got "${localAddress}"`);
    this.#bind = localAddress;
  }

  override connect(...args: unknown[]): this {
    const [port, host, listener] = args;
    if (typeof port === 'number' && typeof host === 'string') {
      const options: net.TcpSocketConnectOpts = {
        port,
        host,
        localAddress: this.#bind,
        // The family of the address bound: a name such as 'localhost' must resolve to it.
        family: net.isIPv6(this.#bind) ? 6 : 4,
      };
      return typeof listener === 'function' ? super.connect(options, listener as () => void) : super.connect(options);
    }
    return Reflect.apply(net.Socket.prototype.connect, this, args) as this;
  }
}

/** node-postgres' `stream` option: every connection of the client comes from `localAddress`. */
export function streamFrom(localAddress: string): () => net.Socket {
  // Fails here, on a bad address, rather than at the first connection.
  if (net.isIP(localAddress) === 0) throw new TypeError(`a local address must be an IP address, got "${localAddress}"`);
  return () => new SocketFrom(localAddress);
}
