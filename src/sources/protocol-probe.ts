// What answers on a port that dropped our PostgreSQL startup: node-postgres reports only
// "Connection terminated unexpectedly", whether PostgreSQL hung up or a web server (a
// coderd port pasted into --postgres.url) answered "HTTP/1.1 400". One SSLRequest tells
// them apart: PostgreSQL answers a single byte, S or N; anything else is not PostgreSQL.

import { connect } from 'node:net';

export type ProbedProtocol = 'postgres' | 'http' | 'other' | 'no-answer';

/** The 8-byte SSLRequest: length 8, code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

export function probeProtocol(host: string, port: number, timeoutMs: number): Promise<ProbedProtocol> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (protocol: ProbedProtocol) => {
      socket.destroy();
      resolve(protocol);
    };
    socket.setTimeout(timeoutMs, () => done('no-answer'));
    socket.once('error', () => done('no-answer'));
    socket.once('connect', () => socket.write(SSL_REQUEST));
    socket.once('data', (data: Buffer) => {
      const text = data.subarray(0, 5).toString('latin1');
      if (text === 'HTTP/') done('http');
      else if (data.length === 1 && (data[0] === 0x53 || data[0] === 0x4e)) done('postgres');
      else done('other');
    });
    socket.once('end', () => done('no-answer'));
  });
}
