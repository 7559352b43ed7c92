// A tiny authoritative DNS server on 127.0.0.1 (UDP, a free port) that answers A and
// AAAA questions from a table the test changes at will, so that discovery is tested
// against real DNS answers parsed by node:dns (c-ares), not a stubbed resolver.
//
// Wire format (RFC 1035 4.1): a 12-byte header, the question echoed as received, and one
// answer per address: a pointer to the question's name (0xc00c), type, class IN, TTL,
// and the 4 (A) or 16 (AAAA) address bytes. TTL 0, so no resolver caches an answer.
// A name not in the table is NXDOMAIN; a name in it without records of the type asked
// is NOERROR with no answer (NODATA); anything else we cannot answer is REFUSED.

import { createSocket, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const RCODE = { noError: 0, serverFailure: 2, nameError: 3, refused: 5 } as const;

export interface Records {
  a?: string[];
  aaaa?: string[];
}

export interface TestDnsServer {
  /** "127.0.0.1:PORT", for Resolver.setServers(). */
  address: string;
  /** Sets (replaces) the records of a name; case-insensitive, no trailing dot. */
  set(name: string, records: Records): void;
  /** The name no longer exists: NXDOMAIN. */
  remove(name: string): void;
  /** Answers every question about the name with SERVFAIL (DNS is broken, not the name). */
  fail(name: string): void;
  /** Questions answered so far, as "TYPE name". */
  questions: string[];
  close(): Promise<void>;
}

export async function startDnsServer(): Promise<TestDnsServer> {
  const zone = new Map<string, Records | 'fail'>();
  const questions: string[] = [];
  const socket: Socket = createSocket('udp4');
  socket.on('message', (message, peer) => {
    const reply = answer(message, zone, questions);
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const key = (name: string) => name.toLowerCase().replace(/\.$/, '');
  return {
    address: `127.0.0.1:${socket.address().port}`,
    set(name, records) {
      for (const address of records.a ?? []) if (!isIPv4(address)) throw new Error(`not an IPv4 address for ${name}: ${address}`);
      for (const address of records.aaaa ?? []) if (!isIPv6(address)) throw new Error(`not an IPv6 address for ${name}: ${address}`);
      zone.set(key(name), { a: [...(records.a ?? [])], aaaa: [...(records.aaaa ?? [])] });
    },
    remove: (name) => void zone.delete(key(name)),
    fail: (name) => void zone.set(key(name), 'fail'),
    questions,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The reply to one query, or null for a packet too broken to answer at all. */
function answer(query: Buffer, zone: Map<string, Records | 'fail'>, questions: string[]): Buffer | null {
  if (query.length < 12) return null;
  const header = {
    id: query.readUInt16BE(0),
    flags: query.readUInt16BE(2),
    questionCount: query.readUInt16BE(4),
  };
  const isQuery = (header.flags & 0x8000) === 0;
  const opcode = (header.flags >> 11) & 0xf;
  if (!isQuery) return null;
  const question = readQuestion(query, 12);
  if (opcode !== 0 || header.questionCount !== 1 || question === null) return reply(query, header, null, RCODE.refused, []);

  questions.push(`${question.type === TYPE_A ? 'A' : question.type === TYPE_AAAA ? 'AAAA' : question.type} ${question.name}`);
  const records = zone.get(question.name.toLowerCase());
  if (records === undefined) return reply(query, header, question, RCODE.nameError, []);
  if (records === 'fail') return reply(query, header, question, RCODE.serverFailure, []);
  if (question.class !== CLASS_IN) return reply(query, header, question, RCODE.refused, []);
  const addresses = question.type === TYPE_A ? (records.a ?? []) : question.type === TYPE_AAAA ? (records.aaaa ?? []) : [];
  return reply(query, header, question, RCODE.noError, addresses.map((address) => addressBytes(address, question.type)));
}

interface Question {
  name: string;
  type: number;
  class: number;
  /** Offset just past the question, so it can be echoed byte for byte. */
  end: number;
}

function readQuestion(packet: Buffer, offset: number): Question | null {
  const labels: string[] = [];
  let at = offset;
  for (;;) {
    if (at >= packet.length) return null;
    const length = packet[at] as number;
    // Compression pointers never appear in a question we are sent first.
    if (length > 63) return null;
    at += 1;
    if (length === 0) break;
    labels.push(packet.toString('ascii', at, at + length));
    at += length;
  }
  if (at + 4 > packet.length) return null;
  return { name: labels.join('.'), type: packet.readUInt16BE(at), class: packet.readUInt16BE(at + 2), end: at + 4 };
}

function addressBytes(address: string, type: number): Buffer {
  if (type === TYPE_A) return Buffer.from(address.split('.').map(Number));
  // Expand "::" to the missing zero groups, then write 8 groups of 16 bits.
  const [head = '', tail = ''] = address.split('::') as [string, string?];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups] : headGroups;
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}

function reply(query: Buffer, header: { id: number; flags: number }, question: Question | null, rcode: number, rdata: Buffer[]): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(header.id, 0);
  // QR=1, the query's opcode and RD, AA=1 (we are the authority), RA=1, the rcode.
  const flags = 0x8000 | (header.flags & 0x7900) | 0x0400 | 0x0080 | rcode;
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(question ? 1 : 0, 4);
  out.writeUInt16BE(rdata.length, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  if (!question) return out;
  const answers = rdata.map((data) => {
    const record = Buffer.alloc(12);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's, at offset 12
    record.writeUInt16BE(question.type, 2);
    record.writeUInt16BE(CLASS_IN, 4);
    record.writeUInt32BE(0, 6); // TTL 0: never cached
    record.writeUInt16BE(data.length, 10);
    return Buffer.concat([record, data]);
  });
  return Buffer.concat([out, query.subarray(12, question.end), ...answers]);
}
